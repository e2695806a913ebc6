import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import * as b from '../../../src/client/transactions.ts'
import { type BatchVerifyFn, inlineBatchVerify } from '../../../src/crypto/signature-batch.ts'
import { verifySignature } from '../../../src/crypto/verify.ts'
import type { SignedTx } from '../../../src/protocol/types.ts'
import { type Fixture, commitFor, makeFixture } from '../../support/chain.ts'

let fx: Fixture
// room for a handful of small txs: the sender views get only what the mempool leaves free
beforeEach(async () => { fx = await makeFixture({ mempool: { maxTxs: 100, maxBytes: 14_000, maxPerSender: 10 } }) })
afterEach(async () => { await fx.close() })

describe('tx pool sender views', () => {
  it('stay within what the mempool leaves free, and a sender whose view was dropped is still checked against its pending txs', async () => {
    const [alice, bob] = fx.users as [b.Signer, b.Signer]
    const withinBound = () => {
      const v = fx.pool.senderViewStats
      expect(v.senders === 1 || v.bytes <= v.maxBytes).toBe(true)
    }
    const first = await fx.tx(alice, b.post('first'))
    expect(await fx.submitCode(first)).toBe('OK')
    let dropped = 0
    for (let i = 0; i < 3; i++) {
      // bob's admissions in between push alice's view out once the mempool fills
      expect(await fx.submitCode(await fx.tx(bob, b.post(`bob ${i}`)))).toBe('OK')
      withinBound()
      if (fx.pool.senderViewStats.senders === 1) dropped += 1
      // alice's next tx depends on her pending ones: a reply to her pending post
      expect(await fx.submitCode(await fx.tx(alice, b.reply(first.id, `reply ${i}`)))).toBe('OK')
      withinBound()
    }
    expect(dropped).toBeGreaterThan(0)
    // her balance as her pending txs left it: spending it all twice is refused
    const balance = 1_000_000_000n
    expect(await fx.submitCode(await fx.tx(alice, b.transfer(bob.publicKey, balance / 2n)))).toBe('OK')
    expect(await fx.submitCode(await fx.tx(bob, b.post('bob again')))).toBe('OK')
    expect(await fx.submitCode(await fx.tx(alice, b.transfer(bob.publicKey, balance / 2n)))).toBe('INSUFFICIENT_FUNDS')
    withinBound()
  })

  it('are all dropped at a commit: they are of the old head', async () => {
    const [alice, bob] = fx.users as [b.Signer, b.Signer]
    await fx.pool.submitDecoded(await fx.tx(alice, b.post('a')))
    await fx.pool.submitDecoded(await fx.tx(bob, b.post('b')))
    expect(fx.pool.senderViewStats.senders).toBeGreaterThan(0)
    await fx.block()
    expect(fx.pool.senderViewStats).toMatchObject({ senders: 0, bytes: 0 })
    expect(await fx.submitCode(await fx.tx(alice, b.post('after')))).toBe('OK')
  })
})

describe('tx pool admission in batches', () => {
  it('admits txs offered in one turn together, each answered on its own, and a throwing listener fails none of them', async () => {
    const [alice, bob] = fx.users as [b.Signer, b.Signer]
    const heard: string[] = []
    fx.pool.onLocalTx(() => { throw new Error('a listener that throws') })
    fx.pool.onLocalTx((tx) => heard.push(Buffer.from(tx.id).toString('hex')))
    const a0 = await fx.tx(alice, b.post('a0'))
    const a1 = await fx.tx(alice, b.post('a1'), { nonce: a0.unsigned.nonce + 1 }) // both offered before either is pending
    const bad = await fx.tx(bob, b.follow(bob.publicKey))
    const results = await Promise.allSettled([a0, a1, a0, bad].map(async (tx) => await fx.pool.submitDecoded(tx)))
    expect(results.map((r) => r.status === 'fulfilled' ? 'OK' : (r.reason as { code: string }).code)).toEqual(['OK', 'OK', 'ALREADY_KNOWN', 'SELF_FOLLOW'])
    expect(heard).toEqual([a0, a1].map((t) => Buffer.from(t.id).toString('hex')))
    expect(fx.pool.mempool.size).toBe(2)
  })
})

/** Holds the store's next batch until released (LevelDB then writes it) or failed. */
function holdNextBatch (store: Fixture['store']): { handedOver: Promise<void>, release: () => void, fail: () => void } {
  const commit = store.commit.bind(store)
  let handOver!: () => void
  const handedOver = new Promise<void>((resolve) => { handOver = resolve })
  let decide!: (ok: boolean) => void
  const decided = new Promise<boolean>((resolve) => { decide = resolve })
  store.commit = async (writes, sync) => {
    store.commit = commit
    handOver()
    if (!await decided) throw new Error('disk full')
    return await commit(writes, sync)
  }
  return { handedOver, release: () => decide(true), fail: () => decide(false) }
}

const hex = (tx: SignedTx): string => Buffer.from(tx.id).toString('hex')

describe('admission in chunks', () => {
  it('dry-runs a turn\'s txs in order even when later chunks\' signatures are answered first', async () => {
    // the rule's answers, each batch held back less than the one before: the last chunk is answered first
    let delay = 200
    const verifyBatch: BatchVerifyFn = async (checks) => {
      delay = Math.max(0, delay - 40)
      await new Promise((resolve) => setTimeout(resolve, delay))
      return await inlineBatchVerify(verifySignature)(checks)
    }
    const own = await makeFixture({ mempool: { maxTxs: 1_000, maxBytes: 1_000_000, maxPerSender: 500 }, verifyBatch })
    try {
      const [alice, bob] = own.users as [b.Signer, b.Signer]
      const first = await own.tx(alice, b.post('0'))
      const txs = [first, ...await Promise.all(Array.from({ length: 159 }, async (_, i) => await own.tx(alice, b.post(`${i + 1}`), { nonce: first.unsigned.nonce + i + 1 })))]
      const forged = { ...await own.tx(bob, b.post('forged')), signature: new Uint8Array(64) }
      txs.splice(100, 0, forged) // one bad signature in a middle chunk is refused alone
      const codes = await Promise.all(txs.map(async (tx) => await own.submitCode(tx)))
      expect(codes.filter((c) => c === 'OK')).toHaveLength(160)
      expect(codes[100]).toBe('BAD_SIGNATURE')
      expect(own.pool.mempool.pendingFor(alice.publicKey).map((t) => t.unsigned.nonce)).toEqual(Array.from({ length: 160 }, (_, i) => first.unsigned.nonce + i))
    } finally {
      await own.close()
    }
  })
})

describe('admission while a decided block is written', () => {
  it('dry-runs against the block being written, without waiting for its fsync; the head moves once it is durable', async () => {
    const [alice, bob] = fx.users as [b.Signer, b.Signer]
    const a0 = await fx.tx(alice, b.post('a0'))
    expect(await fx.submitCode(a0)).toBe('OK')
    const built = await fx.chain.buildBlock(fx.pool.mempool.ordered(), fx.validator.publicKey, fx.chain.head.timeMs + 1000, null)
    const held = holdNextBatch(fx.store)
    const committing = fx.chain.commitBlock(built, commitFor(built, fx.validator))
    await held.handedOver
    expect(fx.chain.head.height).toBe(0)
    // nonce 1 follows a0, which only the block being written applies; a0 itself is still pooled
    expect(await fx.pool.nextNonce(alice.publicKey)).toBe(1)
    const a1 = await fx.tx(alice, b.post('a1'))
    expect(a1.unsigned.nonce).toBe(1)
    // before, an admission waited on the lock until the batch was durable: here it would never be
    const answer = await Promise.race([fx.submitCode(a1), committing.then(() => 'waited for the commit')])
    expect(answer).toBe('OK')
    expect(await fx.submitCode(a0)).toBe('ALREADY_KNOWN')
    expect(await fx.submitCode(await fx.tx(bob, b.post('b0')))).toBe('OK')
    held.release()
    expect(await committing).toBe(true)
    expect(fx.chain.head.height).toBe(1)
    expect(fx.pool.mempool.size).toBe(2)
    const next = await fx.block()
    expect(next.block.txs).toHaveLength(2)
    expect(next.block.txs.map(hex)).toContain(hex(a1))
    expect(next.execution.rejected).toEqual([])
  })

  it('builds and checks no block on a state still being written', async () => {
    const [alice] = fx.users as [b.Signer, b.Signer]
    expect(await fx.submitCode(await fx.tx(alice, b.post('a0')))).toBe('OK')
    const first = await fx.chain.buildBlock(fx.pool.mempool.ordered(), fx.validator.publicKey, fx.chain.head.timeMs + 1000, null)
    const held = holdNextBatch(fx.store)
    const committing = fx.chain.commitBlock(first, commitFor(first, fx.validator))
    await held.handedOver
    const building = fx.chain.buildBlock([], fx.validator.publicKey, first.block.header.timeMs + 1000, commitFor(first, fx.validator))
    held.release()
    await committing
    // built on the block that was being written, not on the head as it stood when asked
    expect((await building).block.header.height).toBe(2)
  })

  it('leaves the head and the mempool as they were when the batch fails, and the block commits on a retry', async () => {
    const [alice] = fx.users as [b.Signer, b.Signer]
    const a0 = await fx.tx(alice, b.post('a0'))
    expect(await fx.submitCode(a0)).toBe('OK')
    const built = await fx.chain.buildBlock(fx.pool.mempool.ordered(), fx.validator.publicKey, fx.chain.head.timeMs + 1000, null)
    const commit = commitFor(built, fx.validator)
    const held = holdNextBatch(fx.store)
    const committing = fx.chain.commitBlock(built, commit)
    await held.handedOver
    held.fail()
    await expect(committing).rejects.toThrow('disk full')
    expect(fx.chain.head.height).toBe(0)
    expect(fx.chain.admissionBase().head.height).toBe(0)
    expect(fx.pool.mempool.has(a0.id)).toBe(true)
    expect(await fx.pool.nextNonce(alice.publicKey)).toBe(1)
    const retry = holdNextBatch(fx.store)
    const again = fx.chain.commitBlock(built, commit)
    retry.release()
    expect(await again).toBe(true)
    expect(fx.chain.head.height).toBe(1)
    expect(fx.pool.mempool.size).toBe(0)
  })
})
