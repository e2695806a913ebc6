/**
 * A set of strings that forgets its oldest entries beyond `max`: bounded memory for "seen" caches.
 * The oldest is found with one live iterator kept across adds: V8 leaves a deleted entry as a
 * hole until the table is rebuilt, and a fresh `values()` walks every hole before the first
 * live entry (up to half the table: ~17 µs an add at 100,000 entries, against ~0.15 µs so).
 */
export class BoundedSet {
  private readonly items = new Set<string>()
  /** Every live entry is at or after it (adds go at the end). */
  private oldest: SetIterator<string> = this.items.values()

  constructor (private readonly max: number) {}

  has (key: string): boolean { return this.items.has(key) }

  add (key: string): void {
    if (this.items.has(key)) return
    this.items.add(key)
    if (this.items.size > this.max) {
      let next = this.oldest.next()
      // an iterator that reached the end stays done: start again from the (new) front
      if (next.done === true) next = (this.oldest = this.items.values()).next()
      this.items.delete(next.value!)
    }
  }

  delete (key: string): void { this.items.delete(key) }
  get size (): number { return this.items.size }
  clear (): void { this.items.clear() }
}
