/** A set of strings that forgets its oldest entries beyond `max`: bounded memory for "seen" caches. */
export class BoundedSet {
  private readonly items = new Set<string>()

  constructor (private readonly max: number) {}

  has (key: string): boolean { return this.items.has(key) }

  add (key: string): void {
    if (this.items.has(key)) return
    this.items.add(key)
    if (this.items.size > this.max) this.items.delete(this.items.values().next().value!)
  }

  delete (key: string): void { this.items.delete(key) }
  get size (): number { return this.items.size }
  clear (): void { this.items.clear() }
}
