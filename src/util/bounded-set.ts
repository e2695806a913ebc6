import { BoundedMap } from './bounded-map.ts'

/** A set of strings that forgets its oldest entries beyond `max`: bounded memory for "seen" caches (a BoundedMap of keys). */
export class BoundedSet {
  private readonly items: BoundedMap<string, true>

  constructor (max: number) { this.items = new BoundedMap(max) }

  has (key: string): boolean { return this.items.has(key) }
  add (key: string): void { this.items.set(key, true) }
  delete (key: string): void { this.items.delete(key) }
  get size (): number { return this.items.size }
  clear (): void { this.items.clear() }
}
