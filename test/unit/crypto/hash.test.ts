import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js'
import { describe, expect, it } from 'vitest'
import { sha256 } from '../../../src/crypto/hash.ts'
import { rng } from '../../support/ed25519-cases.ts'

describe('sha256', () => {
  it('gives noble\'s digest on every length, in one part or several, as a plain Uint8Array', () => {
    const r = rng(99)
    for (let n = 0; n < 300; n++) {
      const data = r.bytes(n * 7)
      const digest = sha256(data)
      expect(digest.constructor).toBe(Uint8Array)
      expect(digest).toEqual(nobleSha256(data))
      expect(sha256(data.subarray(0, n), data.subarray(n))).toEqual(digest)
    }
  })
})
