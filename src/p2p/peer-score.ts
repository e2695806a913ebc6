/**
 * What a node holds against its peers, apart from gossipsub's own score:
 * application penalties that fade with time, and bans that end. Both are pure
 * bookkeeping over an injected clock; the transport decides what they cost.
 */

/** Below this a penalty counts as forgiven and its entry is dropped. */
const FORGIVEN = 0.01

/**
 * Penalty points per peer, each halving every `halfLifeMs`. Invariants: every
 * total is > 0 (a forgiven peer has no entry), and `get` never grows between
 * two `add`s.
 */
export class PenaltyBook {
  private readonly entries = new Map<string, { points: number, at: number }>()

  constructor (private readonly halfLifeMs: number, private readonly now: () => number = Date.now) {}

  /** Adds `points` to `peer`'s decayed total and returns the new total. */
  add (peer: string, points: number): number {
    const total = this.get(peer) + points
    this.entries.set(peer, { points: total, at: this.now() })
    return total
  }

  /** `peer`'s total now (0 when it has none). */
  get (peer: string): number {
    const e = this.entries.get(peer)
    if (e === undefined) return 0
    return e.points * 0.5 ** ((this.now() - e.at) / this.halfLifeMs)
  }

  clear (peer: string): void {
    this.entries.delete(peer)
  }

  /** Drops forgiven entries, so the book holds only recent offenders. */
  prune (): void {
    for (const peer of this.entries.keys()) if (this.get(peer) < FORGIVEN) this.entries.delete(peer)
  }
}

/** Peers refused until a time. Invariant: `isBanned` is false once the ban's time has come. */
export class BanList {
  private readonly until = new Map<string, number>()

  constructor (private readonly now: () => number = Date.now) {}

  ban (peer: string, ms: number): void {
    this.until.set(peer, Math.max(this.until.get(peer) ?? 0, this.now() + ms))
  }

  isBanned (peer: string): boolean {
    const t = this.until.get(peer)
    return t !== undefined && t > this.now()
  }

  /** Forgets ended bans. */
  prune (): void {
    for (const [peer, t] of this.until) if (t <= this.now()) this.until.delete(peer)
  }
}
