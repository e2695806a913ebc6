/**
 * A bounded cache of state-bucket point reads in front of LevelDB, kept consistent with the
 * store: the Store fills it from the reads it makes and, from every batch it has committed
 * (never from one in flight or one that failed), updates the keys it holds, so a hit is always
 * what LevelDB would answer. It holds raw value bytes, and `null` for a key known to be absent
 * (a follow or like not made yet, an account not yet funded).
 *
 * A committed write of a key the cache does not hold is not added: most are records nobody
 * has read (every new post, its author-index row, the tx's like and follow rows), and adding
 * them pushed the keys that are read (the senders' accounts, the posts being liked) out, and
 * kept each new post's bytes alive into V8's old generation only to be evicted later. A key
 * written and then read costs one LevelDB read (it is in the memtable) and is cached from then.
 *
 * Why: admission dry-runs each tx against the store and block execution applies it again,
 * reading the same accounts, posts and pair keys twice, each an async LevelDB get.
 *
 * Bounded by bytes (keys, values and a per-entry overhead measured on Node 24). Eviction is
 * second chance (CLOCK), not exact LRU: a hit only marks its entry used, and eviction, going
 * from the oldest, moves a used entry to the end (unmarked) instead of dropping it. Moving
 * every hit to the end of the Map (a delete and a set) cost ~6 µs a hit in the node (a quarter
 * of block execution's state reads' time at 100k posts), ~1 µs in a bench of the cache alone.
 * The oldest entry is found with one live iterator kept across evictions, not a fresh one
 * each time: V8 leaves a deleted Map entry as a hole until the table is rebuilt, and a new
 * iterator walks every hole before the first live entry (~40 µs per committed tx once the
 * cache was full, growth.ts at 100k posts); the kept iterator passes each hole once.
 * Values handed out are shared: callers must not write into them (the state code never does).
 */
import { binaryKey } from '../crypto/bytes.ts'
import { type Bucket, STATE_BUCKETS } from './buckets.ts'
import type { Write } from './view.ts'

/** What an entry costs besides its key and value bytes: the Map slot, the key string's header and the entry object (~155 B of heap for a `null` entry with a 32-byte key, and ~20 B for the used mark's object). */
const ENTRY_OVERHEAD = 140
/**
 * What a value adds besides its bytes: the Uint8Array and ArrayBuffer objects (~105 B of heap)
 * and its own backing store outside the heap (LevelDB's reads each come in their own buffer).
 * Measured on Node 24 (~260 B of heap and the value's bytes outside it per entry): the 120 B
 * counted before made the 32 MiB bound ~63 MB of live heap (a heap snapshot at 300k posts).
 */
const VALUE_OVERHEAD = 200

/** The default bound: ~150,000 accounts or posts. */
export const DEFAULT_READ_CACHE_BYTES = 32 << 20

export interface ReadCacheStats {
  hits: number
  misses: number
  entries: number
  bytes: number
  maxBytes: number
}

/** A cached value (null: known absent) and whether it was read since eviction last passed it. */
interface Entry { value: Uint8Array | null, used: boolean }

export class ReadCache {
  /** bucket ':' binaryKey(key) -> entry, oldest first (a set, or a used entry eviction passed, goes last) */
  private readonly entries = new Map<string, Entry>()
  private readonly buckets: ReadonlySet<Bucket>
  private size = 0
  /** Where eviction is in the insertion order: every live entry is at or after it (sets and moves append at the end). */
  private oldest: MapIterator<[string, Entry]> = this.entries.entries()
  hits = 0
  misses = 0

  constructor (readonly maxBytes: number, buckets: readonly Bucket[] = STATE_BUCKETS) {
    this.buckets = new Set(buckets)
  }

  /** Whether reads of `bucket` go through the cache. */
  holds (bucket: Bucket): boolean {
    return this.buckets.has(bucket)
  }

  /** The cached value (null: known absent), or undefined when not cached. Counts a hit or a miss, and marks a hit used. */
  get (bucket: Bucket, key: Uint8Array): Uint8Array | null | undefined {
    const e = this.entries.get(slotOf(bucket, key))
    if (e === undefined) {
      this.misses++
      return undefined
    }
    this.hits++
    e.used = true
    return e.value
  }

  /**
   * As `get`, but does not mark the entry used: for a snapshot's reads (feed pages,
   * store.ts), which hit the same few hundred posts and follows again and again and would
   * otherwise keep them over what admission and execution read.
   */
  peek (bucket: Bucket, key: Uint8Array): Uint8Array | null | undefined {
    const e = this.entries.get(slotOf(bucket, key))
    if (e === undefined) this.misses++
    else this.hits++
    return e?.value
  }

  /** Records what the store holds for `key` (null: absent), as read or as just committed. */
  set (bucket: Bucket, key: Uint8Array, value: Uint8Array | null): void {
    this.setSlot(slotOf(bucket, key), value)
  }

  /** A committed batch's writes of keys it holds (as a value or as absent): what the next read must see. Other keys are left to be read. */
  applyCommitted (writes: readonly Write[]): void {
    for (const w of writes) {
      if (!this.buckets.has(w.bucket)) continue
      const slot = slotOf(w.bucket, w.key)
      if (this.entries.has(slot)) this.setSlot(slot, w.value)
    }
  }

  private setSlot (slot: string, value: Uint8Array | null): void {
    const old = this.entries.get(slot)
    if (old !== undefined) {
      this.entries.delete(slot)
      this.size -= cost(slot, old.value)
    }
    const c = cost(slot, value)
    if (c > this.maxBytes) return
    this.entries.set(slot, { value, used: false })
    this.size += c
    this.trim()
  }

  get stats (): ReadCacheStats {
    return { hits: this.hits, misses: this.misses, entries: this.entries.size, bytes: this.size, maxBytes: this.maxBytes }
  }

  private trim (): void {
    while (this.size > this.maxBytes) {
      let next = this.oldest.next()
      // an iterator that reached the end stays done: start again from the (new) front
      if (next.done === true) next = (this.oldest = this.entries.entries()).next()
      const [slot, e] = next.value!
      this.entries.delete(slot)
      if (e.used) {
        // its second chance: to the end, unmarked (the loop ends: each entry is moved at most once before it is dropped)
        e.used = false
        this.entries.set(slot, e)
        continue
      }
      this.size -= cost(slot, e.value)
    }
  }
}

const slotOf = (bucket: Bucket, key: Uint8Array): string => `${bucket}:${binaryKey(key)}`
const cost = (slot: string, value: Uint8Array | null): number => slot.length + ENTRY_OVERHEAD + (value === null ? 0 : value.length + VALUE_OVERHEAD)
