import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import * as b from '../../../src/client/transactions.ts'
import { type Fixture, makeFixture } from '../../support/chain.ts'

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
