/**
 * Requests per key (a peer) per window, as a token bucket: each key may spend
 * `requests` at once and earns them back evenly over `windowMs`. Unlike fixed
 * windows it allows no double burst at a window's edge.
 */
export interface RateLimit {
  requests: number
  windowMs: number
}

/**
 * Per-key token buckets. Invariants: a key never holds more than `requests`
 * tokens, `take` spends one or refuses, and a refused `take` spends nothing.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number, at: number }>()

  constructor (private readonly limit: RateLimit, private readonly now: () => number = Date.now) {}

  /** Spends one of `key`'s tokens; false when it has none left. */
  take (key: string): boolean {
    const tokens = this.tokens(key)
    if (tokens < 1) return false
    this.buckets.set(key, { tokens: tokens - 1, at: this.now() })
    return true
  }

  /** Drops keys whose buckets have refilled (idle peers): they behave as new ones, so the map holds only busy keys. */
  prune (): void {
    for (const key of this.buckets.keys()) if (this.tokens(key) >= this.limit.requests) this.buckets.delete(key)
  }

  private tokens (key: string): number {
    const b = this.buckets.get(key)
    if (b === undefined) return this.limit.requests
    const earned = (this.now() - b.at) * this.limit.requests / this.limit.windowMs
    return Math.min(this.limit.requests, b.tokens + earned)
  }
}
