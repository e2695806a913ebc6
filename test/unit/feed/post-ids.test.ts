import { describe, expect, it } from 'vitest'
import { PostIds } from '../../../src/feed/post-ids.ts'

const idOf = (n: number): Uint8Array => new Uint8Array(32).fill(n & 0xff).map((x, i) => i === 0 ? n >> 8 : x)

describe('PostIds', () => {
  it('keeps exactly the `max` most recently used positions, as a plain LRU model does', () => {
    const max = 5
    const ids = new PostIds(max)
    let model: number[] = [] // least recently used first
    let seed = 11
    const rand = (n: number): number => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n }
    for (let step = 0; step < 3000; step++) {
      const k = rand(12)
      const p = { height: 1 + (k >> 2), index: k & 3 }
      if (rand(3) === 0) {
        const got = ids.get(p)
        if (model.includes(k)) {
          expect(got).toEqual(idOf(k))
          model = [...model.filter((x) => x !== k), k]
        } else expect(got).toBeUndefined()
      } else {
        ids.set(p, idOf(k))
        if (!model.includes(k)) model.push(k) // a set of a held position changes nothing
        if (model.length > max) model.shift()
      }
      expect(ids.size).toBe(model.length)
    }
  })

  it('hands out copies: an eviction that reuses a slot leaves an id already given out as it was', () => {
    const ids = new PostIds(1)
    ids.set({ height: 1, index: 0 }, idOf(1))
    const held = ids.get({ height: 1, index: 0 })!
    ids.set({ height: 2, index: 0 }, idOf(2))
    expect(held).toEqual(idOf(1))
    expect(ids.get({ height: 1, index: 0 })).toBeUndefined()
    expect(ids.get({ height: 2, index: 0 })).toEqual(idOf(2))
  })

  it('tells positions apart by height and index, and leaves out positions it cannot number exactly', () => {
    const ids = new PostIds(8)
    ids.set({ height: 1, index: 2 ** 20 - 1 }, idOf(1))
    ids.set({ height: 2, index: 0 }, idOf(2))
    expect(ids.get({ height: 1, index: 2 ** 20 - 1 })).toEqual(idOf(1))
    expect(ids.get({ height: 2, index: 0 })).toEqual(idOf(2))
    ids.set({ height: 1, index: 2 ** 20 }, idOf(3))
    ids.set({ height: 2 ** 33, index: 0 }, idOf(4))
    expect(ids.size).toBe(2)
    expect(ids.get({ height: 1, index: 2 ** 20 })).toBeUndefined()
  })
})
