import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import * as b from '../../../src/client/transactions.ts'
import { encodeCanonical } from '../../../src/codec/canonical.ts'
import { assembleSignedTx, encodeUnsignedTx } from '../../../src/codec/tx.ts'
import { ErrorCode } from '../../../src/protocol/errors.ts'
import { readPost } from '../../../src/state/transition.ts'
import { type Fixture, makeFixture, readAccount } from '../../support/chain.ts'

let fx: Fixture
beforeEach(async () => { fx = await makeFixture({ params: { unbondingBlocks: 2, maxPostBytes: 64 } }) })
afterEach(async () => { await fx.close() })

async function ok (signer: b.Signer, body: Parameters<Fixture['tx']>[1]) {
  const tx = await fx.tx(signer, body)
  expect(await fx.submitCode(tx)).toBe('OK')
  return tx
}

describe('state transition through the mempool and blocks', () => {
  it('applies every kind, with counters, fees to the proposer, and nonces', async () => {
    const [alice, bob, carol] = fx.users as [b.Signer, b.Signer, b.Signer]
    const t1 = await ok(alice, b.transfer(bob.publicKey, 500n))
    await ok(alice, b.profile({ username: 'alice', displayName: 'Alice', bio: 'hi', avatarUrl: 'https://a.example/x.png' }))
    const p1 = await ok(alice, b.post('hello world'))
    await fx.block()
    const r1 = await ok(bob, b.reply(p1.id, 'hi alice'))
    const rp = await ok(carol, b.repost(p1.id))
    await ok(bob, b.follow(alice.publicKey))
    await ok(carol, b.follow(alice.publicKey))
    await ok(bob, b.like(p1.id))
    await ok(carol, b.like(p1.id))
    await fx.block()
    await ok(carol, b.unlike(p1.id))
    await ok(carol, b.unfollow(alice.publicKey))
    await ok(bob, b.stake(1000n))
    await fx.block()

    const a = await readAccount(fx.store, alice.publicKey)
    expect(a.nonce).toBe(3)
    expect(a.username).toBe('alice')
    expect(a.displayName).toBe('Alice')
    expect(a.postCount).toBe(1)
    expect(a.followerCount).toBe(1)
    expect(t1.unsigned.fee).toBeGreaterThan(0n)
    expect(a.balance).toBe(1_000_000_000n - 500n - await feesOf(alice))
    const post = (await readPost(fx.store, p1.id))!
    expect(post.likeCount).toBe(1)
    expect(post.replyCount).toBe(1)
    expect(post.repostCount).toBe(1)
    expect((await readPost(fx.store, r1.id))!.replyTo).toEqual(p1.id)
    expect((await readPost(fx.store, rp.id))!.repostOf).toEqual(p1.id)
    const bobAcct = await readAccount(fx.store, bob.publicKey)
    expect(bobAcct.stake).toBe(1000n)
    expect(bobAcct.followingCount).toBe(1)
    const v = await readAccount(fx.store, fx.validator.publicKey)
    expect(v.balance).toBeGreaterThan(0n) // fees went to the proposer
  })

  /** Fees `signer` paid, read back from the committed blocks. */
  async function feesOf (signer: b.Signer): Promise<bigint> {
    let sum = 0n
    for (let h = 1; h <= fx.chain.head.height; h++) {
      for (const tx of (await fx.chain.getBlock(h))!.txs) if (Buffer.from(tx.unsigned.sender).equals(Buffer.from(signer.publicKey))) sum += tx.unsigned.fee
    }
    return sum
  }

  it('frees a username when it changes, and clears fields with ""', async () => {
    const [alice, bob] = fx.users as [b.Signer, b.Signer]
    await ok(alice, b.profile({ username: 'first', bio: 'x' }))
    await fx.block()
    await ok(alice, b.profile({ username: 'second', bio: '' }))
    await fx.block()
    await ok(bob, b.profile({ username: 'first' }))
    await fx.block()
    expect((await readAccount(fx.store, alice.publicKey)).username).toBe('second')
    expect((await readAccount(fx.store, alice.publicKey)).bio).toBe('')
    expect((await readAccount(fx.store, bob.publicKey)).username).toBe('first')
  })

  it('returns unstaked coins after unbondingBlocks', async () => {
    const [alice] = fx.users as [b.Signer]
    await ok(alice, b.stake(1000n))
    await fx.block()
    await ok(alice, b.unstake(400n))
    const h = (await fx.block()).block.header.height
    let a = await readAccount(fx.store, alice.publicKey)
    expect(a.stake).toBe(600n)
    expect(a.unbonding).toBe(400n)
    const before = a.balance
    while (fx.chain.head.height < h + 2) await fx.block([])
    a = await readAccount(fx.store, alice.publicKey)
    expect(a.unbonding).toBe(0n)
    expect(a.balance).toBe(before + 400n)
  })

  it('reaches every transaction error code', async () => {
    const [alice, bob, carol] = fx.users as [b.Signer, b.Signer, b.Signer]
    const poor = b.Signer.generate()
    const p1 = await ok(alice, b.post('first'))
    await fx.block()
    await ok(bob, b.profile({ username: 'bobby' }))
    await ok(bob, b.follow(alice.publicKey))
    await ok(bob, b.like(p1.id))
    await fx.block()

    const code = async (signer: b.Signer, body: Parameters<Fixture['tx']>[1], over = {}) => await fx.submitCode(await fx.tx(signer, body, over))
    const good = await fx.tx(alice, b.post('x'))
    const badSig = assembleSignedTx(good.unsignedBytes, good.signature.map((x, i) => i === 5 ? x ^ 1 : x))
    expect(await fx.submitCode(badSig)).toBe(ErrorCode.BAD_SIGNATURE)
    expect(await code(alice, b.post('x'), { chainId: 'other-chain' })).toBe(ErrorCode.WRONG_CHAIN)
    expect(await code(alice, b.post('x'), { nonce: 0 })).toBe(ErrorCode.BAD_NONCE)
    expect(await code(alice, b.post('x'), { nonce: 99 })).toBe(ErrorCode.BAD_NONCE)
    expect(await code(alice, b.post('x'), { fee: 1n })).toBe(ErrorCode.FEE_TOO_LOW)
    expect(await code(poor, b.post('x'))).toBe(ErrorCode.INSUFFICIENT_FUNDS)
    expect(await code(alice, b.transfer(bob.publicKey, 10n ** 12n))).toBe(ErrorCode.INSUFFICIENT_FUNDS)
    expect(await code(alice, b.unstake(5n))).toBe(ErrorCode.INSUFFICIENT_STAKE)
    expect(await code(alice, b.transfer(bob.publicKey, 0n))).toBe(ErrorCode.INVALID_AMOUNT)
    expect(await code(alice, b.post(''))).toBe(ErrorCode.INVALID_FIELD)
    expect(await code(alice, { kind: 'post', text: 'x', replyTo: p1.id, repostOf: p1.id })).toBe(ErrorCode.INVALID_FIELD)
    expect(await code(alice, b.profile({ avatarUrl: 'javascript:alert(1)' }))).toBe(ErrorCode.INVALID_FIELD)
    expect(await code(alice, b.profile({ username: 'No Caps' }))).toBe(ErrorCode.INVALID_USERNAME)
    expect(await code(alice, b.profile({ username: 'ab' }))).toBe(ErrorCode.INVALID_USERNAME)
    expect(await code(carol, b.profile({ username: 'bobby' }))).toBe(ErrorCode.USERNAME_TAKEN)
    expect(await code(alice, b.like(new Uint8Array(32)))).toBe(ErrorCode.NOT_FOUND)
    expect(await code(alice, b.reply(new Uint8Array(32), 'x'))).toBe(ErrorCode.NOT_FOUND)
    expect(await code(alice, b.follow(alice.publicKey))).toBe(ErrorCode.SELF_FOLLOW)
    expect(await code(bob, b.follow(alice.publicKey))).toBe(ErrorCode.ALREADY_FOLLOWING)
    expect(await code(carol, b.unfollow(alice.publicKey))).toBe(ErrorCode.NOT_FOLLOWING)
    expect(await code(bob, b.like(p1.id))).toBe(ErrorCode.ALREADY_LIKED)
    expect(await code(carol, b.unlike(p1.id))).toBe(ErrorCode.NOT_LIKED)
    expect(await code(alice, b.post('x'.repeat(65)))).toBe(ErrorCode.TOO_LARGE)
    expect(await code(alice, b.profile({ bio: 'x'.repeat(513) }))).toBe(ErrorCode.TOO_LARGE)
    const once = await fx.tx(carol, b.post('once'))
    expect(await fx.submitCode(once)).toBe('OK')
    expect(await fx.submitCode(once)).toBe(ErrorCode.ALREADY_KNOWN)
    await fx.block()
    expect(await fx.submitCode(once)).toBe(ErrorCode.ALREADY_KNOWN) // replay of an included tx
    // codec-level codes through the same door
    expect(await fx.submitCode(Uint8Array.of(0x92, 0x01))).toBe(ErrorCode.MALFORMED)
    expect(await fx.submitCode(Uint8Array.of(0xcc, 0x01))).toBe(ErrorCode.NON_CANONICAL)
    expect(await fx.submitCode(encodeCanonical([encodeCanonical([9, 'c', 0, alice.publicKey, 0, 0, [bob.publicKey, 1]]), new Uint8Array(64)]))).toBe(ErrorCode.UNKNOWN_VERSION)
    expect(await fx.submitCode(encodeCanonical([encodeCanonical([1, 'c', 77, alice.publicKey, 0, 0, []]), new Uint8Array(64)]))).toBe(ErrorCode.UNKNOWN_KIND)
    expect(await fx.submitCode(new Uint8Array(9000))).toBe(ErrorCode.TOO_LARGE)
    expect(encodeUnsignedTx(good.unsigned)).toEqual(good.unsignedBytes)
  })
})
