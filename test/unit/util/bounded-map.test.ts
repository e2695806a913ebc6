import { describe, expect, it } from 'vitest'
import { BoundedMap } from '../../../src/util/bounded-map.ts'

describe('BoundedMap', () => {
  it('keeps exactly the newest `max` keys, each with its last value, as a plain model does', () => {
    const max = 5
    const map = new BoundedMap<string, number>(max)
    const model = new Map<string, number>() // insertion order: oldest first
    let seed = 7
    const rand = (n: number): number => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n }
    for (let step = 0; step < 3000; step++) {
      const key = `k${rand(12)}`
      if (rand(3) === 0) {
        expect(map.get(key)).toBe(model.get(key))
      } else {
        map.set(key, step)
        model.set(key, step) // a key held keeps its place
        if (model.size > max) model.delete(model.keys().next().value!)
      }
      expect(map.size).toBe(model.size)
      for (let i = 0; i < 12; i++) expect(map.get(`k${i}`)).toBe(model.get(`k${i}`))
    }
  })
})
