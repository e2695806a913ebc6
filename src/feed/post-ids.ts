/**
 * Which post sits at a chain position (the postOrder index, derived-indexes.ts), for home
 * feed pages: a timeline entry names a post by its position, and turning it into the id
 * was one LevelDB point read an entry (~20 a page, half a page's reads). The mapping never
 * changes once its block is committed (BFT finality: no reorgs; a postOrder rebuild writes
 * the same rows, and runs before anything reads), so a position seen once is kept.
 *
 * Only positions found in a committed read go in: a position with no post is not cached.
 *
 * Bounded by entries, least recently used out first. The ids sit in one slab of
 * `max` × 32 bytes (no object per entry), each handed out as a copy, so a later eviction
 * reusing its slot cannot change an id a page still holds. The oldest entry is found with
 * one live iterator kept across evictions (see util/bounded-set.ts for why).
 */
import type { Hash } from '../protocol/types.ts'
import type { ChainPosition } from './timeline-rows.ts'

/**
 * The default bound: 65,536 positions, 2 MiB of ids and about as much again of Map. Feed
 * reads cluster on the newest posts (first pages, of every reader), and 65,536 covers the
 * newest ~20 full blocks (3,500 posts each) or a 100k-post chain's newest two thirds.
 */
export const DEFAULT_POST_IDS = 65_536

const ID_BYTES = 32
/** A position as one number: height × 2^20 + index, exact for heights below 2^33. */
const INDEX_LIMIT = 2 ** 20
const HEIGHT_LIMIT = 2 ** 33

export class PostIds {
  /** position number -> its slot in `ids`, least recently used first */
  private readonly slots = new Map<number, number>()
  private readonly ids: Uint8Array
  /** Where eviction is in the insertion order: every live entry is at or after it (hits and sets append at the end). */
  private oldest: MapIterator<[number, number]> = this.slots.entries()
  hits = 0
  misses = 0

  constructor (readonly max = DEFAULT_POST_IDS) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`PostIds: max must be a positive integer, not ${max}`)
    this.ids = new Uint8Array(max * ID_BYTES)
  }

  /** The id at `p` (a copy, the caller's), or undefined when not held. */
  get (p: ChainPosition): Hash | undefined {
    const n = numberOf(p)
    const slot = n === null ? undefined : this.slots.get(n)
    if (slot === undefined) {
      this.misses++
      return undefined
    }
    this.hits++
    // most recently used goes last
    this.slots.delete(n!)
    this.slots.set(n!, slot)
    return this.ids.slice(slot * ID_BYTES, (slot + 1) * ID_BYTES)
  }

  /** Records the committed post at `p`. */
  set (p: ChainPosition, id: Hash): void {
    const n = numberOf(p)
    if (n === null || id.length !== ID_BYTES || this.slots.has(n)) return
    let slot = this.slots.size
    if (slot >= this.max) {
      let next = this.oldest.next()
      // an iterator that reached the end stays done: start again from the (new) front
      if (next.done === true) next = (this.oldest = this.slots.entries()).next()
      const [old, freed] = next.value!
      this.slots.delete(old)
      slot = freed
    }
    this.ids.set(id, slot * ID_BYTES)
    this.slots.set(n, slot)
  }

  get size (): number { return this.slots.size }
}

const numberOf = (p: ChainPosition): number | null =>
  p.index < INDEX_LIMIT && p.height < HEIGHT_LIMIT ? p.height * INDEX_LIMIT + p.index : null
