/**
 * Catching up from peers (DESIGN §8, sync): a node that is new or behind asks
 * peers for their status, then for ranges of committed blocks from several
 * peers at once, and imports them in order — each block's commit checked
 * against the validator set that decides its height (so across epochs), each
 * block executed and checked before it is stored. Once at the best peer's
 * height it stops: gossip (the block topic, consensus) carries it on, and a
 * poll every `pollMs` fills any block gossip missed.
 *
 * A peer that serves a bad block, garbage, or times out is penalised and not
 * asked again for `benchMs`. Progress is logged every few seconds.
 */
import { decodeBlock, decodeCommit } from '../codec/block.ts'
import type { SyncStatus } from '../codec/gossip.ts'
import type { Chain } from '../chain/chain.ts'
import type { Clock } from '../consensus/clock.ts'
import type { Logger } from '../logger.ts'
import { ChorusError, ErrorCode } from '../protocol/errors.ts'

export type PeerId = string

/** What sync needs of the network: the seam it meets it through. */
export interface SyncPeers {
  peers (): PeerId[]
  status (peer: PeerId): Promise<SyncStatus>
  /** Up to `count` committed blocks from `from`, as stored bytes. */
  blocks (peer: PeerId, from: number, count: number): Promise<Array<{ block: Uint8Array, commit: Uint8Array }>>
  penalize (peer: PeerId, reason: string): void
}

export interface SyncOptions {
  /** How often to ask peers where they are. */
  pollMs: number
  /** Blocks per request. */
  rangeSize: number
  /** Requests in flight, each to a different peer where there are enough. */
  parallel: number
  /** Within this many blocks of the best peer a node is not reported as syncing (gossip carries it). */
  nearHead: number
  /** How long a misbehaving peer is not asked again. */
  benchMs: number
  progressMs: number
  /**
   * Shortest time between two windows of requests: keeps an honest syncer well under a
   * server's per-peer rate limit (PROTOCOL_SPECS.sync) when blocks import fast.
   */
  minWindowMs: number
}

/** After a round that imported something, the next one comes this soon. */
const FOLLOW_UP_MS = 250

export const DEFAULT_SYNC_OPTIONS: SyncOptions = { pollMs: 2_000, rangeSize: 64, parallel: 4, nearHead: 2, benchMs: 60_000, progressMs: 5_000, minWindowMs: 100 }

export interface SyncModules {
  chain: Chain
  peers: SyncPeers
  clock: Clock
  logger: Logger
}

export class Syncer {
  private target: number | null = null
  private running: Promise<void> | null = null
  private cancelTimer: (() => void) | null = null
  private stopped = false
  /** Peers not to ask until the time given. */
  private readonly benched = new Map<PeerId, number>()
  private turn = 0
  private readonly failures = new Map<PeerId, number>()

  constructor (private readonly opts: SyncOptions, private readonly m: SyncModules) {}

  /** True while this node is catching up from more than `nearHead` behind its best peer. */
  get syncing (): boolean { return this.target !== null && this.target - this.m.chain.head.height > this.opts.nearHead }
  /** The height being synced to, while syncing. */
  get syncTarget (): number | null { return this.syncing ? this.target : null }

  start (): void {
    this.schedule(0)
  }

  async stop (): Promise<void> {
    this.stopped = true
    this.cancelTimer?.()
    await this.running
  }

  private lastHint = -Infinity

  /** A peer showed a message of `height`: if that is ahead of the next block, look now (at most once a second). */
  hint (height: number): void {
    const now = this.m.clock.now()
    if (height <= this.m.chain.head.height + 1 || this.running !== null || now - this.lastHint < 1_000) return
    this.lastHint = now
    this.schedule(0)
  }

  /** Resolves when the current round (if any) is over (tests and simulations). */
  async idle (): Promise<void> { await this.running }

  private schedule (ms: number): void {
    if (this.stopped) return
    this.cancelTimer?.()
    this.cancelTimer = this.m.clock.after(ms, () => {
      this.cancelTimer = null
      if (this.running !== null) return
      let imported = false
      this.running = this.round().then((n) => { imported = n > 0 }, (e: unknown) => {
        this.m.logger.error('Sync round failed', { error: (e as Error).message })
      }).finally(() => {
        this.running = null
        // peers moved on while it ran: look again soon (not at once: it would outrun their rate limits)
        this.schedule(imported ? Math.min(this.opts.pollMs, FOLLOW_UP_MS) : this.opts.pollMs)
      })
    })
  }

  private usable (now: number): PeerId[] {
    return this.m.peers.peers().filter((p) => (this.benched.get(p) ?? 0) <= now)
  }

  /** A peer that served bad data: penalised, and not asked again for `benchMs`. */
  private bench (peer: PeerId, reason: string): void {
    this.m.peers.penalize(peer, reason)
    this.rest(peer, this.opts.benchMs)
  }

  /**
   * A request that failed (a timeout, a busy or gone peer): not asked for a few seconds;
   * penalised only when it keeps failing (every third time), since honest peers get busy.
   */
  private failed (peer: PeerId, reason: string): void {
    const n = (this.failures.get(peer) ?? 0) + 1
    this.failures.set(peer, n % 3)
    if (this.failures.size > 1_000) this.failures.delete(this.failures.keys().next().value!)
    if (n >= 3) this.m.peers.penalize(peer, `${reason}, three times`)
    this.rest(peer, Math.min(this.opts.benchMs, 5_000))
  }

  private rest (peer: PeerId, ms: number): void {
    this.benched.set(peer, this.m.clock.now() + ms)
    if (this.benched.size > 1_000) this.benched.delete(this.benched.keys().next().value!)
  }

  /** Asks peers where they are; syncs to the best. Returns how many blocks it imported. */
  private async round (): Promise<number> {
    const heights = new Map<PeerId, number>()
    await Promise.all(this.usable(this.m.clock.now()).slice(0, 16).map(async (p) => {
      try {
        heights.set(p, (await this.m.peers.status(p)).height)
      } catch (e) {
        this.m.logger.debug('Sync status failed', { peer: p, error: (e as Error).message })
      }
    }))
    const best = Math.max(0, ...heights.values())
    // any gap is fetched (a missed block topic message leaves one); only a long one is logged and reported
    if (best <= this.m.chain.head.height) return 0
    const quiet = best - this.m.chain.head.height <= this.opts.nearHead
    this.target = best
    const startHeight = this.m.chain.head.height
    const startTime = this.m.clock.now()
    let lastLog = startTime
    if (!quiet) this.m.logger.info('Syncing', { height: startHeight, target: best, peers: heights.size })
    try {
      while (!this.stopped && this.m.chain.head.height < best) {
        const began = this.m.clock.now()
        const progressed = await this.window(heights, best)
        if (!progressed) break
        const rest = this.opts.minWindowMs - (this.m.clock.now() - began)
        if (rest > 0) await new Promise<void>((resolve) => this.m.clock.after(rest, resolve))
        const now = this.m.clock.now()
        if (now - lastLog >= this.opts.progressMs) {
          lastLog = now
          const done = this.m.chain.head.height - startHeight
          const rate = done / Math.max(1, (now - startTime) / 1000)
          this.m.logger.info('Sync progress', { height: this.m.chain.head.height, target: best, blocksPerSec: Math.round(rate), etaSec: rate > 0 ? Math.round((best - this.m.chain.head.height) / rate) : null })
        }
      }
    } finally {
      this.target = null
    }
    if (!quiet) this.m.logger.info('Synced', { height: this.m.chain.head.height, target: best, ms: this.m.clock.now() - startTime })
    return this.m.chain.head.height - startHeight
  }

  /**
   * Fetches the next `parallel` ranges from different peers at once and imports them in
   * order. False when nothing could be imported (no peer has the next blocks, or all failed).
   */
  private async window (heights: Map<PeerId, number>, best: number): Promise<boolean> {
    const from = this.m.chain.head.height + 1
    const now = this.m.clock.now()
    const peers = this.usable(now).filter((p) => (heights.get(p) ?? 0) >= from)
    if (peers.length === 0) return false
    const ranges: Array<{ from: number, count: number, peer: PeerId }> = []
    const asked = new Map<PeerId, number>()
    // a different peer leads each window: one that stalls the first range cannot stall them all
    const turn = this.turn++
    peers.push(...peers.splice(0, turn % peers.length))
    for (let i = 0, start = from; i < this.opts.parallel && start <= best; i++, start += this.opts.rangeSize) {
      // at most two ranges per peer per window: with the pause between windows, 20 requests a second at most
      const holders = peers.filter((p) => heights.get(p)! >= start && (asked.get(p) ?? 0) < 2)
      if (holders.length === 0) break
      const peer = holders[i % holders.length]!
      asked.set(peer, (asked.get(peer) ?? 0) + 1)
      ranges.push({ from: start, count: Math.min(this.opts.rangeSize, best - start + 1), peer })
    }
    const fetched = ranges.map(async (r) => {
      try {
        return await this.m.peers.blocks(r.peer, r.from, r.count)
      } catch (e) {
        this.m.logger.debug('Sync request failed', { peer: r.peer, from: r.from, error: (e as Error).message })
        this.failed(r.peer, 'sync request failed')
        return null
      }
    })
    let imported = 0
    for (const [i, r] of ranges.entries()) {
      const got = await fetched[i]!
      if (got === null || this.stopped) break
      if (r.from !== this.m.chain.head.height + 1) break // an earlier range came up short
      if (got.length === 0) {
        // it said it had these blocks: an empty answer is a lie (or a peer that lost its store)
        this.bench(r.peer, 'served no blocks of a range it claimed')
        break
      }
      const ok = await this.importRange(r.peer, got)
      imported += ok
      if (ok < r.count) break
    }
    return imported > 0
  }

  /** Imports blocks in order; returns how many. A bad one benches the peer that served it. */
  private async importRange (peer: PeerId, blocks: Array<{ block: Uint8Array, commit: Uint8Array }>): Promise<number> {
    let n = 0
    for (const raw of blocks) {
      if (this.stopped) break
      try {
        const block = decodeBlock(raw.block, this.m.chain.rules.params.maxBlockBytes)
        const commit = decodeCommit(raw.commit)
        if (block.header.height !== this.m.chain.head.height + 1) {
          if (block.header.height <= this.m.chain.head.height) continue // gossip got there first
          throw new ChorusError(ErrorCode.BAD_BLOCK, `expected height ${this.m.chain.head.height + 1}, got ${block.header.height}`)
        }
        await this.m.chain.importBlock(block, commit, raw.block)
        n++
      } catch (e) {
        if (!(e instanceof ChorusError)) throw e
        this.m.logger.warn('Peer served a bad block', { peer, code: e.code, detail: e.detail })
        this.bench(peer, `bad block: ${e.code}`)
        break
      }
    }
    return n
  }
}
