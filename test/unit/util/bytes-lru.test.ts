import { describe, expect, it } from 'vitest'
import { BytesLru } from '../../../src/util/bytes-lru.ts'

describe('BytesLru', () => {
  it('forgets the least recently used past its byte bound, and never holds what is over it', () => {
    const lru = new BytesLru<number>(10)
    lru.set(1, new Uint8Array(4))
    lru.set(2, new Uint8Array(4))
    expect(lru.get(1)).toBeDefined() // 1 is now the most recent
    lru.set(3, new Uint8Array(4)) // 12 bytes: 2 goes
    expect([lru.get(1), lru.get(2), lru.get(3)].map((v) => v !== undefined)).toEqual([true, false, true])
    expect(lru.totalBytes).toBe(8)
    lru.set(4, new Uint8Array(11))
    expect(lru.get(4)).toBeUndefined()
    lru.set(3, new Uint8Array(2)) // replacing counts the new size only
    expect(lru.totalBytes).toBe(6)
    expect(lru.size).toBe(2)
  })
})
