/**
 * The Merkle root against the plain definition it is written from (RFC 6962 with the split at
 * the largest power of two below n): every block's txRoot depends on it bit for bit.
 */
import { createHash } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { merkleRoot } from '../../../src/crypto/merkle.ts'

const h = (...parts: Uint8Array[]): Uint8Array => {
  const hash = createHash('sha256')
  for (const p of parts) hash.update(p)
  return new Uint8Array(hash.digest())
}

function reference (leaves: readonly Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return h(new Uint8Array(0))
  if (leaves.length === 1) return h(Uint8Array.of(0), leaves[0]!)
  let k = 1
  while (k * 2 < leaves.length) k *= 2
  return h(Uint8Array.of(1), reference(leaves.slice(0, k)), reference(leaves.slice(k)))
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

describe('merkleRoot', () => {
  it('is the RFC 6962 tree for 0 to 70 leaves of 32 bytes (the tx ids a block holds)', () => {
    const leaves = Array.from({ length: 70 }, (_, i) => h(Uint8Array.of(i)))
    for (let n = 0; n <= 70; n++) expect(hex(merkleRoot(leaves.slice(0, n))), `n = ${n}`).toBe(hex(reference(leaves.slice(0, n))))
  })

  it('is the RFC 6962 tree for leaves of any length', () => {
    fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 100 }), { maxLength: 40 }), (leaves) => {
      expect(hex(merkleRoot(leaves))).toBe(hex(reference(leaves)))
    }), { numRuns: 300 })
  })

  it('spells out three leaves: H(1 ‖ H(1 ‖ H(0‖a) ‖ H(0‖b)) ‖ H(0‖c)), and leaves its input alone', () => {
    const [a, b, c] = [Uint8Array.of(1), Uint8Array.of(2), Uint8Array.of(3)]
    const root = h(Uint8Array.of(1), h(Uint8Array.of(1), h(Uint8Array.of(0), a), h(Uint8Array.of(0), b)), h(Uint8Array.of(0), c))
    const leaves = [a, b, c]
    expect(hex(merkleRoot(leaves))).toBe(hex(root))
    expect(leaves.map(hex)).toEqual(['01', '02', '03'])
    expect(hex(merkleRoot([]))).toBe(hex(h(new Uint8Array(0))))
  })
})
