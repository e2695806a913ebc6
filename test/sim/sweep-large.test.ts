/** 7 and 10 validators with the largest Byzantine minority the fault budget allows, and Twins within it. */
import { describe, expect, it } from 'vitest'
import { ALL_FAULTS, simulate } from './simulator.ts'

describe('simulation: larger validator sets', () => {
  it.each([1, 2, 3])('7 validators, 2 Byzantine, seed %i', async (seed) => {
    const r = await simulate({ validators: 7, heights: 50, seed, faults: ALL_FAULTS, byzantine: 2, twins: 0 })
    expect(r.safety, `replay: npm run simulate -- --validators 7 --heights 50 --seed ${seed} --faults all --byzantine 2`).toEqual([])
    expect(r.liveness).toBeNull()
  }, 120_000)

  it('10 validators, 3 Byzantine', async () => {
    const r = await simulate({ validators: 10, heights: 30, seed: 1, faults: ALL_FAULTS, byzantine: 3, twins: 0 })
    expect(r.safety).toEqual([])
    expect(r.liveness).toBeNull()
  }, 120_000)

  it.each([1, 2, 3, 4])('Twins within the budget (one key on two nodes, of 4): no violation, seed %i', async (seed) => {
    const r = await simulate({ validators: 4, heights: 60, seed, faults: ALL_FAULTS, byzantine: 0, twins: 1 })
    expect(r.safety, `replay: npm run simulate -- --validators 4 --heights 60 --seed ${seed} --faults all --twins 1`).toEqual([])
    expect(r.liveness).toBeNull()
  }, 60_000)
})
