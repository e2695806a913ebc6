import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Mempool } from '../../../src/chain/mempool.ts'
import { Signer, post } from '../../../src/client/transactions.ts'
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
    const bytes = new Mempool({ maxTxs: 100, maxBytes: 500, maxPerSender: 10 })
    bytes.add(tx(s[0]!, 0, 500n, 'a'.repeat(100)))
    bytes.add(tx(s[1]!, 0, 500n, 'b'.repeat(100)))
    expect(codeOf(() => bytes.add(tx(s[2]!, 0, 100n, 'c'.repeat(100))))).toBe(ErrorCode.MEMPOOL_FULL)
    expect(bytes.bytes).toBeLessThanOrEqual(500)
    const perSender = new Mempool({ maxTxs: 100, maxBytes: 1 << 20, maxPerSender: 2 })
    perSender.add(tx(s[0]!, 0, 1n)); perSender.add(tx(s[0]!, 1, 1n))
    expect(codeOf(() => perSender.add(tx(s[0]!, 2, 1n)))).toBe(ErrorCode.MEMPOOL_FULL)
  })

  it('drops what a block included and what it made stale', () => {
    const [a, b] = [Signer.generate(), Signer.generate()]
    const m = new Mempool()
    const a0 = tx(a, 0, 100n); const a1 = tx(a, 1, 100n); const a2 = tx(a, 2, 100n)
    m.add(a0); m.add(a1); m.add(a2); m.add(tx(b, 0, 100n))
    // the block included a0, and a1's nonce was used by another tx of a's from elsewhere
    m.onBlock([a0], () => 2)
    expect(m.has(a0.id)).toBe(false)
    expect(m.has(a1.id)).toBe(false)
    expect(m.has(a2.id)).toBe(true)
    expect(m.size).toBe(2)
    m.dropWithSuccessors(a2)
    expect(m.size).toBe(1)
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
        }
      }
    ), { numRuns: 300 })
  })

  it('puts evicted txs back in nonce order when the newcomer does not get in', () => {
    const [a, b] = [Signer.generate(), Signer.generate()]
    const own = [tx(a, 0, 1_000n), tx(a, 1, 100n), tx(a, 2, 100n)]
    const size = own[0]!.bytes.length
    const m = new Mempool({ maxTxs: 100, maxBytes: 3 * size + 10, maxPerSender: 10 })
    for (const t of own) m.add(t)
    // b's big tx needs a's whole chain out: its tail (2, then 1) goes, then a's head pays more, so all go back
    let big = tx(b, 0, 500n, 'y')
    big = tx(b, 0, 500n, 'y'.repeat(2 * size + 20 - big.bytes.length + 1))
    expect(codeOf(() => m.add(big))).toBe(ErrorCode.MEMPOOL_FULL)
    expect(m.pendingFor(a.publicKey).map((t) => t.unsigned.nonce)).toEqual([0, 1, 2])
  })
})
