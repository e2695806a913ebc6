/**
 * Binary Merkle root with RFC 6962 prefixes: leaf = H(0x00 ‖ x), node = H(0x01 ‖ l ‖ r),
 * the split at the largest power of two below n; the empty tree is H("").
 * A tx's inclusion in a block is then provable with log2(n) hashes.
 */
import { sha256 } from './hash.ts'

const LEAF = Uint8Array.of(0)
const NODE = Uint8Array.of(1)

export function merkleRoot (leaves: readonly Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return sha256(new Uint8Array(0))
  return subtree(leaves.map((l) => sha256(LEAF, l)))
}

function subtree (hashes: Uint8Array[]): Uint8Array {
  if (hashes.length === 1) return hashes[0]!
  let k = 1
  while (k * 2 < hashes.length) k *= 2
  return sha256(NODE, subtree(hashes.slice(0, k)), subtree(hashes.slice(k)))
}
