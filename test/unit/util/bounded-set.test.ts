import { describe, expect, it } from 'vitest'
import { BoundedSet } from '../../../src/util/bounded-set.ts'

describe('BoundedSet', () => {
  it('keeps exactly the newest `max` keys through adds, deletes, clears and repeats, as a plain model does', () => {
    const max = 5
    const set = new BoundedSet(max)
    let model: string[] = []
    let seed = 7
    const rand = (n: number): number => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n }
    for (let step = 0; step < 3000; step++) {
      const op = rand(20)
      const key = `k${rand(12)}`
      if (op === 0) {
        set.clear()
        model = []
      } else if (op < 4) {
        set.delete(key)
        model = model.filter((k) => k !== key)
      } else {
        set.add(key)
        if (!model.includes(key)) model.push(key)
        if (model.length > max) model.shift()
      }
      expect(set.size).toBe(model.length)
      for (let i = 0; i < 12; i++) expect(set.has(`k${i}`)).toBe(model.includes(`k${i}`))
    }
  })
})
