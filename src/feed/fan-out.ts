/**
 * One block's fan-out, as the timeline indexer writes it: each post appended to its
 * author's followers' timelines, one packed row per reader reached (timeline-rows.ts).
 *
 * A block reaches a reader with posts of many authors, and a block of a busy chain makes
 * about a million entries, so this is a counting sort over typed arrays rather than lists
 * per reader: count each reader's entries, give each a segment of one flat array, fill the
 * segments in tx order (so each is ascending, with no sort), then pack them. The counts and
 * the flat array are kept from block to block; only the packed values are new.
 */
import type { FollowerList } from './follower-lists.ts'
import { packing, writePacked } from './timeline-rows.ts'

/** A post of the block: its tx index and its author's followers. */
export interface FannedPost { index: number, followers: FollowerList }

/** A reader's row of the block: the reader's id (ReaderIds) and its packed tx indices. */
export interface FanOutRow { reader: number, value: Uint8Array }

/** Entries of flat array kept however small blocks get (16 MB): a busy chain's blocks reach millions. */
const KEPT_ENTRIES = 1 << 22

export class FanOut {
  /** Per reader id: its entry count, then the next free slot of its segment. */
  private slots = new Uint32Array(1024)
  private flat = new Uint32Array(1 << 16)

  /** Entries the flat array holds now (its memory is 4 bytes each). */
  get capacity (): number { return this.flat.length }

  /**
   * The rows of block `height`, whose `posts` are in tx order. A follower whose follow is
   * newer than the block (the index catching up) is skipped: that follow's backfill
   * brings the posts it should see.
   */
  rows (height: number, posts: readonly FannedPost[], readerCount: number): FanOutRow[] {
    if (this.slots.length < readerCount) this.slots = new Uint32Array(Math.max(readerCount, 2 * this.slots.length))
    const slots = this.slots
    const reached: number[] = []
    let entries = 0
    for (const { followers: { readers, since, length } } of posts) {
      for (let k = 0; k < length; k++) {
        if (since[k]! > height) continue
        const id = readers[k]!
        if (slots[id]++ === 0) reached.push(id)
      }
      entries += length
    }
    if (this.flat.length < entries) this.flat = new Uint32Array(Math.max(entries, 2 * this.flat.length))
    // an outsized block's array is not kept once blocks are much smaller again
    else if (this.flat.length > KEPT_ENTRIES && this.flat.length > 4 * entries) this.flat = new Uint32Array(Math.max(entries, KEPT_ENTRIES))
    const flat = this.flat
    // each reader's segment starts where the previous one's ends; `slots` becomes its next free slot
    const starts = new Uint32Array(reached.length + 1)
    for (let r = 0; r < reached.length; r++) {
      const id = reached[r]!
      starts[r + 1] = starts[r]! + slots[id]!
      slots[id] = starts[r]!
    }
    for (const { index, followers: { readers, since, length } } of posts) {
      for (let k = 0; k < length; k++) {
        if (since[k]! > height) continue
        flat[slots[readers[k]!]!++] = index
      }
    }
    // the block's values in one allocation, each row a view of it
    const plans = reached.map((_, r) => packing(flat, starts[r]!, starts[r + 1]!))
    const ends = new Uint32Array(reached.length + 1)
    for (let r = 0; r < reached.length; r++) ends[r + 1] = ends[r]! + plans[r]!.bytes
    const values = new Uint8Array(ends[reached.length]!)
    for (let r = 0; r < reached.length; r++) {
      writePacked(flat, starts[r]!, starts[r + 1]!, plans[r]!, values, ends[r]!)
      slots[reached[r]!] = 0
    }
    return reached.map((reader, r) => ({ reader, value: values.subarray(ends[r], ends[r + 1]) }))
  }
}
