import { describe, expect, it } from 'vitest'
import { DEFAULT_STEPS, NO_STEP, growingPercent, memoryTargetPolicy, nextStep, parseMemoryTargetMiB } from '../../../src/util/memory-target.ts'

const MiB = 2 ** 20
const policy = memoryTargetPolicy(1000 * MiB, [{ from: 0.7, percent: 100 }, { from: 0.85, percent: 50 }, { from: 0.95, percent: 20 }], 0.1)
/** The percents a run of RSS samples (in MiB) leads to, from no step. */
const walk = (samples: number[], p = policy): number[] => {
  let step = NO_STEP
  return samples.map((mib) => growingPercent(p, (step = nextStep(p, step, mib * MiB))))
}

describe('memory target steps', () => {
  it('leave V8 its own growth below the first step and go up at once to the step RSS has reached', () => {
    expect(walk([100, 699, 700, 849, 850, 949, 950, 5000])).toEqual([0, 0, 100, 100, 50, 50, 20, 20])
    expect(walk([960])).toEqual([20]) // straight from none to the tightest
  })

  it('come down only once RSS is `release` below a step, so samples near a threshold do not flip the flag', () => {
    // at 50 (from 850): 760 is still above 850 − 100; 749 is below it but above 700 − 100
    expect(walk([860, 840, 851, 760, 750, 749, 601, 600, 599])).toEqual([50, 50, 50, 50, 50, 100, 100, 100, 0])
    // a sample right at each threshold, then back under it by less than the release, never changes the step
    expect(walk([700, 699, 700, 650, 700])).toEqual([100, 100, 100, 100, 100])
    // from the tightest, far below: down past every step in one sample
    expect(walk([990, 100])).toEqual([20, 0])
  })

  it('stay within the steps given: never looser than V8 nor tighter than the last step, whatever the samples', () => {
    let step = NO_STEP
    let seed = 11
    for (let i = 0; i < 5000; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      step = nextStep(policy, step, (seed % 2000) * MiB)
      expect(step).toBeGreaterThanOrEqual(NO_STEP)
      expect(step).toBeLessThan(policy.steps.length)
      expect([0, 100, 50, 20]).toContain(growingPercent(policy, step))
    }
    // a step out of range (from another policy) is brought back into it
    expect(nextStep(policy, 17, 960 * MiB)).toBe(2)
    expect(nextStep(policy, -5, 100 * MiB)).toBe(NO_STEP)
  })

  it('keep the step on a sample that is no number of bytes', () => {
    expect(nextStep(policy, 1, NaN)).toBe(1)
    expect(nextStep(policy, 1, 0)).toBe(1)
    expect(nextStep(policy, NO_STEP, -1)).toBe(NO_STEP)
  })

  it('are off with a target of 0: V8 its own growth at any RSS', () => {
    const off = memoryTargetPolicy(0)
    expect(walk([1, 10_000, 100_000], off)).toEqual([0, 0, 0])
    expect(nextStep(off, 2, 100_000 * MiB)).toBe(NO_STEP)
  })

  it('refuse steps out of order, a negative target or a fractional percent', () => {
    expect(() => memoryTargetPolicy(-1)).toThrow(RangeError)
    expect(() => memoryTargetPolicy(MiB, [{ from: 0.9, percent: 50 }, { from: 0.8, percent: 20 }])).toThrow(/loosest to the tightest/)
    expect(() => memoryTargetPolicy(MiB, [{ from: 0.8, percent: 20 }, { from: 0.9, percent: 50 }])).toThrow(/loosest to the tightest/)
    expect(() => memoryTargetPolicy(MiB, [{ from: 0.8, percent: 2.5 }])).toThrow(RangeError)
    expect(() => memoryTargetPolicy(MiB, [{ from: 0, percent: 20 }])).toThrow(RangeError)
    expect(memoryTargetPolicy(MiB).steps).toBe(DEFAULT_STEPS)
  })
})

describe('--memory-target values', () => {
  it('are whole MiB, or 0 / off for none', () => {
    expect(parseMemoryTargetMiB('512')).toBe(512)
    expect(parseMemoryTargetMiB('0')).toBe(0)
    expect(parseMemoryTargetMiB('off')).toBe(0)
    expect(parseMemoryTargetMiB('OFF')).toBe(0)
    for (const bad of ['', '-1', '1.5', '512M', '1e3', 'none', String(2 ** 53)]) expect(parseMemoryTargetMiB(bad), bad).toBeNull()
  })
})
