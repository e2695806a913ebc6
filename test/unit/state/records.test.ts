/**
 * Stored records decode through the trusted path: every record encodeAccount / encodePost
 * writes reads back as what was written, exactly as the checked (wire) decode reads it.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MemoryLevel } from 'memory-level'
import * as b from '../../../src/client/transactions.ts'
import { type Value, assertEncodable, decodeCanonical, encodeCanonical } from '../../../src/codec/canonical.ts'
import { type ChorusError, ErrorCode } from '../../../src/protocol/errors.ts'
import { DEFAULT_PARAMS } from '../../../src/protocol/params.ts'
import { Bucket } from '../../../src/state/buckets.ts'
import { type Account, type Post, decodeAccount, decodeAmount, decodePost, emptyAccount, encodeAccount, encodeAmount, encodePost } from '../../../src/state/records.ts'
import { Store } from '../../../src/state/store.ts'
import { applyTx } from '../../../src/state/transition.ts'
import { StateView } from '../../../src/state/view.ts'
import { amount, bytes32, value } from '../../support/arbitraries.ts'

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

describe('records written as objects, encoded later (RecordWrite)', () => {
  it('assertEncodable throws exactly what encodeCanonical throws', () => {
    const outcome = (f: () => unknown): string => { try { f(); return 'ok' } catch (e) { return `${(e as ChorusError).code}: ${(e as Error).message}` } }
    const bad: unknown[] = [1.5, NaN, 2 ** 53, 1n << 64n, -(1n << 63n) - 1n, undefined, {}, [1, [2, 2 ** 60]], [(1n << 64n) - 1n, -(1n << 63n)]]
    for (const v of bad) expect(outcome(() => assertEncodable(v as Value))).toBe(outcome(() => encodeCanonical(v as Value)))
    fc.assert(fc.property(value, (v) => { expect(outcome(() => assertEncodable(v))).toBe('ok') }), { numRuns: 500 })
  })

  it('a transfer that would take a balance past 2^64−1 still fails its tx (MALFORMED), and the view keeps nothing of it', async () => {
    const [alice, bob] = [b.Signer.generate(), b.Signer.generate()]
    const store = await Store.wrap(new MemoryLevel<Uint8Array, Uint8Array>({ keyEncoding: 'view', valueEncoding: 'view' }) as never)
    const max = (1n << 64n) - 1n
    await store.commit([
      { bucket: Bucket.account, key: alice.publicKey, value: encodeAccount({ ...emptyAccount(), balance: max }) },
      { bucket: Bucket.account, key: bob.publicKey, value: encodeAccount({ ...emptyAccount(), balance: max - 5n }) }
    ])
    const tx = alice.sign({ chainId: 'c', nonce: 0, fee: 1n, body: b.transfer(bob.publicKey, 10n) }).tx
    const view = new StateView(store)
    const child = view.child()
    const ctx = { height: 1, timeMs: 1, index: 0, proposer: alice.publicKey, params: DEFAULT_PARAMS }
    expect(() => applyTx(child, tx, ctx)).toThrow(expect.objectContaining({ code: ErrorCode.MALFORMED }))
    expect(view.sortedWrites()).toEqual([])
    // within the bound it applies, and the lazily encoded bytes are the eager encoding of the result
    const ok = alice.sign({ chainId: 'c', nonce: 0, fee: 1n, body: b.transfer(bob.publicKey, 5n) }).tx
    await applyTx(view, ok, ctx)
    const expected = new Map([
      [Buffer.from(alice.publicKey).toString('hex'), encodeAccount({ ...emptyAccount(), balance: max - 5n, nonce: 1 })],
      [Buffer.from(bob.publicKey).toString('hex'), encodeAccount({ ...emptyAccount(), balance: max })]
    ])
    const writes = view.sortedWrites()
    expect(writes).toHaveLength(2)
    for (const w of writes) expect(w.value).toEqual(expected.get(Buffer.from(w.key).toString('hex')))
    expect(decodeAccount(await view.get(Bucket.account, bob.publicKey) as Uint8Array).balance).toBe(max)
    expect(decodeAccount(await view.get(Bucket.account, alice.publicKey) as Uint8Array)).toEqual({ ...emptyAccount(), balance: max - 5n, nonce: 1 })
    await store.close()
  })
})
