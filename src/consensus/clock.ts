/** Time for the driver: wall time in production, virtual time in simulations. */
export interface Clock {
  now (): number
  /** Calls `fn` after `ms`; the returned function cancels it. */
  after (ms: number, fn: () => void): () => void
}

export const systemClock: Clock = {
  now: () => Date.now(),
  after (ms, fn) {
    const t = setTimeout(fn, Math.max(0, ms))
    return () => clearTimeout(t)
  }
}
