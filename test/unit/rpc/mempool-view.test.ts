/** mempool_status and mempool_list's reading of the pool: the fee summary, the list order, and cursors that survive churn. */
import { describe, expect, it } from 'vitest'
import { Mempool } from '../../../src/chain/mempool.ts'
import { toHex } from '../../../src/crypto/bytes.ts'
import { ChorusError } from '../../../src/protocol/errors.ts'
import type { SignedTx } from '../../../src/protocol/types.ts'
import { formatRate, mempoolPage, mempoolStatus } from '../../../src/rpc/mempool-view.ts'

let n = 0
/** A tx as the pool keeps it (the pool checks no signature): `size` encoded bytes paying `fee`. */
function tx (fee: bigint, size: number, sender = n): SignedTx {
  const i = n++
  const id = new Uint8Array(32)
  id[0] = 255 - (i % 256)
  id[31] = i % 256
  const bytes = new Uint8Array(size)
  const who = new Uint8Array(32).fill(sender % 256)
  return { id, bytes, signature: new Uint8Array(64), unsignedBytes: bytes, unsigned: { chainId: 't', sender: who, nonce: 0, fee, body: { kind: 'post', text: 'x', replyTo: null, repostOf: null } } } as unknown as SignedTx
}

const ids = (txs: readonly SignedTx[]) => txs.map((t) => toHex(t.id))

/** Every page, following cursors. */
function pages (pool: Mempool, limit: number): SignedTx[][] {
  const out: SignedTx[][] = []
  let cursor: string | null = null
  do {
    const page = mempoolPage(pool, cursor, limit)
    out.push(page.items)
    cursor = page.cursor
  } while (cursor !== null)
  return out
}

describe('the mempool as the RPC reads it', () => {
  it('summarises count, encoded bytes and fee per byte; nothing pending is a null summary', () => {
    const pool = new Mempool()
    expect(mempoolStatus(pool)).toEqual({ count: 0, bytes: 0, feePerByte: null })
    expect(mempoolPage(pool, null, 20)).toEqual({ items: [], cursor: null })
    for (const [fee, size] of [[100n, 100], [300n, 200], [250n, 100], [201n, 200]] as const) pool.add(tx(fee, size))
    // rates 1, 1.5, 2.5, 1.005: min 1, median (the lower middle) 1.005, max 2.5
    expect(mempoolStatus(pool)).toEqual({ count: 4, bytes: 600, feePerByte: { min: '1', median: '1.005', max: '2.5' } })
  })

  it('lists highest fee per byte first, then by id, and pages with no repeat and no gap while txs come and go', () => {
    const pool = new Mempool()
    const txs = [tx(500n, 100), tx(100n, 100), tx(300n, 100), tx(300n, 100), tx(200n, 100)]
    for (const t of txs) pool.add(t)
    const all = pages(pool, 2)
    expect(all.map((p) => p.length)).toEqual([2, 2, 1])
    const order = all.flat()
    expect(order.map((t) => t.unsigned.fee)).toEqual([500n, 300n, 300n, 200n, 100n])
    expect(toHex(order[1]!.id) < toHex(order[2]!.id)).toBe(true)

    // a page taken, then the pool changes above and below the cursor
    const first = mempoolPage(pool, null, 2)
    pool.dropWithSuccessors(order[0]!) // gone, before the cursor
    pool.add(tx(900n, 100)) // new, before the cursor
    pool.dropWithSuccessors(order[3]!) // gone, after it
    pool.add(tx(250n, 100)) // new, after it
    const rest: SignedTx[] = []
    let cursor = first.cursor
    while (cursor !== null) {
      const page = mempoolPage(pool, cursor, 2)
      rest.push(...page.items)
      cursor = page.cursor
    }
    expect(rest.map((t) => t.unsigned.fee)).toEqual([300n, 250n, 100n])
    expect(ids(rest)).not.toContain(toHex(order[0]!.id))
    expect(new Set([...ids(first.items), ...ids(rest)]).size).toBe(first.items.length + rest.length)
  })

  it('refuses a cursor it did not make', () => {
    const pool = new Mempool()
    pool.add(tx(100n, 100))
    for (const bad of ['!!', 'AAAA', 'A'.repeat(120)]) {
      expect(() => mempoolPage(pool, bad, 20)).toThrow(ChorusError)
      try { mempoolPage(pool, bad, 20) } catch (e) { expect((e as ChorusError).code).toBe('INVALID_CURSOR') }
    }
  })

  it('writes fee rates as decimals of at most 6 places', () => {
    expect(formatRate(0n)).toBe('0')
    expect(formatRate(1n)).toBe('0.000001')
    expect(formatRate(1_500_000n)).toBe('1.5')
    expect(formatRate(12_000_000n)).toBe('12')
  })
})
