/**
 * A map that forgets its oldest entries beyond `max` (first in, first out; a get does not
 * refresh): bounded memory for a cache of values that are cheap to make again. The oldest
 * is found with one live iterator kept across sets, as in bounded-set.ts.
 */
export class BoundedMap<K, V> {
  private readonly items = new Map<K, V>()
  /** Every live entry is at or after it (sets go at the end). */
  private oldest: MapIterator<K> = this.items.keys()

  constructor (private readonly max: number) {}

  get (key: K): V | undefined { return this.items.get(key) }

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

  get size (): number { return this.items.size }
}
