/**
 * The LevelDB behind the state and the chain: one database, one sublevel per
 * Bucket (buckets.ts), raw byte keys and values. Everything a block changes is
 * written by `commit` in one atomic batch, with the head pointer. Point reads of the
 * state buckets go through a bounded read cache (read-cache.ts) that each committed
 * batch updates, so they see exactly what LevelDB holds.
 */
import { Level } from 'level'
import type { AbstractLevel, AbstractSublevel } from 'abstract-level'
import { utf8 } from '../crypto/bytes.ts'
import { ErrorCode, fail } from '../protocol/errors.ts'
import { ALL_BUCKETS, type Bucket, STATE_BUCKETS } from './buckets.ts'
import { DEFAULT_READ_CACHE_BYTES, ReadCache, type ReadCacheStats } from './read-cache.ts'
import type { MaybePromise, StateReader, Write } from './view.ts'

type Db = AbstractLevel<Uint8Array | string | Buffer, Uint8Array, Uint8Array>
type Sub = AbstractSublevel<Db, Uint8Array | string | Buffer, Uint8Array, Uint8Array>
type Batch = ReturnType<Db['batch']>

export interface RangeOptions {
  gt?: Uint8Array
  gte?: Uint8Array
  lt?: Uint8Array
  lte?: Uint8Array
  reverse?: boolean
  limit?: number
}

export interface StoreOptions {
  /** Bytes of the state buckets' read cache (read-cache.ts); 0 turns it off. Default DEFAULT_READ_CACHE_BYTES. */
  readCacheBytes?: number
  /**
   * Read the state buckets with LevelDB's synchronous get (default true where the database
   * has one): a point read of a small record is 2–4 µs on the main thread that way, against
   * 25–45 µs of an async get's hand-off to LevelDB's threads and back, and the dry run and
   * block execution no longer yield at every read. Blocks, commits and meta stay async.
   */
  syncStateReads?: boolean
}

/**
 * Adds `writes` to `batch` with every key (its bucket's prefix put on) and value copied into one
 * buffer, as views of it. Most keys and many values are under 65 bytes, arrays V8 keeps inside
 * its heap: handed to native code one by one, each got a backing store and an
 * ArrayBufferExtension of its own (~7 million of each to 300k posts, heaptrack). A view of one
 * large buffer needs neither. A chained batch copies each op into LevelDB's batch as it is
 * added, so neither the views nor op objects live on while the batch is written and synced:
 * as an array batch they did, and V8 promoted them (~1 KB a tx, a seventh of what survived
 * its young generation under load.ts).
 */
function addSlabbed (batch: Batch, writes: readonly Write[], prefixes: Record<Bucket, Uint8Array>): void {
  let size = 0
  for (const w of writes) size += prefixes[w.bucket].length + w.key.length + (w.value?.length ?? 0)
  const slab = new Uint8Array(Math.max(size, 65))
  let at = 0
  const copy = (a: Uint8Array, b?: Uint8Array): Uint8Array => {
    const from = at
    slab.set(a, at)
    at += a.length
    if (b !== undefined) { slab.set(b, at); at += b.length }
    return slab.subarray(from, at)
  }
  for (const w of writes) {
    if (w.value === null) batch.del(copy(prefixes[w.bucket], w.key))
    else batch.put(copy(prefixes[w.bucket], w.key), copy(w.value))
  }
}

export class Store implements StateReader {
  private readonly subs: Record<Bucket, Sub>
  private readonly cache: ReadCache | null
  private readonly stateBuckets: ReadonlySet<Bucket> = new Set(STATE_BUCKETS)
  private readonly syncReads: boolean
  /**
   * Bumped when a batch starts and when it ends: a read that missed the cache fills it only
   * if no batch started or ended while it waited on LevelDB (it may hold the older value).
   */
  private epoch = 0
  private batchesInFlight = 0
  /**
   * Each bucket's key prefix, when a batch's keys and values are copied into one buffer (a store
   * Store.open made: classic-level copies what it is given into its write batch); null: the
   * sublevels put their prefix on.
   */
  private readonly slabPrefixes: Record<Bucket, Uint8Array> | null

  private constructor (private readonly db: Db, opts: StoreOptions, slabBatches: boolean) {
    this.subs = Object.fromEntries(ALL_BUCKETS.map((b) => [b, db.sublevel<Uint8Array, Uint8Array>(b, { keyEncoding: 'view', valueEncoding: 'view' })])) as Record<Bucket, Sub>
    this.slabPrefixes = slabBatches ? Object.fromEntries(ALL_BUCKETS.map((b) => [b, utf8.encode(this.subs[b].prefix)])) as Record<Bucket, Uint8Array> : null
    const bytes = opts.readCacheBytes ?? DEFAULT_READ_CACHE_BYTES
    this.cache = bytes > 0 ? new ReadCache(bytes) : null
    // abstract-level 3 manifests say getSync (classic-level and memory-level do); its typings predate it
    this.syncReads = (opts.syncStateReads ?? true) && (db.supports as { getSync?: boolean }).getSync === true
  }

  /** Opens (creating if needed) the database in `dir`; `maxOpenFiles` bounds LevelDB's table cache (default 1000). */
  static async open (dir: string, opts: { maxOpenFiles?: number } & StoreOptions = {}): Promise<Store> {
    const db = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view', ...(opts.maxOpenFiles === undefined ? {} : { maxOpenFiles: opts.maxOpenFiles }) })
    try {
      await db.open()
    } catch (e) {
      const cause = (e as { cause?: { code?: string, message?: string } }).cause
      if (cause?.code === 'LEVEL_LOCKED') fail(ErrorCode.UNAVAILABLE, `${dir} is in use by another process (is a node already running on this home?)`)
      fail(ErrorCode.UNAVAILABLE, `cannot open the database in ${dir}: ${cause?.message ?? (e as Error).message}`)
    }
    return await new Store(db as unknown as Db, opts, true).ready()
  }

  /** A store over another abstract-level database, opened by the caller (the simulator uses memory-level). */
  static async wrap (db: Db, opts: StoreOptions = {}): Promise<Store> {
    await db.open()
    return await new Store(db, opts, false).ready()
  }

  /** Waits for the sublevels to open (they open after their database, deferred): getSync needs them open. */
  private async ready (): Promise<this> {
    await Promise.all(Object.values(this.subs).map(async (sub) => { await sub.open() }))
    return this
  }

  async get (bucket: Bucket, key: Uint8Array): Promise<Uint8Array | undefined> {
    return await this.lookup(bucket, key)
  }

  /**
   * As `get`, synchronous on a read-cache hit and, with `syncStateReads`, for every state
   * bucket read: then only chain buckets (blocks, commits, meta) wait on LevelDB's threads.
   */
  lookup (bucket: Bucket, key: Uint8Array): MaybePromise<Uint8Array | undefined> {
    if (!this.stateBuckets.has(bucket)) return this.subs[bucket].get(key)
    const cache = this.cache
    const hit = cache?.get(bucket, key)
    if (hit !== undefined) return hit ?? undefined
    if (!this.syncReads) return this.read(cache, bucket, key)
    const v = this.subs[bucket].getSync(key)
    // a read while a batch is in flight may see either side of it: not cached (the batch's own writes will be)
    if (this.batchesInFlight === 0) cache?.set(bucket, key, v ?? null)
    return v
  }

  /** A read that missed the cache: from LevelDB, then into the cache unless a batch started or ended meanwhile. */
  private async read (cache: ReadCache | null, bucket: Bucket, key: Uint8Array): Promise<Uint8Array | undefined> {
    const epoch = this.epoch
    const v = await this.subs[bucket].get(key)
    if (epoch === this.epoch && this.batchesInFlight === 0) cache?.set(bucket, key, v ?? null)
    return v
  }

  /** The read cache's hits, misses and size (null when it is off). */
  get readCacheStats (): ReadCacheStats | null {
    return this.cache?.stats ?? null
  }

  async range (bucket: Bucket, opts: RangeOptions): Promise<Array<[Uint8Array, Uint8Array]>> {
    return await this.subs[bucket].iterator(opts).all()
  }

  /** Writes all of `writes` atomically; `sync` makes LevelDB fsync its log first. */
  async commit (writes: Iterable<Write>, sync = false): Promise<void> {
    const all = [...writes]
    if (all.length === 0) return
    const batch = this.batchOf(all)
    // a batch of derived indexes only (the timeline indexer's, each block) changes nothing the read cache holds
    if (!all.some((w) => this.stateBuckets.has(w.bucket))) {
      await batch.write({ sync } as object)
      return
    }
    this.epoch++
    this.batchesInFlight++
    try {
      // classic-level reads `sync`; other abstract-level stores ignore it
      await batch.write({ sync } as object)
      // only once LevelDB holds the batch: a failed one leaves the cache as it was
      this.cache?.applyCommitted(all)
    } finally {
      this.batchesInFlight--
      this.epoch++
    }
  }

  /** A batch holding `writes`, not yet written (closed if adding them fails). */
  private batchOf (writes: readonly Write[]): Batch {
    const batch = this.db.batch()
    try {
      if (this.slabPrefixes !== null) addSlabbed(batch, writes, this.slabPrefixes)
      else {
        for (const w of writes) {
          const sublevel = this.subs[w.bucket]
          if (w.value === null) batch.del(w.key, { sublevel })
          else batch.put(w.key, w.value, { sublevel })
        }
      }
    } catch (e) {
      batch.close().catch(() => {})
      throw e
    }
    return batch
  }

  /** Runs a read that spans awaits against one database state (a snapshot, closed after): what it reads is one height. */
  async atOneHeight<T> (read: (snap: StoreSnapshot) => Promise<T>): Promise<T> {
    const snap = this.snapshot()
    try {
      return await read(snap)
    } finally {
      await snap.close()
    }
  }

  /**
   * A point-in-time view of the whole database, for a read that must see one height
   * across several awaits (a feed page). Close it when done. It reads through the read
   * cache only while no batch has started since it was taken (then the cache, LevelDB and
   * the snapshot hold the same values): a feed page's posts, read again by every page
   * that shows them, were a quarter of its time as snapshot reads.
   */
  snapshot (): StoreSnapshot {
    const epoch = this.cache !== null && this.batchesInFlight === 0 ? this.epoch : null
    return new StoreSnapshot(this.subs, this.db.snapshot(), this.syncReads, epoch === null ? null : { store: this, epoch })
  }

  /** A cached state value (null: absent) for a snapshot taken at `epoch`, while no batch has started since; else undefined. Not moved in the eviction order (ReadCache.peek). */
  cachedSince (epoch: number, bucket: Bucket, key: Uint8Array): Uint8Array | null | undefined {
    return epoch === this.epoch && this.stateBuckets.has(bucket) ? this.cache?.peek(bucket, key) : undefined
  }

  /** Caches what a snapshot taken at `epoch` read of a state key, while no batch has started since (it is what LevelDB holds). */
  cacheSince (epoch: number, bucket: Bucket, key: Uint8Array, value: Uint8Array | undefined): void {
    if (epoch === this.epoch && this.stateBuckets.has(bucket)) this.cache?.set(bucket, key, value ?? null)
  }

  async close (): Promise<void> {
    await this.db.close()
  }
}

type DbSnapshot = ReturnType<Db['snapshot']>

/** Reads of one database state (Store.snapshot): every bucket, point reads synchronous where LevelDB allows. */
export class StoreSnapshot implements StateReader {
  /** `cached`: the store whose read cache may answer, and its epoch when the snapshot was taken (null: never). */
  constructor (
    private readonly subs: Record<Bucket, Sub>,
    private readonly snap: DbSnapshot,
    private readonly syncReads: boolean,
    private readonly cached: { store: Store, epoch: number } | null = null
  ) {}

  async get (bucket: Bucket, key: Uint8Array): Promise<Uint8Array | undefined> {
    return await this.lookup(bucket, key)
  }

  lookup (bucket: Bucket, key: Uint8Array): MaybePromise<Uint8Array | undefined> {
    const sub = this.subs[bucket]
    const cached = this.cached
    if (cached === null) return this.syncReads ? sub.getSync(key, { snapshot: this.snap }) : sub.get(key, { snapshot: this.snap })
    const hit = cached.store.cachedSince(cached.epoch, bucket, key)
    if (hit !== undefined) return hit ?? undefined
    if (this.syncReads) {
      const v = sub.getSync(key, { snapshot: this.snap })
      cached.store.cacheSince(cached.epoch, bucket, key, v)
      return v
    }
    return sub.get(key, { snapshot: this.snap }).then((v) => {
      cached.store.cacheSince(cached.epoch, bucket, key, v)
      return v
    })
  }

  async range (bucket: Bucket, opts: RangeOptions): Promise<Array<[Uint8Array, Uint8Array]>> {
    return await this.subs[bucket].iterator({ ...opts, snapshot: this.snap }).all()
  }

  async close (): Promise<void> {
    await this.snap.close()
  }
}

/** Every key in [prefix, prefix+1): the range to pass for a key prefix. */
export function prefixRange (prefix: Uint8Array): { gte: Uint8Array, lt: Uint8Array } {
  const end = Uint8Array.from(prefix) // a copy even when prefix is a Buffer (whose slice() is a view)
  let i = end.length - 1
  while (i >= 0 && end[i] === 0xff) i--
  if (i < 0) return { gte: prefix, lt: new Uint8Array(prefix.length + 1).fill(0xff) }
  end[i]! += 1
  return { gte: prefix, lt: end.subarray(0, i + 1) }
}
