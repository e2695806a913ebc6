import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Mempool, TX_OVERHEAD_BYTES, txCost } from '../../../src/chain/mempool.ts'
import { Signer, post, profile } from '../../../src/client/transactions.ts'
import { decodeSignedTx } from '../../../src/codec/tx.ts'
import { ErrorCode } from '../../../src/protocol/errors.ts'

const tx = (s: Signer, nonce: number, fee: bigint, text = 'x') => s.sign({ chainId: 'c', nonce, fee, body: post(text) }).tx
const codeOf = (f: () => unknown) => { try { f() } catch (e) { return (e as { code: string }).code } return 'OK' }

describe('mempool', () => {
  it('orders by fee rate across senders and by nonce within one', () => {
    const [a, b] = [Signer.generate(), Signer.generate()]
    const m = new Mempool()
    m.add(tx(a, 0, 100n)); m.add(tx(a, 1, 10_000n)); m.add(tx(b, 5, 1_000n))
    const order = [...m.ordered()].map((t) => [t.unsigned.sender === a.publicKey ? 'a' : 'b', t.unsigned.nonce])
    expect(order).toEqual([['b', 5], ['a', 0], ['a', 1]])
  })

  it('tells a watcher once when it holds a block\'s worth, by count or by encoded bytes, and not after a cancel', async () => {
    const a = Signer.generate()
    const m = new Mempool()
    const told: string[] = []
    m.whenHolds(3, 1 << 20, () => told.push('three txs'))
    const cancelled = m.whenHolds(2, 1 << 20, () => told.push('cancelled'))
    cancelled()
    const big = tx(a, 0, 100_000n, 'y'.repeat(1000))
    m.whenHolds(100, big.bytes.length, () => told.push('bytes'))
    m.add(big)
    await Promise.resolve()
    expect(told).toEqual(['bytes'])
    m.add(tx(a, 1, 100n)); m.add(tx(a, 2, 100n)); m.add(tx(a, 3, 100n))
    await Promise.resolve()
    expect(told).toEqual(['bytes', 'three txs'])
    m.whenHolds(1, 1, () => told.push('already'))
    await Promise.resolve()
    expect(told).toEqual(['bytes', 'three txs', 'already'])
  })

  it('rejects duplicates and nonce gaps', () => {
    const a = Signer.generate()
    const m = new Mempool()
    const t0 = tx(a, 0, 100n)
    m.add(t0)
    expect(codeOf(() => m.add(t0))).toBe(ErrorCode.ALREADY_KNOWN)
    expect(codeOf(() => m.add(tx(a, 2, 100n)))).toBe(ErrorCode.BAD_NONCE)
    expect(codeOf(() => m.add(tx(a, 1, 100n)))).toBe('OK')
  })

  it('is bounded by count and bytes, evicting the cheapest tail only for a better payer', () => {
    const m = new Mempool({ maxTxs: 3, maxBytes: 1 << 20, maxPerSender: 10 })
    const s = [Signer.generate(), Signer.generate(), Signer.generate(), Signer.generate()]
    m.add(tx(s[0]!, 0, 500n)); m.add(tx(s[1]!, 0, 300n)); m.add(tx(s[2]!, 0, 400n))
    expect(codeOf(() => m.add(tx(s[3]!, 0, 200n)))).toBe(ErrorCode.MEMPOOL_FULL)
    expect(m.size).toBe(3)
    const evicted = m.add(tx(s[3]!, 0, 900n))
    expect(evicted.map((t) => t.unsigned.fee)).toEqual([300n])
    expect(m.size).toBe(3)
    const [ta, tb] = [tx(s[0]!, 0, 500n, 'a'.repeat(100)), tx(s[1]!, 0, 500n, 'b'.repeat(100))]
    const maxBytes = txCost(ta) + txCost(tb) + 10
    const bytes = new Mempool({ maxTxs: 100, maxBytes, maxPerSender: 10 })
    bytes.add(ta)
    bytes.add(tb)
    expect(codeOf(() => bytes.add(tx(s[2]!, 0, 100n, 'c'.repeat(100))))).toBe(ErrorCode.MEMPOOL_FULL)
    expect(bytes.bytes).toBeLessThanOrEqual(maxBytes)
    const perSender = new Mempool({ maxTxs: 100, maxBytes: 1 << 20, maxPerSender: 2 })
    perSender.add(tx(s[0]!, 0, 1n)); perSender.add(tx(s[0]!, 1, 1n))
    expect(codeOf(() => perSender.add(tx(s[0]!, 2, 1n)))).toBe(ErrorCode.MEMPOOL_FULL)
  })

  it('drops what a block included and what it made stale', () => {
    const [a, b] = [Signer.generate(), Signer.generate()]
    const m = new Mempool()
    const a0 = tx(a, 0, 100n); const a1 = tx(a, 1, 100n); const a2 = tx(a, 2, 100n); const b0 = tx(b, 0, 100n)
    m.add(a0); m.add(a1); m.add(a2); m.add(b0)
    // the block included a0, and a1's nonce was used by another tx of a's from elsewhere
    m.onBlock([a0], () => 2)
    expect(m.has(a0.id)).toBe(false)
    expect(m.has(a1.id)).toBe(false)
    expect(m.has(a2.id)).toBe(true)
    expect(m.size).toBe(2)
    expect(m.bytes).toBe(txCost(a2) + txCost(b0))
    expect(new Set([...m.ordered()])).toEqual(new Set([a2, b0]))
    m.dropWithSuccessors(a2)
    expect(m.size).toBe(1)
  })
})

describe('mempool memory bound', () => {
  it('counts each tx\'s overhead, so tiny txs fill it long before maxBytes / their encoded size', () => {
    const s = [Signer.generate(), Signer.generate(), Signer.generate(), Signer.generate()]
    const tiny = (i: number) => decodeSignedTx(tx(s[i % 4]!, Math.floor(i / 4), 1_000n, 'gm').bytes)
    const encoded = tiny(0).bytes.length
    const m = new Mempool({ maxTxs: 1_000, maxBytes: 100 * encoded, maxPerSender: 1_000 })
    let n = 0
    while (codeOf(() => m.add(tiny(n))) === 'OK') n++
    // counting encoded bytes alone, ~100 would fit; each also costs TX_OVERHEAD_BYTES in memory
    expect(n).toBeLessThanOrEqual(Math.floor(100 * encoded / (encoded + TX_OVERHEAD_BYTES)))
    expect(n).toBeGreaterThan(0)
    expect(m.bytes).toBeLessThanOrEqual(100 * encoded)
    const all = s.flatMap((k) => m.pendingFor(k.publicKey))
    expect(m.bytes).toBe(all.reduce((sum, t) => sum + txCost(t), 0))
    m.onBlock(all, () => undefined)
    expect(m.bytes).toBe(0)
  })

  it('counts decoded text at what V8 keeps of it: a byte a char for Latin-1, two beyond', () => {
    const a = Signer.generate()
    const textCost = (text: string) => { const t = tx(a, 0, 1n, text); return txCost(t) - t.bytes.length - TX_OVERHEAD_BYTES }
    expect(textCost('a'.repeat(1000))).toBe(1000)
    expect(textCost('é'.repeat(1000))).toBe(1000) // 2,000 bytes of UTF-8, one-byte string
    expect(textCost('語'.repeat(1000))).toBe(2000) // 3,000 bytes of UTF-8, two-byte string
    const p = a.sign({ chainId: 'c', nonce: 0, body: profile({ username: 'alice', bio: 'é'.repeat(10), avatarUrl: null }) }).tx
    expect(txCost(p) - p.bytes.length - TX_OVERHEAD_BYTES).toBe(15)
  })
})

describe('mempool under any sequence of inserts, evictions and failures', () => {
  it('keeps every sender\'s txs in consecutive nonce order, within its bounds', () => {
    const signers = [Signer.generate(), Signer.generate(), Signer.generate(), Signer.generate()]
    // a few signed txs per sender and fee, made once (signing is the slow part)
    const made = new Map<string, ReturnType<typeof tx>>()
    const txFor = (s: number, nonce: number, fee: bigint) => {
      const k = `${s}/${nonce}/${fee}`
      if (!made.has(k)) made.set(k, tx(signers[s]!, nonce, fee))
      return made.get(k)!
    }
    fc.assert(fc.property(
      fc.array(fc.record({ sender: fc.integer({ min: 0, max: 3 }), fee: fc.constantFrom(100n, 1_000n, 10_000n), skip: fc.boolean() }), { minLength: 1, maxLength: 40 }),
      (ops) => {
        const m = new Mempool({ maxTxs: 5, maxBytes: 1 << 20, maxPerSender: 4 })
        const next = [0, 0, 0, 0]
        for (const op of ops) {
          // mostly the next nonce; sometimes one past it (refused)
          const nonce = next[op.sender]! + (op.skip && next[op.sender]! % 3 === 2 ? 1 : 0)
          try {
            m.add(txFor(op.sender, nonce, op.fee))
          } catch { /* refused: nothing about the pool may change */ }
          for (const [i, s] of signers.entries()) {
            const chain = m.pendingFor(s.publicKey).map((t) => t.unsigned.nonce)
            chain.forEach((n, j) => { if (j > 0 && n !== chain[j - 1]! + 1) throw new Error(`sender ${i}: ${chain.join(',')}`) })
            next[i] = chain.length === 0 ? next[i]! : chain.at(-1)! + 1
          }
          expect(m.size).toBeLessThanOrEqual(5)
          const pending = signers.flatMap((s) => m.pendingFor(s.publicKey))
          expect(m.bytes).toBe(pending.reduce((n, t) => n + txCost(t), 0))
        }
      }
    ), { numRuns: 300 })
  })

  it('puts evicted txs back in nonce order when the newcomer does not get in', () => {
    const [a, b] = [Signer.generate(), Signer.generate()]
    const own = [tx(a, 0, 1_000n), tx(a, 1, 100n), tx(a, 2, 100n)]
    const size = txCost(own[0]!)
    const m = new Mempool({ maxTxs: 100, maxBytes: 3 * size + 10, maxPerSender: 10 })
    for (const t of own) m.add(t)
    // b's big tx needs a's whole chain out: its tail (2, then 1) goes, then a's head pays more, so all go back
    const small = tx(b, 0, 500n, 'y')
    const text = 'y'.repeat(Math.ceil((2 * size + 21 - txCost(small)) / 2) + 1) // ASCII text counts twice: bytes and string
    const sized = tx(b, 0, 0n, text)
    const big = tx(b, 0, 4n * BigInt(sized.bytes.length + 4), text) // per byte: more than a's tail, less than a's head
    expect(txCost(big)).toBeGreaterThan(2 * size + 10)
    expect(codeOf(() => m.add(big))).toBe(ErrorCode.MEMPOOL_FULL)
    expect(m.pendingFor(a.publicKey).map((t) => t.unsigned.nonce)).toEqual([0, 1, 2])
  })
})
