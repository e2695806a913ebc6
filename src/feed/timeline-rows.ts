/**
 * The home-timeline index's rows (a node-local derived index, never in the state root):
 *
 *   timeline: reader(32) ‖ height(u64) ‖ tag(u32) -> value
 *     tag 0:     the block's fan-out, value = the indices (ascending; as varint gaps or a bitmap,
 *                whichever is smaller) of that block's posts whose authors the reader followed
 *                when the block was indexed
 *     tag i + 1: older posts at that height merged in when the reader followed their author
 *                (backfill): the author's posts there from index i on that the follow took,
 *                value empty when i is the only one, else all of their indices (i first),
 *                packed as a fan-out row's are. A backfill takes an author's newest posts, so at
 *                any height a later follow of the same author takes the same posts or fewer,
 *                dropped from the oldest end: a row it writes again (the same first index) holds
 *                the same indices, and one with fewer has another key. Rows of one height may
 *                overlap; the reader merges them. (Before, each backfilled post was a row of its
 *                own with an empty value: such rows read the same.)
 *
 * One fan-out row per reader and block, not one per post: a block of 3,500 posts to
 * readers with ~75 follows each writes ~2,000 rows of a few indices, not ~260,000. A
 * post is named by its chain position (height, index); the derived postOrder index turns
 * that into its id (so an entry costs a byte or two). The rows of one height are read
 * together and their entries merged.
 */
import { concatBytes, heightIndexKey, readU32be, readU64be, u64be } from '../crypto/bytes.ts'
import type { PublicKey } from '../protocol/types.ts'

/** A post's place in the chain: the order of every feed (newest first = descending). */
export interface ChainPosition { height: number, index: number }

const READER_BYTES = 32
export const FANOUT_TAG = 0

export function timelineKey (reader: PublicKey, height: number, tag: number): Uint8Array {
  return heightIndexKey(reader, height, tag)
}

/** The first key of `reader`'s rows at `height` (all its rows below it are at lower heights). */
export function timelineHeightStart (reader: PublicKey, height: number): Uint8Array {
  return concatBytes(reader, u64be(height))
}

export function rowHeight (key: Uint8Array): number {
  return readU64be(key, READER_BYTES)
}

/** A row's entries: the fan-out row's packed indices, or a backfill row's one index (empty value) or packed ones. */
export function rowIndices (key: Uint8Array, value: Uint8Array): number[] {
  const tag = readU32be(key, READER_BYTES + 8)
  return tag === FANOUT_TAG || value.length > 0 ? unpackIndices(value) : [tag - 1]
}

/**
 * A follow's backfill as rows: one per height of `posts` (the followed author's, any order),
 * keyed by its first index + 1, with the value rowIndices reads back. An author active in every
 * block has its last 50 posts in a few heights: a few rows, not 50.
 */
export function backfillRows (reader: PublicKey, posts: readonly ChainPosition[]): Array<{ key: Uint8Array, value: Uint8Array }> {
  const byHeight = new Map<number, number[]>()
  for (const p of posts) {
    const at = byHeight.get(p.height)
    if (at === undefined) byHeight.set(p.height, [p.index])
    else at.push(p.index)
  }
  const rows: Array<{ key: Uint8Array, value: Uint8Array }> = []
  byHeight.forEach((indices, height) => {
    indices.sort((a, b) => a - b)
    rows.push({ key: timelineKey(reader, height, indices[0]! + 1), value: indices.length === 1 ? NO_BYTES : packIndices(indices) })
  })
  return rows
}

const NO_BYTES = new Uint8Array(0)

/** How a fan-out row's indices are packed: its first byte. */
const GAPS = 0
const BITMAP = 1

/**
 * Ascending tx indices, packed the smaller of two ways: as varint gaps (a reader reached by a
 * few of a block's posts: a byte an index) or as a bitmap from the first index (one reached
 * by a large share of them, as a reader of the most followed authors is: a bit an index).
 */
export function packIndices (ascending: ArrayLike<number>): Uint8Array {
  if (ascending.length === 0) return new Uint8Array(0)
  const p = packing(ascending, 0, ascending.length)
  const out = new Uint8Array(p.bytes)
  writePacked(ascending, 0, ascending.length, p, out, 0)
  return out
}

/** How a non-empty ascending[from, to) packs: its bytes, and the smaller way (see packIndices). */
export interface Packing { bytes: number, bitmap: boolean, first: number, bits: number }

export function packing (ascending: ArrayLike<number>, from: number, to: number): Packing {
  let gapBytes = 0
  let last = 0
  for (let k = from; k < to; k++) {
    gapBytes += varintBytes(ascending[k]! - last)
    last = ascending[k]!
  }
  const first = ascending[from] ?? 0
  const bits = Math.floor((last - first) / 8) + 1 // bytes of a bitmap from `first` to `last`
  const bitmap = varintBytes(first) + bits < gapBytes
  return { bytes: 1 + (bitmap ? varintBytes(first) + bits : gapBytes), bitmap, first, bits }
}

/** Writes ascending[from, to) into `out` at `at` as `p` (its packing) says: p.bytes bytes. */
export function writePacked (ascending: ArrayLike<number>, from: number, to: number, p: Packing, out: Uint8Array, at: number): void {
  let o = at + 1
  if (p.bitmap) {
    out[at] = BITMAP
    o = writeVarint(out, o, p.first)
    out.fill(0, o, o + p.bits)
    for (let k = from; k < to; k++) {
      const bit = ascending[k]! - p.first
      out[o + (bit >> 3)]! |= 1 << (bit & 7)
    }
    return
  }
  out[at] = GAPS
  let last = 0
  for (let k = from; k < to; k++) {
    o = writeVarint(out, o, ascending[k]! - last)
    last = ascending[k]!
  }
}

function unpackIndices (value: Uint8Array): number[] {
  const out: number[] = []
  if (value.length === 0) return out
  let o = 1
  if (value[0] === BITMAP) {
    let first: number
    [first, o] = readVarint(value, o)
    for (let bit = 0; o < value.length; o++, bit += 8) {
      for (let byte = value[o]!, b = 0; byte !== 0; byte >>= 1, b++) if ((byte & 1) !== 0) out.push(first + bit + b)
    }
    return out
  }
  let last = 0
  while (o < value.length) {
    let gap: number
    [gap, o] = readVarint(value, o)
    out.push(last += gap)
  }
  return out
}

/** LEB128: 7 bits a byte, low first. */
function writeVarint (out: Uint8Array, at: number, n: number): number {
  while (n >= 0x80) {
    out[at++] = (n & 0x7f) | 0x80
    n = Math.floor(n / 128)
  }
  out[at++] = n
  return at
}

function readVarint (bytes: Uint8Array, at: number): [number, number] {
  let n = 0
  let shift = 0
  let byte: number
  do {
    byte = bytes[at++]!
    n += (byte & 0x7f) * 2 ** shift
    shift += 7
  } while (byte >= 0x80 && at < bytes.length)
  return [n, at]
}

const varintBytes = (n: number): number => n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5

/** The 12-byte key of a position (postByAuthor's suffix, postOrder's key, a feed cursor). */
export function positionKey (p: ChainPosition): Uint8Array {
  return heightIndexKey(NO_BYTES, p.height, p.index)
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
