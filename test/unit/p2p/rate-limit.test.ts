import { describe, expect, it } from 'vitest'
import { RateLimiter } from '../../../src/p2p/rate-limit.ts'

describe('RateLimiter', () => {
  it('allows a burst of `requests`, then earns them back evenly over the window', () => {
    let now = 0
    const rl = new RateLimiter({ requests: 3, windowMs: 3_000 }, () => now)
    expect([rl.take('p'), rl.take('p'), rl.take('p'), rl.take('p')]).toEqual([true, true, true, false])
    expect(rl.take('q')).toBe(true) // per key
    now = 999
    expect(rl.take('p')).toBe(false)
    now = 1_000
    expect(rl.take('p')).toBe(true)
    expect(rl.take('p')).toBe(false) // a refused take spends nothing, but earns nothing either
    now = 100_000
    expect([rl.take('p'), rl.take('p'), rl.take('p'), rl.take('p')]).toEqual([true, true, true, false]) // never more than `requests`
  })

  it('forgets keys whose buckets have refilled', () => {
    let now = 0
    const rl = new RateLimiter({ requests: 2, windowMs: 1_000 }, () => now)
    rl.take('p')
    rl.take('p')
    rl.prune()
    expect(rl.take('p')).toBe(false) // still remembered: empty
    now = 5_000
    rl.prune()
    expect((rl as unknown as { buckets: Map<string, unknown> }).buckets.size).toBe(0)
    expect([rl.take('p'), rl.take('p'), rl.take('p')]).toEqual([true, true, false])
  })
})
