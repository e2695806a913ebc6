/**
 * stateRoot(n) = sha256(stateRoot(n−1) ‖ sha256(canonical sorted write-set of block n)).
 * The write-set is [[bucket, key, value | nil], ...] sorted by (bucket, key).
 */
import { encodeCanonical } from '../codec/canonical.ts'
import { sha256 } from '../crypto/hash.ts'
import type { Hash } from '../protocol/types.ts'
import type { Write } from './view.ts'

export function nextStateRoot (prev: Hash, sortedWrites: readonly Write[]): Hash {
  const ws = encodeCanonical(sortedWrites.map((w) => [w.bucket, w.key, w.value]))
  return sha256(prev, sha256(ws))
}
