/** Virtual time and a deterministic event queue: earliest first, ties in insertion order. */
import type { Clock } from '../../src/consensus/clock.ts'
import { BinaryHeap } from '../../src/util/binary-heap.ts'

interface Scheduled { at: number, seq: number, run: () => void, cancelled: boolean }

export class SimClock implements Clock {
  private time = 0
  private seq = 0
  private readonly heap = new BinaryHeap<Scheduled>((a, b) => a.at < b.at || (a.at === b.at && a.seq < b.seq))

  now (): number { return this.time }

  after (ms: number, fn: () => void): () => void {
    const s: Scheduled = { at: this.time + Math.max(0, ms), seq: this.seq++, run: fn, cancelled: false }
    this.heap.push(s)
    return () => { s.cancelled = true }
  }

  /** Runs the next event, advancing time to it; false when nothing is left. */
  runNext (): boolean {
    for (;;) {
      const s = this.heap.pop()
      if (s === undefined) return false
      if (s.cancelled) continue
      this.time = s.at
      s.run()
      return true
    }
  }

  get pending (): number { return this.heap.size }
}

/** A seeded PRNG (mulberry32): the whole simulation replays from its seed. */
export function prng (seed: number) {
  let a = seed >>> 0
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  return {
    next,
    int: (n: number): number => Math.floor(next() * n),
    chance: (p: number): boolean => next() < p,
    between: (lo: number, hi: number): number => lo + Math.floor(next() * (hi - lo + 1))
  }
}
