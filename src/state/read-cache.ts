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
 * Bounded by bytes (keys, values and a per-entry overhead measured on Node 24), least
 * recently used out first.
 * The oldest entry is found with one live iterator kept across evictions, not a fresh one
 * each time: V8 leaves a deleted Map entry as a hole until the table is rebuilt, and a new
 * iterator walks every hole before the first live entry. With the LRU's deletes at the front
 * (evictions) and all through (a hit moves its entry to the end), that walk was ~40 µs per
 * committed tx once the cache was full (growth.ts, 100k posts); the kept iterator passes each
 * hole once.
 * Values handed out are shared: callers must not write into them (the state code never does).
 */
import { binaryKey } from '../crypto/bytes.ts'
import { type Bucket, STATE_BUCKETS } from './buckets.ts'
import type { Write } from './view.ts'

/** What an entry costs besides its key and value bytes: the Map slot and the key string's header (~155 B of heap for a `null` entry with a 32-byte key). */
const ENTRY_OVERHEAD = 120
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

export class ReadCache {
  /** bucket ':' binaryKey(key) -> value, or null when absent; in least-recently-used order */
  private readonly entries = new Map<string, Uint8Array | null>()
  private readonly buckets: ReadonlySet<Bucket>
  private size = 0
  /** Where eviction is in the insertion order: every live entry is at or after it (hits and sets append at the end). */
  private oldest: MapIterator<[string, Uint8Array | null]> = this.entries.entries()
  hits = 0
  misses = 0

  constructor (readonly maxBytes: number, buckets: readonly Bucket[] = STATE_BUCKETS) {
    this.buckets = new Set(buckets)
  }

  /** Whether reads of `bucket` go through the cache. */
  holds (bucket: Bucket): boolean {
    return this.buckets.has(bucket)
  }

  /** The cached value (null: known absent), or undefined when not cached. Counts a hit or a miss. */
  get (bucket: Bucket, key: Uint8Array): Uint8Array | null | undefined {
    const slot = slotOf(bucket, key)
    const v = this.entries.get(slot)
    if (v === undefined) {
      this.misses++
      return undefined
    }
    this.hits++
    // most recently used goes last
    this.entries.delete(slot)
    this.entries.set(slot, v)
    return v
  }

  /**
   * As `get`, but leaves the entry where it is in the eviction order: for a snapshot's reads
   * (feed pages, store.ts), which hit the same few hundred posts and follows again and again.
   * With `get`'s move to the end of the Map on each of those hits, the hits were 44% of the
   * node's main thread under 16 feed_gets in flight at 100k posts (~10 µs a hit in a Map of
   * ~200k entries, against ~1 µs in a bench of the cache alone); with `peek`, 3.6%.
   */
  peek (bucket: Bucket, key: Uint8Array): Uint8Array | null | undefined {
    const v = this.entries.get(slotOf(bucket, key))
    if (v === undefined) this.misses++
    else this.hits++
    return v
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
      this.size -= cost(slot, old)
    }
    const c = cost(slot, value)
    if (c > this.maxBytes) return
    this.entries.set(slot, value)
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
      const [slot, v] = next.value!
      this.entries.delete(slot)
      this.size -= cost(slot, v)
    }
  }
}

const slotOf = (bucket: Bucket, key: Uint8Array): string => `${bucket}:${binaryKey(key)}`
const cost = (slot: string, value: Uint8Array | null): number => slot.length + ENTRY_OVERHEAD + (value === null ? 0 : value.length + VALUE_OVERHEAD)
