/**
 * A copy-on-write view of the state: reads fall through to a reader (LevelDB,
 * or a parent view), writes stay here until the caller merges or flushes them.
 * Block execution runs each tx in a child view and merges it only on success,
 * so a failing tx leaves no trace.
 */
import { compareBytes, toHex } from '../crypto/bytes.ts'
import type { Bucket } from './buckets.ts'

export interface StateReader {
  get (bucket: Bucket, key: Uint8Array): Promise<Uint8Array | undefined>
}

export interface Write {
  bucket: Bucket
  key: Uint8Array
  /** null deletes the key. */
  value: Uint8Array | null
}

export class StateView implements StateReader {
  private readonly writes = new Map<string, Write>()

  constructor (private readonly parent: StateReader) {}

  async get (bucket: Bucket, key: Uint8Array): Promise<Uint8Array | undefined> {
    const w = this.writes.get(slot(bucket, key))
    if (w !== undefined) return w.value ?? undefined
    return await this.parent.get(bucket, key)
  }

  put (bucket: Bucket, key: Uint8Array, value: Uint8Array): void {
    this.writes.set(slot(bucket, key), { bucket, key, value })
  }

  del (bucket: Bucket, key: Uint8Array): void {
    this.writes.set(slot(bucket, key), { bucket, key, value: null })
  }

  child (): StateView {
    return new StateView(this)
  }

  /** Moves a child's writes into this view. */
  merge (child: StateView): void {
    for (const [k, w] of child.writes) this.writes.set(k, w)
  }

  /** The writes, sorted by (bucket, key): the order the state root hashes them in. */
  sortedWrites (): Write[] {
    return [...this.writes.values()].sort((a, b) => a.bucket < b.bucket ? -1 : a.bucket > b.bucket ? 1 : compareBytes(a.key, b.key))
  }
}

const slot = (bucket: Bucket, key: Uint8Array): string => `${bucket}:${toHex(key)}`
