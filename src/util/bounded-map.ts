/**
 * A map that forgets its oldest entries beyond `max`: bounded memory for a cache of values
 * that are cheap to make again. Oldest by insertion (a `get` does not refresh; `use` moves
 * its key to the newest end, for least-recently-used order).
 *
 * The oldest is found with one live iterator kept across sets: V8 leaves a deleted entry as
 * a hole until the table is rebuilt, and a fresh `keys()` walks every hole before the first
 * live entry (up to half the table: ~17 µs a set at 100,000 entries, against ~0.15 µs so).
 * Keys moved by `use` are appended, and the kept iterator reaches them in their new place.
 */
export class BoundedMap<K, V> {
  private readonly items = new Map<K, V>()
  /** Every live entry is at or after it (sets and uses go at the end). */
  private oldest: MapIterator<K> = this.items.keys()

  private readonly max: number

  // no parameter property: verify.ts, which a verify worker loads with Node's type stripping, uses this
  constructor (max: number) { this.max = max }

  get (key: K): V | undefined { return this.items.get(key) }
  has (key: K): boolean { return this.items.has(key) }

  /** `get`, moving the key to the newest end. */
  use (key: K): V | undefined {
    const v = this.items.get(key)
    if (v !== undefined) {
      this.items.delete(key)
      this.items.set(key, v)
    }
    return v
  }

  /** Holds `value` for `key`: a new key goes at the newest end (dropping the oldest past `max`), a held one keeps its place. */
  set (key: K, value: V): void {
    if (this.items.has(key)) {
      this.items.set(key, value)
      return
    }
    this.items.set(key, value)
    if (this.items.size > this.max) {
      let next = this.oldest.next()
      // an iterator that reached the end stays done: start again from the (new) front
      if (next.done === true) next = (this.oldest = this.items.keys()).next()
      this.items.delete(next.value!)
    }
  }

  delete (key: K): void { this.items.delete(key) }
  clear (): void { this.items.clear() }
  get size (): number { return this.items.size }
}
