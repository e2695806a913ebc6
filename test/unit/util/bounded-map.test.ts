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

  it('moves a key it is asked to `use` to the newest end, so the least recently used goes first (a plain model alongside)', () => {
    const max = 4
    const map = new BoundedMap<number, number>(max)
    let model: number[] = [] // least recent first
    let seed = 3
    const rand = (n: number): number => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n }
    for (let step = 0; step < 3000; step++) {
      const k = rand(9)
      const op = rand(4)
      if (op === 0) {
        expect(map.use(k)).toBe(model.includes(k) ? k : undefined)
        if (model.includes(k)) model = [...model.filter((x) => x !== k), k]
      } else if (op === 1) {
        map.delete(k)
        model = model.filter((x) => x !== k)
      } else if (!model.includes(k)) {
        map.set(k, k)
        model.push(k)
        if (model.length > max) model.shift()
      }
      expect(map.size).toBe(model.length)
      for (let i = 0; i < 9; i++) expect(map.get(i)).toBe(model.includes(i) ? i : undefined)
    }
  })
})
