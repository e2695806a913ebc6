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
import type { Block, Commit } from '../protocol/types.ts'
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
/** Range requests open to one peer at once (a server serves 4 at once to all its peers). */
const PER_PEER = 2
/** Ranges in a row that imported nothing before a round gives up (the next poll starts again). */
const MAX_RETRIES = 3

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
  /** When each peer was last asked for a range (requests to one peer are spaced by `gap()`). */
  private readonly lastAsked = new Map<PeerId, number>()
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
    if (!quiet) this.m.logger.info('Syncing', { height: startHeight, target: best, peers: heights.size })
    try {
      await this.pipeline(heights, best, startHeight, startTime)
    } finally {
      this.target = null
    }
    if (!quiet) this.m.logger.info('Synced', { height: this.m.chain.head.height, target: best, ms: this.m.clock.now() - startTime })
    return this.m.chain.head.height - startHeight
  }

  /**
   * Keeps up to `parallel` range requests in flight (at most PER_PEER to one peer, each
   * peer asked at most once every `minWindowMs / PER_PEER`), ahead of the import, and
   * imports the ranges strictly in height order as they arrive: the next ranges download
   * (and their signatures verify, off the main thread) while this one executes. A range
   * that fails, comes back short or bad ends the pipeline's ranges after it (their answers
   * are dropped) and it is asked again from the head, of other peers.
   */
  private async pipeline (heights: Map<PeerId, number>, best: number, startHeight: number, startTime: number): Promise<void> {
    const inFlight: Fetch[] = []
    const perPeer = new Map<PeerId, number>()
    let next = this.m.chain.head.height + 1
    let lastLog = startTime
    let retries = 0
    const drop = (): void => {
      // answers still coming are dropped (each settles on its own and frees its peer's slot)
      inFlight.length = 0
      next = this.m.chain.head.height + 1
    }
    while (!this.stopped && this.m.chain.head.height < best) {
      // fill the pipeline
      while (inFlight.length < this.opts.parallel && next <= best) {
        const r = this.ask(heights, next, best, perPeer)
        if (r === null) break
        inFlight.push(r)
        next += r.count
      }
      const r = inFlight[0]
      if (r === undefined) {
        // every peer with the next blocks is resting or at its share: wait for one, unless none can serve at all
        if (this.holders(heights, this.m.chain.head.height + 1).length === 0) break
        await this.pause(this.gap())
        continue
      }
      if (next <= best && inFlight.length < this.opts.parallel) {
        // more could be asked once a peer's gap has passed: wake then too
        const answered = await Promise.race([r.result.then(() => true), this.pause(this.gap()).then(() => false)])
        if (!answered) continue
      }
      inFlight.shift()
      const got = await r.result
      if (this.stopped) break
      let ok = 0
      // (gossip may have brought some of its blocks meanwhile: those are skipped)
      if (got !== null && r.from <= this.m.chain.head.height + 1) {
        if (got.length === 0) {
          // it said it had these blocks: an empty answer is a lie (or a peer that lost its store)
          this.bench(r.peer, 'served no blocks of a range it claimed')
        } else {
          ok = await this.importRange(r.peer, got)
        }
      }
      if (this.m.chain.head.height < r.from + r.count - 1) {
        // failed, short or bad (or an earlier range came up short): ask again from the head
        drop()
        if (ok === 0 && ++retries > MAX_RETRIES) break // asked again and again, nothing imported: the next poll tries
      } else retries = 0
      const now = this.m.clock.now()
      if (now - lastLog >= this.opts.progressMs) {
        lastLog = now
        const done = this.m.chain.head.height - startHeight
        const rate = done / Math.max(1, (now - startTime) / 1000)
        this.m.logger.info('Sync progress', { height: this.m.chain.head.height, target: best, blocksPerSec: Math.round(rate), etaSec: rate > 0 ? Math.round((best - this.m.chain.head.height) / rate) : null })
      }
    }
    inFlight.length = 0
  }

  /** Peers that may be asked for `height` now (not resting, claiming it). */
  private holders (heights: Map<PeerId, number>, height: number): PeerId[] {
    return this.usable(this.m.clock.now()).filter((p) => (heights.get(p) ?? 0) >= height)
  }

  /** Shortest time between two requests to one peer. */
  private gap (): number { return Math.max(1, this.opts.minWindowMs / PER_PEER) }

  /**
   * Asks a peer that has `from` for the range starting there: peers in turn (a different one
   * first each time, so one that stalls cannot stall every range), none with PER_PEER requests
   * open or asked within `gap()`. Null when none can be asked now.
   */
  private ask (heights: Map<PeerId, number>, from: number, best: number, perPeer: Map<PeerId, number>): Fetch | null {
    const now = this.m.clock.now()
    const peers = this.holders(heights, from).filter((p) => (perPeer.get(p) ?? 0) < PER_PEER && now - (this.lastAsked.get(p) ?? -Infinity) >= this.gap())
    if (peers.length === 0) return null
    const peer = peers[this.turn++ % peers.length]!
    const count = Math.min(this.opts.rangeSize, best - from + 1)
    perPeer.set(peer, (perPeer.get(peer) ?? 0) + 1)
    this.lastAsked.set(peer, now)
    if (this.lastAsked.size > 1_000) this.lastAsked.delete(this.lastAsked.keys().next().value!)
    const result = this.fetchRange(peer, from, count).finally(() => {
      const n = (perPeer.get(peer) ?? 1) - 1
      if (n <= 0) perPeer.delete(peer)
      else perPeer.set(peer, n)
    })
    return { from, count, peer, result }
  }

  /**
   * One range, decoded, with the signatures of its txs sent to be verified at once (the
   * verify pool works through them while earlier blocks execute; the chain remembers each
   * one verified, so the block check does not verify it again). Null when the request
   * failed; a range that does not decode is answered with the blocks before the bad one
   * (and the peer benched when it is imported).
   */
  private async fetchRange (peer: PeerId, from: number, count: number): Promise<Fetched[] | null> {
    let raw: Array<{ block: Uint8Array, commit: Uint8Array }>
    try {
      raw = await this.m.peers.blocks(peer, from, count)
    } catch (e) {
      this.m.logger.debug('Sync request failed', { peer, from, error: (e as Error).message })
      this.failed(peer, 'sync request failed')
      return null
    }
    const out: Fetched[] = []
    for (const r of raw.slice(0, count)) {
      let block: Block
      let commit: Commit
      try {
        block = decodeBlock(r.block, this.m.chain.rules.params.maxBlockBytes)
        commit = decodeCommit(r.commit)
      } catch (e) {
        out.push({ bytes: r.block, error: e })
        break
      }
      if (block.header.height !== from + out.length) {
        // not the block asked for: the peer is at fault, whatever the chain's head is by now
        out.push({ bytes: r.block, error: new ChorusError(ErrorCode.BAD_BLOCK, `range from ${from}: block ${out.length} has height ${block.header.height}`) })
        break
      }
      const verified = this.m.chain.verifyTxSignatures(block.txs).then(() => {}, () => {})
      out.push({ block, commit, bytes: r.block, verified })
    }
    return out
  }

  /** Waits `ms` on the clock (less if sync stops meanwhile: the loop checks `stopped`). */
  private async pause (ms: number): Promise<void> {
    await new Promise<void>((resolve) => this.m.clock.after(ms, resolve))
  }

  /** Imports blocks in order; returns how many. A bad one benches the peer that served it. */
  private async importRange (peer: PeerId, blocks: Fetched[]): Promise<number> {
    let n = 0
    for (const f of blocks) {
      if (this.stopped) break
      try {
        if (!('block' in f)) throw f.error
        const { block, commit } = f
        if (block.header.height !== this.m.chain.head.height + 1) {
          if (block.header.height <= this.m.chain.head.height) continue // gossip got there first
          throw new ChorusError(ErrorCode.BAD_BLOCK, `expected height ${this.m.chain.head.height + 1}, got ${block.header.height}`)
        }
        await f.verified
        await this.m.chain.importBlock(block, commit, f.bytes)
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

/** A block of a range as it arrived: decoded (its signatures being verified), or the error it failed to decode with. */
type Fetched = { block: Block, commit: Commit, bytes: Uint8Array, verified: Promise<void> } | { bytes: Uint8Array, error: unknown }

/** A range request in flight. */
interface Fetch {
  from: number
  count: number
  peer: PeerId
  result: Promise<Fetched[] | null>
}
