/**
 * The sweep the suite runs: 4 validators, every fault, one equivocating validator.
 * Longer sweeps: npm run simulate -- --validators 4 --heights 1000 --seeds 50 --faults all --byzantine 1
 */
import { describe, expect, it } from 'vitest'
import { ALL_FAULTS, simulate } from './simulator.ts'

const SEEDS = Array.from({ length: 16 }, (_, i) => 1 + i)

describe('simulation: 4 validators, all faults, 1 Byzantine', () => {
  it.each(SEEDS)('seed %i: safe, and live once the faults stop', async (seed) => {
    const r = await simulate({ validators: 4, heights: 100, seed, faults: ALL_FAULTS, byzantine: 1, twins: 0 })
    expect(r.safety, `replay: npm run simulate -- --validators 4 --heights 100 --seed ${seed} --faults all --byzantine 1`).toEqual([])
    expect(r.liveness).toBeNull()
    expect(r.height).toBeGreaterThanOrEqual(100)
    expect(r.evidence).toBeGreaterThan(0) // the equivocation was seen
  }, 60_000)
})
