/** Byte strings by key, the least recently used forgotten past `maxBytes` in all: a cache of bounded memory. */
export class BytesLru<K> {
  private readonly items = new Map<K, Uint8Array>()
  private bytes = 0

  constructor (readonly maxBytes: number) {}

  get (key: K): Uint8Array | undefined {
    const v = this.items.get(key)
    if (v !== undefined) { // most recent last
      this.items.delete(key)
      this.items.set(key, v)
    }
    return v
  }

  set (key: K, value: Uint8Array): void {
    if (value.length > this.maxBytes) return
    const old = this.items.get(key)
    if (old !== undefined) {
      this.bytes -= old.length
      this.items.delete(key)
    }
    this.items.set(key, value)
    this.bytes += value.length
    for (const [k, v] of this.items) {
      if (this.bytes <= this.maxBytes) break
      this.items.delete(k)
      this.bytes -= v.length
    }
  }

  get size (): number { return this.items.size }
  get totalBytes (): number { return this.bytes }
}
