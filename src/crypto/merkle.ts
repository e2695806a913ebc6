/**
 * Binary Merkle root with RFC 6962 prefixes: leaf = H(0x00 ‖ x), node = H(0x01 ‖ l ‖ r),
 * the split at the largest power of two below n; the empty tree is H("").
 * A tx's inclusion in a block is then provable with log2(n) hashes.
 *
 * Every block's txRoot is two hashes a tx on every node, so each hash's input is written
 * into one scratch array (hashing is synchronous) rather than concatenated afresh, and
 * subtrees are index ranges, not copies of the level.
 */
import { sha256 } from './hash.ts'

export function merkleRoot (leaves: readonly Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return sha256(new Uint8Array(0))
  let scratch = new Uint8Array(65)
  const hashes = leaves.map((l) => {
    if (scratch.length < l.length + 1) scratch = new Uint8Array(l.length + 1)
    scratch[0] = 0
    scratch.set(l, 1)
    return sha256(scratch.subarray(0, l.length + 1))
  })
  return subtree(hashes, 0, hashes.length, scratch)
}

/** The root of hashes[from, to), with `scratch` (≥ 65 bytes) for each node's input. */
function subtree (hashes: readonly Uint8Array[], from: number, to: number, scratch: Uint8Array): Uint8Array {
  const n = to - from
  if (n === 1) return hashes[from]!
  let k = 1
  while (k * 2 < n) k *= 2
  const left = subtree(hashes, from, from + k, scratch)
  const right = subtree(hashes, from + k, to, scratch)
  scratch[0] = 1
  scratch.set(left, 1)
  scratch.set(right, 33)
  return sha256(scratch.subarray(0, 65))
}
