/**
 * The home-timeline index's rows (a node-local derived index, never in the state root):
 *
 *   timeline: reader(32) ‖ height(u64) ‖ tag(u32) -> value
 *     tag 0:     the block's fan-out, value = the indices (ascending, as varint gaps) of that block's
 *                posts whose authors the reader followed when the block was indexed
 *     tag i + 1: one older post (height, i) merged in when the reader followed its author
 *                (backfill), value empty
 *
 * One fan-out row per reader and block, not one per post: a block of 3,500 posts to
 * readers with ~75 follows each writes ~2,000 rows of a few indices, not ~260,000. A
 * post is named by its chain position (height, index); the derived postOrder index turns
 * that into its id (so an entry costs a byte or two). The rows of one height are read
 * together and their entries merged.
 */
import { concatBytes, readU32be, readU64be, u32be, u64be } from '../crypto/bytes.ts'
import type { PublicKey } from '../protocol/types.ts'

/** A post's place in the chain: the order of every feed (newest first = descending). */
export interface ChainPosition { height: number, index: number }

const READER_BYTES = 32
export const FANOUT_TAG = 0

export function timelineKey (reader: PublicKey, height: number, tag: number): Uint8Array {
  return concatBytes(reader, u64be(height), u32be(tag))
}

/** The first key of `reader`'s rows at `height` (all its rows below it are at lower heights). */
export function timelineHeightStart (reader: PublicKey, height: number): Uint8Array {
  return concatBytes(reader, u64be(height))
}

export function rowHeight (key: Uint8Array): number {
  return readU64be(key, READER_BYTES)
}

/** A row's entries: the fan-out row's packed indices, or a backfill row's one index. */
export function rowIndices (key: Uint8Array, value: Uint8Array): number[] {
  const tag = readU32be(key, READER_BYTES + 8)
  if (tag !== FANOUT_TAG) return [tag - 1]
  const out: number[] = []
  let last = 0
  for (let o = 0; o < value.length;) {
    // LEB128 varint of the gap from the previous index
    let gap = 0
    let shift = 0
    let byte: number
    do {
      byte = value[o++]!
      gap += (byte & 0x7f) * 2 ** shift
      shift += 7
    } while (byte >= 0x80 && o < value.length)
    last += gap
    out.push(last)
  }
  return out
}

/**
 * Ascending tx indices as the varint gaps between them: a block's posts reach a reader a
 * few indices apart, so most take one byte instead of four.
 */
export function packIndices (ascending: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(ascending.length * 5)
  let o = 0
  let last = 0
  for (let k = 0; k < ascending.length; k++) {
    let gap = ascending[k]! - last
    last = ascending[k]!
    while (gap >= 0x80) {
      out[o++] = (gap & 0x7f) | 0x80
      gap = Math.floor(gap / 128)
    }
    out[o++] = gap
  }
  return out.slice(0, o)
}

/** The 12-byte key of a position (postByAuthor's suffix, postOrder's key, a feed cursor). */
export function positionKey (p: ChainPosition): Uint8Array {
  return concatBytes(u64be(p.height), u32be(p.index))
}

export function positionOf (key: Uint8Array, offset = 0): ChainPosition {
  return { height: readU64be(key, offset), index: readU32be(key, offset + 8) }
}

/** Descending chain order: newest first. */
export function newestFirst (a: ChainPosition, b: ChainPosition): number {
  return b.height - a.height || b.index - a.index
}

/** a is strictly older than b. */
export function isBefore (a: ChainPosition, b: ChainPosition): boolean {
  return a.height < b.height || (a.height === b.height && a.index < b.index)
}
