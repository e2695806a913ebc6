/**
 * The consensus driver: the I/O around the pure state machine. It turns the
 * machine's actions into blocks built from the mempool, durable signatures
 * (SignState), broadcasts, timers and commits, and turns messages, timers and
 * block checks back into events. Events are handled one at a time, in order.
 *
 * Every input of the current height goes to the WAL first; the WAL is durable
 * before anything signed leaves (synced here, or, when the sign state is kept in
 * the same log, by the sign store's own fsync: consensus-log.ts), so a restarted
 * validator replays its inputs, rebuilds the same state (locks included) and
 * re-signs only identical bytes.
 *
 * It meets the network through the seam of DESIGN §8: it publishes through a
 * `ConsensusOutbox` and receives only proposals and votes that passed gossip
 * validation (signatures already checked). When a height stalls, it hands its
 * messages to the outbox again (the network re-gossips them under fresh message
 * ids). Blocks it did not decide (brought by sync) reach it as chain events.
 *
 * A write it depends on (the WAL, the sign state, a commit) that fails with a
 * transient I/O error is retried where it stands, with back-off, until
 * `Timeouts.persist` runs out: an event's actions run after the machine has
 * already moved, so re-running a whole event would not be the same. Nothing is
 * sent before the writes that precede it succeeded. A write that cannot succeed,
 * or a task that fails in a way that leaves the state unknown, halts the driver
 * and calls `onFatal`: the node stops rather than stand still looking healthy.
 */
import { blockHash, decodeBlock, decodeSignedProposal, decodeSignedVote, encodeBlock, encodeProposal, encodeSignedProposal, encodeSignedVote, encodeVote } from '../codec/block.ts'
import { parseHex, toHex } from '../crypto/bytes.ts'
import { signingBytes } from '../crypto/hash.ts'
import type { Chain, CheckedBlock } from '../chain/chain.ts'
import type { Evidence } from '../chain/evidence.ts'
import type { TxPool } from '../chain/tx-pool.ts'
import { ChorusError } from '../protocol/errors.ts'
import type { Block, Commit, PublicKey, SignedProposal, SignedVote, Vote } from '../protocol/types.ts'
import type { Logger } from '../logger.ts'
import type { Clock } from './clock.ts'
import type { SignState } from './sign-state.ts'
import { type ConsensusBugs, type ConsensusState, initialState, step } from './state-machine.ts'
import type { Action, Event, HashHex, TimeoutStep } from './types.ts'
import type { Wal, WalRecord } from './wal.ts'

/** How far a proposal's time may run ahead of our clock. */
const MAX_CLOCK_DRIFT_MS = 5_000
/** Messages kept for the next height: votes (small), and a few proposals (each with its block). */
const MAX_BUFFERED_FUTURE = 10_000
const MAX_BUFFERED_PROPOSALS = 32
/** Network messages waiting in the queue at most: past it (the driver held up by a write) new ones are dropped; peers re-send when a height stalls. */
const MAX_QUEUED_MESSAGES = 10_000
/** A failed write is retried after 50 ms, doubling to 2 s between attempts; a retry is logged at most every 5 s. */
const RETRY_FIRST_MS = 50
const RETRY_MAX_MS = 2_000
const RETRY_LOG_EVERY_MS = 5_000
const DEFAULT_PERSIST_MS = 30_000

/**
 * Error codes worth waiting out, each of a resource another process, a log rotation or an
 * operator may free: file descriptors (EMFILE, ENFILE), disk space or quota (ENOSPC, EDQUOT),
 * a device or kernel that is busy or briefly failing (EIO, EAGAIN, EWOULDBLOCK, EBUSY, EINTR,
 * ENOMEM, ETIMEDOUT), and LevelDB's I/O error, which carries the OS reason only in its message
 * (one LevelDB makes sticky fails until the deadline, and the restart that follows clears it).
 * Anything else (EACCES, EROFS, EISDIR, ENOENT, a bug) says the node's setup or code is wrong:
 * waiting would only hide it.
 */
const TRANSIENT_CODES: ReadonlySet<string> = new Set(['EMFILE', 'ENFILE', 'ENOSPC', 'EDQUOT', 'EIO', 'EAGAIN', 'EWOULDBLOCK', 'EBUSY', 'EINTR', 'ENOMEM', 'ETIMEDOUT', 'LEVEL_IO_ERROR'])

/** Whether `e` is an I/O error that may clear by itself (TRANSIENT_CODES), on the error or its `cause`. */
export function isTransientIoError (e: unknown): boolean {
  const code = (x: unknown) => (x as { code?: unknown } | null)?.code
  const c = code(e) ?? code((e as { cause?: unknown } | null)?.cause)
  return typeof c === 'string' && TRANSIENT_CODES.has(c)
}

/** Why the driver halted: a write that failed for good, or a task that failed with its state unknown. */
export class ConsensusHalted extends Error {
  override readonly name = 'ConsensusHalted'
}

/** A proposal (with its full block) or a vote: what the driver sends and receives. */
export type ConsensusMessage =
  | { type: 'proposal', proposal: SignedProposal, block: Block }
  | { type: 'vote', vote: SignedVote }

/** Where the driver's messages go: the network publishes them (DESIGN §8, the seam). */
export interface ConsensusOutbox {
  publish (msg: ConsensusMessage): void
}

export interface Timeouts {
  /** Waiting for a proposal: blockTimeMs plus this, plus `delta` per round. */
  propose: number
  prevote: number
  precommit: number
  delta: number
  /** How often this node re-sends its messages of the current height. */
  gossip: number
  /** How long a write failing with a transient I/O error is retried before the driver halts (default 30 s). */
  persist?: number
}

export const DEFAULT_TIMEOUTS: Timeouts = { propose: 3000, prevote: 1000, precommit: 1000, delta: 500, gossip: 1000, persist: DEFAULT_PERSIST_MS }

/** The outbox of a validator with no peers. */
export const NO_PEERS: ConsensusOutbox = { publish () {} }

/** Told what the driver does, for metrics. */
export interface ConsensusObserver {
  /** A timeout fired at the height the driver is deciding (not one replayed from the WAL). */
  timeout (step: TimeoutStep, height: number, round: number): void
}

export interface ValidatorIdentity {
  publicKey: PublicKey
  signState: SignState
  wal: Wal
}


export interface DriverModules {
  chain: Chain
  pool: TxPool
  outbox: ConsensusOutbox
  clock: Clock
  logger: Logger
  /** Called with each equivocation seen: two signed, conflicting messages. */
  onEvidence?: (e: Evidence) => void
  /** Test seam: runs before each message leaves; throwing simulates a crash there. */
  beforeSend?: (msg: ConsensusMessage) => void
  bugs?: ConsensusBugs
  /** Told of each timeout that fires (metrics). */
  observer?: ConsensusObserver | null
  /**
   * Called once when the driver halts for good (a ConsensusHalted: a write failed past its
   * deadline or for a reason that does not pass, or a task failed unexpectedly). The driver has
   * stopped signing and sending when it is called; the owner stops the node. Without it the
   * driver logs the error itself.
   */
  onFatal?: (e: ConsensusHalted) => void
}

export class ConsensusDriver {
  private state: ConsensusState
  private queue: Promise<void> = Promise.resolve()
  private readonly blocks = new Map<HashHex, Block>()
  /** This height's proposals (any proposer's) and our own votes, re-sent on the gossip tick. */
  private readonly proposals = new Map<number, ConsensusMessage>()
  /** Every signed proposal of this height by round/hash, for evidence. */
  private readonly signedProposals = new Map<string, SignedProposal>()
  private readonly ownVotes: SignedVote[] = []
  /** Every valid vote of this height, to forward a proposal's proof of lock with it. */
  private readonly seenVotes: SignedVote[] = []
  private readonly seenVoteIds = new Set<string>()
  private readonly future: ConsensusMessage[] = []
  private readonly timers = new Set<() => void>()
  /** The height and round whose proposal this validator has started to build. */
  private building: { height: number, round: number } | null = null
  private lastCommit: Commit | null = null
  /** Where the last gossip tick found the machine: unchanged at the next tick means stalled. */
  private lastTick = ''
  private replaying = false
  private started = false
  private stopped = false
  private unsubscribe: () => void = () => {}
  /** Network messages in the queue (MAX_QUEUED_MESSAGES), and whether the cap was hit since it last drained. */
  private queuedMessages = 0
  private queueFull = false
  /** The write being retried, for logs and /health; null while writes succeed. */
  private retrying: { what: string, error: string, sinceMs: number, loggedMs: number } | null = null
  /** Ends a retry's pause early, when the driver stops. */
  private wake: (() => void) | null = null

  constructor (
    private readonly identity: ValidatorIdentity | null,
    private readonly timeouts: Timeouts,
    private readonly m: DriverModules
  ) {
    this.state = initialState(identity?.publicKey ?? null, m.chain.validators, m.chain.head.height, m.bugs)
  }

  /** A proposal that passed gossip validation (its signature is checked), with its block filled in. */
  receiveProposal (proposal: SignedProposal, block: Block): void {
    this.receive({ type: 'proposal', proposal, block })
  }

  /** A vote that passed gossip validation (its signature is checked). */
  receiveVote (vote: SignedVote): void {
    this.receive({ type: 'vote', vote })
  }

  /** The I/O step the driver is retrying (e.g. what "save the sign state", error "EMFILE: …"), or null when its I/O succeeds. */
  get failingIo (): { what: string, error: string, forMs: number } | null {
    const r = this.retrying
    return r === null ? null : { what: r.what, error: r.error, forMs: this.m.clock.now() - r.sinceMs }
  }

  get height (): number { return this.state.height }
  get round (): number { return this.state.round }
  /** Where the machine is, for logs and simulations: height/round/step, lock and valid value. */
  describe (): string {
    const s = this.state
    const rs = s.rounds.get(s.round)
    const p = rs?.proposal?.blockHash
    const tally = rs === undefined ? '' : ` p=${p?.slice(0, 6) ?? '-'}${p !== undefined ? (s.validity.has(p) ? (s.validity.get(p) === true ? '(ok)' : '(bad)') : '(?)') : ''} pv=${rs.prevotes.total}/${p === undefined ? 0n : rs.prevotes.powerFor(p)} pc=${rs.precommits.total}`
    return `${s.height}/${s.round}/${s.step} by=${toHex(s.validators.proposerAt(s.round)).slice(0, 4)} lock=${s.lockedRound}:${s.lockedValue?.slice(0, 6) ?? '-'} valid=${s.validRound}:${s.validValue?.slice(0, 6) ?? '-'}${tally}`
  }

  /** Starts at the height after the chain's head, replaying the WAL if it holds that height. */
  async start (): Promise<void> {
    const head = this.m.chain.head
    this.lastCommit = head.height === 0 ? null : await this.m.chain.getCommit(head.height)
    const height = head.height + 1
    this.enqueue(async () => {
      const wal = this.identity?.wal
      const records = wal === undefined ? [] : await this.io('open the WAL', async () => await wal.open())
      const at = records.findLastIndex((r) => r.kind === 'height')
      const marker = records[at]
      if (marker?.kind === 'height' && marker.height === height) {
        this.m.logger.info('Replaying the consensus WAL', { height, records: records.length - at - 1 })
        await this.replay(marker.round, records.slice(at + 1))
      } else {
        // no WAL for this height (a new node, or a lost log): skip any round already signed in
        const signed = this.identity?.signState.lastSigned
        const round = signed !== undefined && signed !== null && signed.height === height ? signed.round + 1 : 0
        if (round > 0) this.m.logger.info('Resuming after a restart', { height, round })
        await this.resetWal({ kind: 'height', height, round })
        await this.handle({ type: 'startHeight', height, validators: this.m.chain.validators, round })
      }
      // what arrived while starting: the network may deliver before the machine has a height
      this.started = true
      for (const msg of this.future.splice(0)) await this.onMessage(msg)
    })
    this.scheduleGossip()
    // a block this driver did not decide (sync brought it): move on to the height after it
    this.unsubscribe = this.m.chain.events.onCommitted(() => this.enqueue(async () => await this.catchUp()))
  }

  /** Stops timers and waits for the event in progress to finish. */
  async stop (): Promise<void> {
    this.unsubscribe()
    this.stopped = true
    for (const cancel of this.timers) cancel()
    this.timers.clear()
    this.wake?.()
    await this.queue
    await this.identity?.wal.close()
  }

  /** Resolves when no event is waiting (for simulations and tests). */
  async idle (): Promise<void> {
    let seen: Promise<void> | undefined
    while (seen !== this.queue) {
      seen = this.queue
      await seen
    }
  }

  private enqueue (task: () => Promise<void>): void {
    this.queue = this.queue.then(async () => {
      if (this.stopped) return
      try {
        await task()
      } catch (e) {
        if (e instanceof CrashForTest) { this.halt(); return }
        if (this.stopped) return // stopped during a retried write: nothing more is owed
        // a refusal of the sign guard, a block found bad late: the machine's timeouts carry it on
        if (e instanceof ChorusError) { this.m.logger.error('Consensus task failed', { error: e.message }); return }
        this.fail(e instanceof ConsensusHalted ? e : new ConsensusHalted(`a consensus task failed unexpectedly: ${(e as Error).message}`, { cause: e }))
      }
    })
  }

  /** Queues a network message unless MAX_QUEUED_MESSAGES wait already (a write held up); a dropped one comes back in a peer's re-send. */
  private receive (msg: ConsensusMessage): void {
    if (this.queuedMessages >= MAX_QUEUED_MESSAGES) {
      if (!this.queueFull) this.m.logger.warn('Consensus queue full; dropping network messages until it drains', { queued: this.queuedMessages })
      this.queueFull = true
      return
    }
    this.queuedMessages++
    this.enqueue(async () => {
      if (--this.queuedMessages === 0) this.queueFull = false
      await this.onMessage(msg)
    })
  }

  /** Halts where it stands (nothing more is signed or sent) and hands the error to the owner. */
  private fail (e: ConsensusHalted): void {
    this.halt()
    this.m.logger.debug('Consensus halted', { stack: (e.cause as Error | undefined)?.stack ?? e.stack })
    if (this.m.onFatal !== undefined) this.m.onFatal(e)
    else this.m.logger.error('Consensus halted', { error: e.message })
  }

  /**
   * Runs `op`, a write (or read) of the state consensus depends on, retrying it while it fails
   * with a transient I/O error (isTransientIoError): after 50 ms, doubling to 2 s, until
   * `Timeouts.persist` has passed. Each `op` must be safe to call again after it threw (the WAL,
   * the sign guard, the chain's commit are). A ChorusError passes through untouched; any other
   * failure, or the deadline, throws ConsensusHalted.
   */
  private async io<T> (what: string, op: () => Promise<T>): Promise<T> {
    const clock = this.m.clock
    const start = clock.now()
    const deadline = start + (this.timeouts.persist ?? DEFAULT_PERSIST_MS)
    let pause = RETRY_FIRST_MS
    for (let attempt = 1; ; attempt++) {
      try {
        const value = await op()
        this.recovered(what, attempt)
        return value
      } catch (e) {
        if (this.stopped) throw e
        if (e instanceof ChorusError) { this.recovered(what, attempt); throw e } // the I/O worked; what it read was refused
        const error = (e as Error).message
        if (!isTransientIoError(e)) throw new ConsensusHalted(`cannot ${what}: ${error}`, { cause: e })
        const now = clock.now()
        if (now >= deadline) throw new ConsensusHalted(`cannot ${what}: ${error} (still failing after ${attempt} attempts in ${Math.round((now - start) / 1000)} s)`, { cause: e })
        const r = this.retrying ??= { what, error, sinceMs: now, loggedMs: -Infinity }
        r.what = what
        r.error = error
        if (now - r.loggedMs >= RETRY_LOG_EVERY_MS) {
          r.loggedMs = now
          this.m.logger.warn('Consensus storage failing; retrying', { what, error, attempt, forMs: now - r.sinceMs, giveUpInMs: deadline - now })
        }
        await this.pause(Math.min(pause, deadline - now))
        if (this.stopped) throw e
        pause = Math.min(pause * 2, RETRY_MAX_MS)
      }
    }
  }

  private recovered (what: string, attempts: number): void {
    if (this.retrying === null) return
    this.m.logger.info('Consensus storage recovered', { what, attempts, afterMs: this.m.clock.now() - this.retrying.sinceMs })
    this.retrying = null
  }

  /** Waits `ms` on the driver's clock, or less if it stops. */
  private async pause (ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const cancel = this.m.clock.after(ms, () => { this.wake = null; resolve() })
      this.wake = () => { cancel(); this.wake = null; resolve() }
    })
  }

  private async resetWal (first: WalRecord): Promise<void> {
    const wal = this.identity?.wal
    if (wal !== undefined) await this.io('reset the WAL', async () => await wal.reset(first))
  }

  /** Stops dead, as if the process were killed: no cleanup, nothing flushed. For crash tests and simulations. */
  halt (): void {
    this.unsubscribe()
    this.stopped = true
    for (const cancel of this.timers) cancel()
    this.timers.clear()
    this.wake?.()
  }

  private async handle (event: Event): Promise<void> {
    const { state, actions } = step(this.state, event)
    this.state = state
    for (const a of actions) {
      if (this.stopped) return
      await this.perform(a)
    }
  }

  private async log (r: WalRecord): Promise<void> {
    const wal = this.identity?.wal
    if (!this.replaying && wal !== undefined) await this.io('write the WAL', async () => await wal.append(r))
  }

  /** Makes every input logged so far durable: before anything is signed. */
  private async syncWal (wal: Wal): Promise<void> {
    await this.io('sync the WAL', async () => await wal.sync())
  }

  private send (msg: ConsensusMessage): void {
    this.m.beforeSend?.(msg)
    this.m.outbox.publish(msg)
  }

  private async perform (a: Action): Promise<void> {
    switch (a.type) {
      case 'buildProposal':
        if (!this.replaying) await this.buildProposal(a.height, a.round)
        else this.pendingBuild = { height: a.height, round: a.round }
        return
      case 'validateBlock': return await this.validate(a.height, a.blockHash)
      case 'broadcastProposal': return await this.broadcastProposal(a.height, a.round, a.polRound, a.blockHash)
      case 'broadcastVote': return await this.broadcastVote(a.voteType, a.height, a.round, a.blockHash)
      case 'scheduleTimeout': return this.schedule(a.step, a.height, a.round)
      case 'commit': return await this.commit(a)
      case 'evidence': return this.reportEvidence(a)
    }
  }

  private pendingBuild: { height: number, round: number } | null = null

  /** Turns the machine's report into self-contained evidence: the two signed messages. */
  private reportEvidence (a: Extract<Action, { type: 'evidence' }>): void {
    this.m.logger.warn('Equivocation detected', { height: a.height, round: a.round, kind: a.kind, validator: toHex(a.validator) })
    let e: Evidence | null = null
    if (a.kind === 'proposal') {
      const first = this.signedProposals.get(`${a.round}/${a.first}`)
      const second = this.signedProposals.get(`${a.round}/${a.second}`)
      if (first !== undefined && second !== undefined) e = { kind: 'proposal', first, second }
    } else if (a.signatures !== undefined) {
      const vote = (hash: HashHex | null): Vote => ({ type: a.kind as Vote['type'], chainId: this.m.chain.chainId, height: a.height, round: a.round, blockHash: hash === null ? null : parseHex(hash)!, validator: a.validator })
      e = { kind: a.kind, first: { vote: vote(a.first), signature: a.signatures[0] }, second: { vote: vote(a.second), signature: a.signatures[1] } }
    }
    if (e !== null) this.m.onEvidence?.(e)
  }

  /** Re-feeds the WAL's records of this height; actions run as before, and signing returns the recorded signatures. */
  private async replay (round: number, records: WalRecord[]): Promise<void> {
    const height = this.m.chain.head.height + 1
    this.replaying = true
    try {
      await this.handle({ type: 'startHeight', height, validators: this.m.chain.validators, round })
      for (const r of records) {
        if (this.stopped || this.state.height !== height) break
        switch (r.kind) {
          case 'proposal': await this.onProposal(decodeSignedProposal(r.proposal), decodeBlock(r.block)); break
          case 'vote': await this.onVote(decodeSignedVote(r.vote)); break
          case 'built': {
            const block = decodeBlock(r.block)
            this.blocks.set(toHex(blockHash(block.header)), block)
            if (this.pendingBuild?.height === r.height && this.pendingBuild.round === r.round) this.pendingBuild = null
            await this.handle({ type: 'proposalBuilt', height: r.height, round: r.round, blockHash: toHex(blockHash(block.header)) })
            break
          }
          case 'timeout': await this.handle({ type: 'timeout', step: r.step, height: r.height, round: r.round }); break
          case 'height': case 'signed': break
        }
      }
    } finally {
      this.replaying = false
    }
    const pb = this.pendingBuild
    this.pendingBuild = null
    if (pb !== null && pb.height === this.state.height && pb.round === this.state.round && this.state.step === 'propose') await this.buildProposal(pb.height, pb.round)
  }

  private schedule (stepName: TimeoutStep, height: number, round: number): void {
    const t = this.timeouts
    const base = stepName === 'propose' ? this.m.chain.rules.params.blockTimeMs + t.propose : stepName === 'prevote' ? t.prevote : t.precommit
    this.after(base + round * t.delta, async () => {
      if (height !== this.state.height) return
      this.m.observer?.timeout(stepName, height, round)
      await this.log({ kind: 'timeout', step: stepName, height, round })
      await this.handle({ type: 'timeout', step: stepName, height, round })
    })
  }

  private after (ms: number, task: () => Promise<void>): void {
    const cancel = this.m.clock.after(ms, () => {
      this.timers.delete(cancel)
      this.enqueue(task)
    })
    this.timers.add(cancel)
  }

  /**
   * When a tick finds the machine where the last one left it (stalled), re-sends this round's
   * proposal and our own votes of the last two rounds: peers that lost them recover.
   */
  private scheduleGossip (): void {
    this.after(this.timeouts.gossip, async () => {
      const r = this.state.round
      const where = `${this.state.height}/${r}/${this.state.step}`
      const stalled = where === this.lastTick
      this.lastTick = where
      if (!stalled) { this.scheduleGossip(); return }
      const p = this.proposals.get(r)
      if (p !== undefined) {
        this.send(p)
        if (p.type === 'proposal') this.sendProofOfLock(p.proposal.proposal.polRound, toHex(p.proposal.proposal.blockHash))
      }
      for (const v of this.ownVotes) if (v.vote.height === this.state.height && v.vote.round >= r - 1) this.send({ type: 'vote', vote: v })
      this.scheduleGossip()
    })
  }

  /**
   * A re-proposal (polRound ≥ 0) is accepted only by nodes that saw 2f+1 prevotes for it in
   * polRound (line 28): send the ones we hold, which an equivocator may have kept from some peers.
   */
  private sendProofOfLock (polRound: number, hashHex: HashHex): void {
    if (polRound < 0) return
    for (const v of this.seenVotes) {
      if (v.vote.type === 'prevote' && v.vote.round === polRound && v.vote.blockHash !== null && toHex(v.vote.blockHash) === hashHex) this.send({ type: 'vote', vote: v })
    }
  }

  private async buildProposal (height: number, round: number): Promise<void> {
    const p = this.m.chain.rules.params
    const wait = this.m.chain.head.timeMs + p.blockTimeMs - this.m.clock.now()
    if (wait > 0 && round === 0) {
      // hold until the target block time, which keeps blocks from coming too often with little to
      // carry; a full block's worth pending need not wait (a block's time still moves forward)
      this.after(wait, async () => await this.finishProposal(height, round))
      const cancel = this.m.pool.mempool.whenHolds(p.maxBlockTxs, p.maxBlockBytes, () => {
        this.timers.delete(cancel)
        this.enqueue(async () => await this.finishProposal(height, round))
      })
      this.timers.add(cancel)
      return
    }
    await this.finishProposal(height, round)
  }

  private async finishProposal (height: number, round: number): Promise<void> {
    if (this.state.height !== height || this.state.round !== round || this.state.step !== 'propose' || this.identity === null) return
    // the target time and a full mempool may both call for the same proposal: build it once
    if (this.building?.height === height && this.building.round === round) return
    this.building = { height, round }
    const timeMs = Math.max(this.m.clock.now(), this.m.chain.head.timeMs + 1)
    const { pool } = this.m
    const built = await this.io('build a block', async () => await this.m.chain.lock.run(async () => {
      const b = await this.m.chain.buildBlock(pool.mempool.ordered(), this.identity!.publicKey, timeMs, this.lastCommit)
      pool.dropRejected(b.execution.rejected)
      return b
    }))
    const hash = toHex(built.hash)
    this.blocks.set(hash, built.block)
    await this.log({ kind: 'built', height, round, block: encodeBlock(built.block) })
    await this.handle({ type: 'proposalBuilt', height, round, blockHash: hash })
  }

  private async broadcastProposal (height: number, round: number, polRound: number, hashHex: HashHex): Promise<void> {
    const block = this.blocks.get(hashHex)
    if (block === undefined || this.identity === null) return
    const proposal = { chainId: this.m.chain.chainId, height, round, polRound, blockHash: parseHex(hashHex)!, proposer: this.identity.publicKey }
    const { signState, wal } = this.identity
    if (wal.syncedBySignStore !== true) await this.syncWal(wal) // else the sign store's fsync covers the WAL
    const signature = await this.io('save the sign state', async () => await signState.sign('proposal', 'proposal', height, round, encodeProposal(proposal)))
    const msg: ConsensusMessage = { type: 'proposal', proposal: { proposal, signature }, block }
    this.proposals.set(round, msg)
    this.send(msg)
    this.sendProofOfLock(polRound, hashHex)
    await this.handle({ type: 'proposal', height, round, polRound, blockHash: hashHex, proposer: this.identity.publicKey })
  }

  private async broadcastVote (type: Vote['type'], height: number, round: number, hashHex: HashHex | null): Promise<void> {
    if (this.identity === null) return
    const vote: Vote = { type, chainId: this.m.chain.chainId, height, round, blockHash: hashHex === null ? null : parseHex(hashHex)!, validator: this.identity.publicKey }
    const { signState, wal } = this.identity
    if (wal.syncedBySignStore !== true) await this.syncWal(wal) // else the sign store's fsync covers the WAL
    const bytes = encodeVote(vote)
    const signature = await this.io('save the sign state', async () => await signState.sign('vote', type, height, round, bytes))
    // it comes back in the next block's commit: not verified there
    this.m.chain.verify.signedHere(vote.validator, signingBytes('vote', bytes), signature)
    const signed = { vote, signature }
    this.m.logger.debug('Voted', { type, height, round, hash: hashHex?.slice(0, 12) ?? 'nil', state: this.describe() })
    this.ownVotes.push(signed)
    this.seenVotes.push(signed)
    this.seenVoteIds.add(toHex(signature))
    this.send({ type: 'vote', vote: signed })
    await this.handle({ type: 'vote', vote: { type, height, round, blockHash: hashHex, validator: vote.validator, signature } })
  }

  private async validate (height: number, hashHex: HashHex): Promise<void> {
    const block = this.blocks.get(hashHex)
    if (block === undefined || height !== this.state.height) return
    let valid = true
    let fault: ChorusError | null = null
    const head = this.m.chain.head
    try {
      await this.io('check a block', async () => await this.m.chain.checkBlock(block))
      if (block.header.timeMs > this.m.clock.now() + MAX_CLOCK_DRIFT_MS) valid = false
    } catch (e) {
      if (!(e instanceof ChorusError)) throw e
      fault = e
      valid = false
    }
    // sync or the block topic committed this height while the check ran: its verdict read moving state, and the height is over
    if (this.m.chain.head !== head) return
    if (fault !== null) this.m.logger.warn('Invalid proposal', { height, code: fault.code, detail: fault.detail })
    await this.handle({ type: 'blockValidity', height, blockHash: hashHex, valid })
  }

  private async commit (a: Extract<Action, { type: 'commit' }>): Promise<void> {
    const block = this.blocks.get(a.blockHash)
    if (block === undefined) {
      this.m.logger.error('Decided a block this node does not have', { height: a.height, hash: a.blockHash })
      return
    }
    const commit: Commit = { height: a.height, round: a.round, blockHash: parseHex(a.blockHash)!, signatures: a.signatures }
    if (this.m.chain.head.height >= a.height) return await this.catchUp() // sync brought it first
    await this.applyCommitted(await this.io('check a block', async () => await this.m.chain.checkBlock(block)), commit)
  }

  /** Commits a block decided here, then starts the next height. */
  private async applyCommitted (checked: CheckedBlock, commit: Commit): Promise<void> {
    const { chain } = this.m
    const height = checked.block.header.height
    if (await this.io('commit the block', async () => await chain.commitBlock(checked, commit))) {
      this.m.logger.info('Committed block', { height, round: commit.round, txs: checked.block.txs.length, hash: toHex(checked.hash).slice(0, 16) })
    }
    this.lastCommit = commit
    await this.enterHeight(chain.head.height + 1)
  }

  /** After a commit that sync brought: leave the decided height for the one after the head. */
  private async catchUp (): Promise<void> {
    const head = this.m.chain.head.height
    if (head < this.state.height) return
    this.lastCommit = await this.io('read the last commit', async () => await this.m.chain.getCommit(head))
    await this.enterHeight(head + 1)
  }

  /** Forgets the old height and starts `height` at round 0; replays messages buffered for it. */
  private async enterHeight (height: number): Promise<void> {
    this.blocks.clear()
    this.proposals.clear()
    this.signedProposals.clear()
    this.ownVotes.length = 0
    this.seenVotes.length = 0
    this.seenVoteIds.clear()
    for (const cancel of this.timers) cancel()
    this.timers.clear()
    await this.resetWal({ kind: 'height', height, round: 0 })
    this.scheduleGossip()
    await this.handle({ type: 'startHeight', height, validators: this.m.chain.validators })
    const replay = this.future.splice(0)
    for (const msg of replay) await this.onMessage(msg)
  }

  private async onMessage (msg: ConsensusMessage): Promise<void> {
    const height = msg.type === 'proposal' ? msg.proposal.proposal.height : msg.vote.vote.height
    if (!this.started || height > this.state.height) {
      if ((!this.started || height === this.state.height + 1) && this.canBuffer(msg)) this.future.push(msg)
      return
    }
    if (height < this.state.height) return
    if (msg.type === 'vote') await this.onVote(msg.vote)
    else await this.onProposal(msg.proposal, msg.block)
  }

  private canBuffer (msg: ConsensusMessage): boolean {
    if (this.future.length >= MAX_BUFFERED_FUTURE) return false
    return msg.type === 'vote' || this.future.filter((m) => m.type === 'proposal').length < MAX_BUFFERED_PROPOSALS
  }

  private async onProposal (signed: SignedProposal, block: Block): Promise<void> {
    const { proposal } = signed
    if (proposal.chainId !== this.m.chain.chainId || proposal.height !== this.state.height) return
    const hashHex = toHex(blockHash(block.header))
    if (hashHex !== toHex(proposal.blockHash)) {
      this.m.logger.debug('Proposal for another block than it carries', { height: proposal.height, round: proposal.round })
      return
    }
    const key = `${proposal.round}/${hashHex}`
    if (this.signedProposals.has(key)) return // a re-sent copy: already logged and counted
    // two conflicting proposals of a round are evidence enough; an equivocator's further ones are not kept or logged
    let ofRound = 0
    for (const k of this.signedProposals.keys()) if (k.startsWith(`${proposal.round}/`)) ofRound++
    if (ofRound >= 2) return
    await this.log({ kind: 'proposal', proposal: encodeSignedProposal(signed), block: encodeBlock(block) })
    if (!this.blocks.has(hashHex)) this.blocks.set(hashHex, block)
    this.signedProposals.set(key, signed)
    if (!this.proposals.has(proposal.round)) this.proposals.set(proposal.round, { type: 'proposal', proposal: signed, block })
    await this.handle({ type: 'proposal', height: proposal.height, round: proposal.round, polRound: proposal.polRound, blockHash: hashHex, proposer: proposal.proposer })
  }


  private async onVote (signed: SignedVote): Promise<void> {
    const { vote, signature } = signed
    if (vote.chainId !== this.m.chain.chainId) return
    if (this.m.chain.validators.powerOf(vote.validator) === 0n) return
    const id = toHex(signature)
    if (this.seenVoteIds.has(id)) return // a re-sent copy: already logged and counted
    if (this.seenVotes.length < MAX_BUFFERED_FUTURE) { this.seenVotes.push(signed); this.seenVoteIds.add(id) }
    await this.log({ kind: 'vote', vote: encodeSignedVote(signed) })
    await this.handle({
      type: 'vote',
      vote: { type: vote.type, height: vote.height, round: vote.round, blockHash: vote.blockHash === null ? null : toHex(vote.blockHash), validator: vote.validator, signature }
    })
  }
}

/** Thrown by a `beforeSend` test hook to kill the driver at that exact point. */
export class CrashForTest extends Error {}
