/**
 * The LevelDB behind the state and the chain: one database, one sublevel per
 * Bucket (buckets.ts), raw byte keys and values. Everything a block changes is
 * written by `commit` in one atomic batch, with the head pointer.
 */
import { Level } from 'level'
import type { AbstractLevel, AbstractSublevel } from 'abstract-level'
import { ErrorCode, fail } from '../protocol/errors.ts'
import { ALL_BUCKETS, type Bucket } from './buckets.ts'
import type { StateReader, Write } from './view.ts'

type Db = AbstractLevel<Uint8Array | string | Buffer, Uint8Array, Uint8Array>
type Sub = AbstractSublevel<Db, Uint8Array | string | Buffer, Uint8Array, Uint8Array>

export interface RangeOptions {
  gt?: Uint8Array
  gte?: Uint8Array
  lt?: Uint8Array
  lte?: Uint8Array
  reverse?: boolean
  limit?: number
}

export class Store implements StateReader {
  private readonly subs: Record<Bucket, Sub>

  private constructor (private readonly db: Db) {
    this.subs = Object.fromEntries(ALL_BUCKETS.map((b) => [b, db.sublevel<Uint8Array, Uint8Array>(b, { keyEncoding: 'view', valueEncoding: 'view' })])) as Record<Bucket, Sub>
  }

  /** Opens (creating if needed) the database in `dir`; `maxOpenFiles` bounds LevelDB's table cache (default 1000). */
  static async open (dir: string, opts: { maxOpenFiles?: number } = {}): Promise<Store> {
    const db = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view', ...(opts.maxOpenFiles === undefined ? {} : { maxOpenFiles: opts.maxOpenFiles }) })
    try {
      await db.open()
    } catch (e) {
      const cause = (e as { cause?: { code?: string, message?: string } }).cause
      if (cause?.code === 'LEVEL_LOCKED') fail(ErrorCode.UNAVAILABLE, `${dir} is in use by another process (is a node already running on this home?)`)
      fail(ErrorCode.UNAVAILABLE, `cannot open the database in ${dir}: ${cause?.message ?? (e as Error).message}`)
    }
    return new Store(db as unknown as Db)
  }

  /** A store over another abstract-level database, opened by the caller (the simulator uses memory-level). */
  static async wrap (db: Db): Promise<Store> {
    await db.open()
    return new Store(db)
  }

  async get (bucket: Bucket, key: Uint8Array): Promise<Uint8Array | undefined> {
    return await this.subs[bucket].get(key)
  }

  async range (bucket: Bucket, opts: RangeOptions): Promise<Array<[Uint8Array, Uint8Array]>> {
    return await this.subs[bucket].iterator(opts).all()
  }

  /** Writes all of `writes` atomically; `sync` makes LevelDB fsync its log first. */
  async commit (writes: Iterable<Write>, sync = false): Promise<void> {
    const ops = []
    for (const w of writes) {
      ops.push(w.value === null
        ? { type: 'del' as const, sublevel: this.subs[w.bucket], key: w.key }
        : { type: 'put' as const, sublevel: this.subs[w.bucket], key: w.key, value: w.value })
    }
    // classic-level reads `sync`; other abstract-level stores ignore it
    await this.db.batch(ops, { sync } as object)
  }

  async close (): Promise<void> {
    await this.db.close()
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
