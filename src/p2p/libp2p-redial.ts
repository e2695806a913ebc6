/**
 * Keeps the configured bootstrap peers connected. @libp2p/bootstrap dials once
 * at start and never again, and libp2p's KEEP_ALIVE reconnect queue gives up
 * after a while (NETWORK-NOTES pitfalls 7–8); a validator set must find its
 * peers again however long they were gone. So: on every tick, each configured
 * peer that is neither connected, banned, nor being dialled is dialled once its
 * back-off has passed; the back-off doubles per failure up to a cap and resets
 * once the peer is connected.
 */
import { multiaddr } from '@multiformats/multiaddr'
import { ErrorCode, fail } from '../protocol/errors.ts'

/** Redial timing: a restarted peer is dialled again within `tickMs + maxBackoffMs`. */
export interface RedialTiming {
  /** How often the loop looks (and so the longest a free peer waits). */
  tickMs: number
  /** The wait after a first failure; doubled per further failure. */
  minBackoffMs: number
  maxBackoffMs: number
}

export const DEFAULT_REDIAL_TIMING: RedialTiming = { tickMs: 1_000, minBackoffMs: 1_000, maxBackoffMs: 10_000 }

export interface RedialTarget {
  peerId: string
  /** The full multiaddr, ending in /p2p/<peerId>. */
  addr: string
}

/**
 * Parses bootstrap multiaddrs into targets, dropping our own id (a shared
 * validator list may include us). Throws INVALID_ADDRESS on a multiaddr that
 * does not parse or does not end in /p2p/<id>: a config error found at start.
 */
export function redialTargets (addrs: readonly string[], selfId: string): RedialTarget[] {
  const out: RedialTarget[] = []
  for (const addr of addrs) {
    let peerId: string | undefined
    try {
      peerId = multiaddr(addr).getComponents().findLast((c) => c.name === 'p2p')?.value
    } catch {
      fail(ErrorCode.INVALID_ADDRESS, `bootstrap address ${addr} is not a multiaddr`)
    }
    if (peerId === undefined) fail(ErrorCode.INVALID_ADDRESS, `bootstrap address ${addr} does not end in /p2p/<peerId>`)
    if (peerId !== selfId) out.push({ peerId, addr })
  }
  return out
}

export interface RedialDeps {
  isConnected (peerId: string): boolean
  isBanned (peerId: string): boolean
  /** Resolves once connected; rejects on failure. */
  dial (target: RedialTarget): Promise<void>
  now (): number
}

interface TargetState {
  target: RedialTarget
  dialling: boolean
  /** No dial before this time. */
  nextAt: number
  /** The wait after the next failure. */
  backoffMs: number
}

/**
 * The back-off state of each target. Invariants: at most one dial per target is
 * in flight; banned or connected targets are never dialled; a target's wait
 * stays within [minBackoffMs, maxBackoffMs].
 */
export class Redialer {
  private readonly states: TargetState[]

  constructor (targets: readonly RedialTarget[], private readonly deps: RedialDeps, private readonly timing: RedialTiming = DEFAULT_REDIAL_TIMING) {
    this.states = targets.map((target) => ({ target, dialling: false, nextAt: 0, backoffMs: timing.minBackoffMs }))
  }

  /** Starts a dial to every target that needs one now. Never throws; dial failures only move the back-off. */
  tick (): void {
    const now = this.deps.now()
    for (const s of this.states) {
      if (s.dialling || this.deps.isBanned(s.target.peerId)) continue
      if (this.deps.isConnected(s.target.peerId)) {
        s.nextAt = 0
        s.backoffMs = this.timing.minBackoffMs
        continue
      }
      if (now < s.nextAt) continue
      s.dialling = true
      this.deps.dial(s.target).then(() => {
        s.nextAt = 0
        s.backoffMs = this.timing.minBackoffMs
      }, () => {
        s.nextAt = this.deps.now() + s.backoffMs
        s.backoffMs = Math.min(s.backoffMs * 2, this.timing.maxBackoffMs)
      }).finally(() => { s.dialling = false })
    }
  }
}
