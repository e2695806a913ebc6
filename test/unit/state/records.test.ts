/**
 * Stored records decode through the trusted path: every record encodeAccount / encodePost
 * writes reads back as what was written, exactly as the checked (wire) decode reads it.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeCanonical } from '../../../src/codec/canonical.ts'
import { type Account, type Post, decodeAccount, decodeAmount, decodePost, encodeAccount, encodeAmount, encodePost } from '../../../src/state/records.ts'
import { amount, bytes32 } from '../../support/arbitraries.ts'

const text = fc.string({ unit: 'grapheme', maxLength: 80 }).map((s) => s.normalize('NFC'))
const uint = fc.oneof(fc.nat(), fc.maxSafeInteger().map(Math.abs))
const account: fc.Arbitrary<Account> = fc.record({
  balance: amount, nonce: uint, stake: amount, unbonding: amount, username: fc.option(text, { nil: null }),
  displayName: text, bio: text, avatarUrl: text, postCount: uint, followerCount: uint, followingCount: uint
})
const post: fc.Arbitrary<Post> = fc.record({
  author: bytes32, text, replyTo: fc.option(bytes32, { nil: null }), repostOf: fc.option(bytes32, { nil: null }),
  height: uint, index: uint, timeMs: uint, likeCount: uint, replyCount: uint, repostCount: uint
})

describe('stored records (trusted decode)', () => {
  it('an account reads back as written, and the bytes are canonical', () => {
    fc.assert(fc.property(account, (a) => {
      const b = encodeAccount(a)
      expect(decodeAccount(b)).toEqual(a)
      expect(() => decodeCanonical(b, 1 << 20)).not.toThrow()
    }), { numRuns: 1000 })
  })

  it('a post reads back as written, and the bytes are canonical', () => {
    fc.assert(fc.property(post, (p) => {
      const b = encodePost(p)
      expect(decodePost(b)).toEqual(p)
      expect(() => decodeCanonical(b, 1 << 20)).not.toThrow()
    }), { numRuns: 1000 })
  })

  it('an amount reads back as written', () => {
    fc.assert(fc.property(amount, (n) => { expect(decodeAmount(encodeAmount(n))).toBe(n) }))
  })
})
