/**
 * A copy-on-write view of the state: reads fall through to a reader (LevelDB,
 * or a parent view), writes stay here until the caller merges or flushes them.
 * Block execution runs each tx in a child view and merges it only on success,
 * so a failing tx leaves no trace.
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

export class StateView implements StateReader {
  /** bucket -> binaryKey(key) -> the latest write of that key */
  private readonly writes = new Map<Bucket, Map<string, Write>>()

  constructor (private readonly parent: StateReader) {}

  async get (bucket: Bucket, key: Uint8Array): Promise<Uint8Array | undefined> {
    return await this.lookup(bucket, key)
  }

  /** This view's write of the key, else its parents' (walked here, not by recursion), else the reader below. */
  lookup (bucket: Bucket, key: Uint8Array): MaybePromise<Uint8Array | undefined> {
    const k = binaryKey(key)
    let view: StateView = this
    for (;;) {
      const w = view.writes.get(bucket)?.get(k)
      if (w !== undefined) return w.value ?? undefined
      if (!(view.parent instanceof StateView)) return lookup(view.parent, bucket, key)
      view = view.parent
    }
  }

  put (bucket: Bucket, key: Uint8Array, value: Uint8Array): void {
    this.set({ bucket, key, value })
  }

  del (bucket: Bucket, key: Uint8Array): void {
    this.set({ bucket, key, value: null })
  }

  private set (w: Write): void {
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

  /** Moves a child's writes into this view. */
  merge (child: StateView): void {
    for (const [bucket, ws] of child.writes) {
      const mine = this.bucketWrites(bucket)
      for (const [k, w] of ws) mine.set(k, w)
    }
  }

  /** The writes, sorted by (bucket, key): the order the state root hashes them in. */
  sortedWrites (): Write[] {
    const all: Write[] = []
    for (const ws of this.writes.values()) for (const w of ws.values()) all.push(w)
    return all.sort((a, b) => a.bucket < b.bucket ? -1 : a.bucket > b.bucket ? 1 : compareBytes(a.key, b.key))
  }
}
