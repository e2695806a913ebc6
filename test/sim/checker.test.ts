/** The checker can fail: past the fault budget, or with a broken rule, the simulator reports violations. */
import { describe, expect, it } from 'vitest'
import { ALL_FAULTS, type SimOptions, simulate } from './simulator.ts'

async function violations (opts: Omit<SimOptions, 'seed'>, seeds: number[]): Promise<string[]> {
  const found: string[] = []
  for (const seed of seeds) found.push(...(await simulate({ ...opts, seed })).safety)
  return found
}

describe('the simulator finds what is broken', () => {
  it('Twins past the budget (two keys doubled, of 4) fork the chain in some seeds', async () => {
    const found = await violations({ validators: 4, heights: 60, faults: ALL_FAULTS, byzantine: 0, twins: 2 }, [1, 2, 3, 4, 5, 6])
    expect(found.some((v) => v.startsWith('agreement'))).toBe(true)
  }, 120_000)

  it('--bug ignore-lock breaks the lock invariant', async () => {
    const found = await violations({ validators: 4, heights: 60, faults: ALL_FAULTS, byzantine: 1, twins: 0, bug: 'ignore-lock' }, [1, 2, 3])
    expect(found.some((v) => v.startsWith('lock'))).toBe(true)
  }, 120_000)

  it('--bug no-quorum-check commits without 2/3 and the auditor refuses it', async () => {
    const found = await violations({ validators: 4, heights: 30, faults: ALL_FAULTS, byzantine: 0, twins: 0, bug: 'no-quorum-check' }, [1, 2])
    expect(found.some((v) => v.startsWith('validity') || v.startsWith('agreement'))).toBe(true)
  }, 120_000)
})
