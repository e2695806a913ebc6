/**
 * A copy-on-write view of the state: reads fall through to a reader (LevelDB,
 * or a parent view), writes stay here until the caller merges or flushes them.
 * Block execution runs each tx in a child view and merges it only on success,
 * so a failing tx leaves no trace.
 *
 * A record (an account, a post) can be put as the decoded object (`putRecord`): the next
 * read of it in the view takes a copy of the object instead of decoding bytes, and its
 * bytes are encoded only when something asks for `value` (the state root, the store), so
 * an account written by every tx of a block is encoded once, and a dry run encodes none.
 */
import { binaryKey, compareBytes } from '../crypto/bytes.ts'
import type { Bucket } from './buckets.ts'

export type MaybePromise<T> = T | Promise<T>

export interface StateReader {
  get (bucket: Bucket, key: Uint8Array): Promise<Uint8Array | undefined>
  /** As `get`, but answered synchronously when the value is at hand (a view's writes, the store's read cache). */
  lookup? (bucket: Bucket, key: Uint8Array): MaybePromise<Uint8Array | undefined>
}

/** `state.get`, synchronous when `state` can answer without I/O: await the result only if it is a Promise. */
export function lookup (state: StateReader, bucket: Bucket, key: Uint8Array): MaybePromise<Uint8Array | undefined> {
  return state.lookup !== undefined ? state.lookup(bucket, key) : state.get(bucket, key)
}

export interface Write {
  bucket: Bucket
  key: Uint8Array
  /** null deletes the key. */
  value: Uint8Array | null
}

/**
 * A write of a decoded record, encoded on first use of `value`. `record` is this write's
 * own snapshot: never mutated (readers take `copy()`), so the bytes are those an eager
 * encode would have made when it was put.
 */
export class RecordWrite<T extends object> implements Write {
  private bytes: Uint8Array | undefined

  constructor (readonly bucket: Bucket, readonly key: Uint8Array, private readonly record: Readonly<T>, private readonly encode: (r: T) => Uint8Array) {}

  get value (): Uint8Array {
    return this.bytes ??= this.encode(this.record as T)
  }

  /** A copy of the record the caller may change (records hold only primitives and byte arrays never written into). */
  copy (): T {
    return { ...this.record } as T
  }
}

export class StateView implements StateReader {
  /** bucket -> binaryKey(key) -> the latest write of that key */
  private readonly writes = new Map<Bucket, Map<string, Write>>()

  constructor (private readonly parent: StateReader) {}

  async get (bucket: Bucket, key: Uint8Array): Promise<Uint8Array | undefined> {
    return await this.lookup(bucket, key)
  }

  /** This view's write of the key, else its parents' (walked here, not by recursion), else the reader below. */
  lookup (bucket: Bucket, key: Uint8Array): MaybePromise<Uint8Array | undefined> {
    const w = this.find(bucket, key)
    if (w !== undefined) return w.value ?? undefined
    return lookup(this.base, bucket, key)
  }

  /** The latest write of the key in this view or its parents, without reading below them. */
  find (bucket: Bucket, key: Uint8Array): Write | undefined {
    const k = binaryKey(key)
    let view: StateView = this
    for (;;) {
      const w = view.writes.get(bucket)?.get(k)
      if (w !== undefined) return w
      if (!(view.parent instanceof StateView)) return undefined
      view = view.parent
    }
  }

  /** The reader below every view (the store). */
  get base (): StateReader {
    let view: StateView = this
    while (view.parent instanceof StateView) view = view.parent
    return view.parent
  }

  /** Puts a decoded record, kept as a snapshot of `record` and encoded with `encode` when its bytes are needed. */
  putRecord<T extends object> (bucket: Bucket, key: Uint8Array, record: T, encode: (r: T) => Uint8Array): void {
    this.set(new RecordWrite(bucket, key, { ...record }, encode))
  }

  put (bucket: Bucket, key: Uint8Array, value: Uint8Array): void {
    this.set({ bucket, key, value })
  }

  del (bucket: Bucket, key: Uint8Array): void {
    this.set({ bucket, key, value: null })
  }

  private set (w: Write | RecordWrite<object>): void {
    this.bucketWrites(w.bucket).set(binaryKey(w.key), w)
  }

  private bucketWrites (bucket: Bucket): Map<string, Write> {
    let m = this.writes.get(bucket)
    if (m === undefined) this.writes.set(bucket, m = new Map())
    return m
  }

  child (): StateView {
    return new StateView(this)
  }

  /** No writes in this view (its parents may have some). */
  get isEmpty (): boolean {
    return this.writes.size === 0
  }

  /** Drops this view's writes. */
  clear (): void {
    this.writes.clear()
  }

  /** Moves a child's writes into this view (forEach: a for…of over a Map's entries makes an array for each). */
  merge (child: StateView): void {
    child.writes.forEach((ws, bucket) => {
      const mine = this.bucketWrites(bucket)
      ws.forEach((w, k) => mine.set(k, w))
    })
  }

  /** The writes, sorted by (bucket, key): the order the state root hashes them in. */
  sortedWrites (): Write[] {
    const all: Write[] = []
    for (const ws of this.writes.values()) for (const w of ws.values()) all.push(w)
    return all.sort((a, b) => a.bucket < b.bucket ? -1 : a.bucket > b.bucket ? 1 : compareBytes(a.key, b.key))
  }
}
