/**
 * The consensus driver: the I/O around the pure state machine. It turns the
 * machine's actions into blocks built from the mempool, signatures (through
 * SignState), broadcasts, timers and commits, and turns messages, timers and
 * block checks back into events. Events are handled one at a time, in order.
 */
import { blockHash, encodeProposal, encodeVote } from '../codec/block.ts'
import { parseHex, toHex } from '../crypto/bytes.ts'
import { signingBytes } from '../crypto/hash.ts'
import type { Chain, CheckedBlock } from '../chain/chain.ts'
import type { TxPool } from '../chain/tx-pool.ts'
import { ChorusError } from '../protocol/errors.ts'
import type { Block, Commit, PublicKey, SignedVote, Vote } from '../protocol/types.ts'
import type { Logger } from '../logger.ts'
import type { Clock } from './clock.ts'
import type { SignState } from './sign-state.ts'
import { type ConsensusState, initialState, step } from './state-machine.ts'
import type { ConsensusMessage, ConsensusTransport } from './transport.ts'
import type { Action, Event, TimeoutStep } from './types.ts'

/** How far a proposal's time may run ahead of our clock. */
const MAX_CLOCK_DRIFT_MS = 5_000
const MAX_BUFFERED_FUTURE = 10_000

export interface Timeouts {
  /** Waiting for a proposal: blockTimeMs plus this, plus `delta` per round. */
  propose: number
  prevote: number
  precommit: number
  delta: number
}

export const DEFAULT_TIMEOUTS: Timeouts = { propose: 3000, prevote: 1000, precommit: 1000, delta: 500 }

export interface ValidatorIdentity {
  publicKey: PublicKey
  signState: SignState
}

export interface DriverModules {
  chain: Chain
  pool: TxPool
  transport: ConsensusTransport
  clock: Clock
  logger: Logger
  /** Called after each block is durably committed. */
  onCommit?: (checked: CheckedBlock, commit: Commit) => void
  onEvidence?: (e: Extract<Action, { type: 'evidence' }>) => void
}

export class ConsensusDriver {
  private state: ConsensusState
  private queue: Promise<void> = Promise.resolve()
  private readonly blocks = new Map<string, Block>()
  private readonly future: ConsensusMessage[] = []
  private readonly timers = new Set<() => void>()
  private lastCommit: Commit | null = null
  private stopped = false

  constructor (
    private readonly identity: ValidatorIdentity | null,
    private readonly timeouts: Timeouts,
    private readonly m: DriverModules
  ) {
    this.state = initialState(identity?.publicKey ?? null, m.chain.validators, m.chain.head.height)
    m.transport.onMessage((msg) => this.enqueue(async () => await this.onMessage(msg)))
  }

  get height (): number { return this.state.height }

  /** Starts at the height after the chain's head. */
  async start (): Promise<void> {
    const head = this.m.chain.head
    this.lastCommit = head.height === 0 ? null : await this.m.chain.getCommit(head.height)
    // Signed at this height before a crash: the sign state refuses to sign anything
    // else in those rounds, so resume in the round after the last one signed.
    const signed = this.identity?.signState.lastSigned
    const round = signed !== undefined && signed !== null && signed.height === head.height + 1 ? signed.round + 1 : 0
    if (round > 0) this.m.logger.info('Resuming after a restart', { height: head.height + 1, round })
    this.enqueue(async () => await this.handle({ type: 'startHeight', height: head.height + 1, validators: this.m.chain.validators, round }))
  }

  /** Stops timers and waits for the event in progress to finish. */
  async stop (): Promise<void> {
    this.stopped = true
    for (const cancel of this.timers) cancel()
    this.timers.clear()
    await this.queue
  }

  private enqueue (task: () => Promise<void>): void {
    this.queue = this.queue.then(async () => {
      if (this.stopped) return
      try {
        await task()
      } catch (e) {
        this.m.logger.error('Consensus task failed', { error: (e as Error).message })
      }
    })
  }

  private async handle (event: Event): Promise<void> {
    const { state, actions } = step(this.state, event)
    this.state = state
    for (const a of actions) await this.perform(a)
  }

  private async perform (a: Action): Promise<void> {
    switch (a.type) {
      case 'buildProposal': return await this.buildProposal(a.height, a.round)
      case 'broadcastProposal': return await this.broadcastProposal(a.height, a.round, a.polRound, a.blockHash)
      case 'broadcastVote': return await this.broadcastVote(a.voteType, a.height, a.round, a.blockHash)
      case 'scheduleTimeout': return this.schedule(a.step, a.height, a.round)
      case 'commit': return await this.commit(a)
      case 'evidence':
        this.m.logger.warn('Equivocation detected', { height: a.height, round: a.round, kind: a.kind, validator: toHex(a.validator) })
        this.m.onEvidence?.(a)
    }
  }

  private schedule (stepName: TimeoutStep, height: number, round: number): void {
    const t = this.timeouts
    const base = stepName === 'propose' ? this.m.chain.rules.params.blockTimeMs + t.propose : stepName === 'prevote' ? t.prevote : t.precommit
    const cancel = this.m.clock.after(base + round * t.delta, () => {
      this.timers.delete(cancel)
      this.enqueue(async () => await this.handle({ type: 'timeout', step: stepName, height, round }))
    })
    this.timers.add(cancel)
  }

  private async buildProposal (height: number, round: number): Promise<void> {
    const head = this.m.chain.head
    const target = head.timeMs + this.m.chain.rules.params.blockTimeMs
    const wait = target - this.m.clock.now()
    if (wait > 0 && round === 0) {
      // hold the proposal until the target block time; the event re-enters the queue
      const cancel = this.m.clock.after(wait, () => {
        this.timers.delete(cancel)
        this.enqueue(async () => await this.finishProposal(height, round))
      })
      this.timers.add(cancel)
      return
    }
    await this.finishProposal(height, round)
  }

  private async finishProposal (height: number, round: number): Promise<void> {
    if (this.state.height !== height || this.state.round !== round || this.identity === null) return
    const timeMs = Math.max(this.m.clock.now(), this.m.chain.head.timeMs + 1)
    const { pool } = this.m
    const built = await pool.lock.run(async () => {
      const b = await this.m.chain.buildBlock(pool.mempool.ordered(), this.identity!.publicKey, timeMs, this.lastCommit)
      pool.dropRejected(b.execution.rejected)
      return b
    })
    this.blocks.set(toHex(built.hash), built.block)
    await this.handle({ type: 'proposalBuilt', height, round, blockHash: toHex(built.hash) })
  }

  private async broadcastProposal (height: number, round: number, polRound: number, hashHex: string): Promise<void> {
    const block = this.blocks.get(hashHex)
    if (block === undefined || this.identity === null) return
    const proposal = { chainId: this.m.chain.chainId, height, round, polRound, blockHash: parseHex(hashHex)!, proposer: this.identity.publicKey }
    const signature = await this.identity.signState.sign('proposal', 'proposal', height, round, encodeProposal(proposal))
    this.m.transport.broadcast({ type: 'proposal', proposal: { proposal, signature }, block })
    await this.handle({ type: 'proposal', height, round, polRound, blockHash: hashHex, proposer: this.identity.publicKey, valid: true })
  }

  private async broadcastVote (type: Vote['type'], height: number, round: number, hashHex: string | null): Promise<void> {
    if (this.identity === null) return
    const vote: Vote = { type, chainId: this.m.chain.chainId, height, round, blockHash: hashHex === null ? null : parseHex(hashHex)!, validator: this.identity.publicKey }
    const signature = await this.identity.signState.sign('vote', type, height, round, encodeVote(vote))
    this.m.transport.broadcast({ type: 'vote', vote: { vote, signature } })
    await this.handle({ type: 'vote', vote: { type, height, round, blockHash: hashHex, validator: vote.validator, signature } })
  }

  private async commit (a: Extract<Action, { type: 'commit' }>): Promise<void> {
    const block = this.blocks.get(a.blockHash)
    if (block === undefined) {
      this.m.logger.error('Decided a block this node does not have', { height: a.height, hash: a.blockHash })
      return
    }
    const commit: Commit = { height: a.height, round: a.round, blockHash: parseHex(a.blockHash)!, signatures: a.signatures }
    const { chain, pool } = this.m
    const checked = await chain.checkBlock(block)
    await pool.lock.run(async () => {
      await chain.commitBlock(checked, commit)
      const nonces = new Map<string, number>()
      for (const tx of checked.block.txs) nonces.set(toHex(tx.unsigned.sender), tx.unsigned.nonce + 1)
      pool.mempool.onBlock(checked.block.txs, (sender) => nonces.get(toHex(sender)))
    })
    this.lastCommit = commit
    this.blocks.clear()
    for (const cancel of this.timers) cancel()
    this.timers.clear()
    this.m.logger.info('Committed block', { height: a.height, round: a.round, txs: block.txs.length, hash: a.blockHash.slice(0, 16) })
    this.m.onCommit?.(checked, commit)
    await this.handle({ type: 'startHeight', height: a.height + 1, validators: chain.validators })
    const replay = this.future.splice(0)
    for (const msg of replay) await this.onMessage(msg)
  }

  private async onMessage (msg: ConsensusMessage): Promise<void> {
    const height = msg.type === 'proposal' ? msg.proposal.proposal.height : msg.vote.vote.height
    if (height > this.state.height) {
      if (height === this.state.height + 1 && this.future.length < MAX_BUFFERED_FUTURE) this.future.push(msg)
      return
    }
    if (height < this.state.height) return
    if (msg.type === 'vote') return await this.onVote(msg.vote)
    const { proposal, signature } = msg.proposal
    if (proposal.chainId !== this.m.chain.chainId) return
    if (!this.m.chain.verify(proposal.proposer, signingBytes('proposal', encodeProposal(proposal)), signature)) return
    if (toHex(blockHash(msg.block.header)) !== toHex(proposal.blockHash)) return
    let valid = true
    try {
      await this.m.chain.checkBlock(msg.block)
      if (msg.block.header.timeMs > this.m.clock.now() + MAX_CLOCK_DRIFT_MS) valid = false
    } catch (e) {
      if (!(e instanceof ChorusError)) throw e
      this.m.logger.warn('Invalid proposal', { height, round: proposal.round, code: e.code, detail: e.detail })
      valid = false
    }
    const hashHex = toHex(proposal.blockHash)
    this.blocks.set(hashHex, msg.block)
    await this.handle({ type: 'proposal', height, round: proposal.round, polRound: proposal.polRound, blockHash: hashHex, proposer: proposal.proposer, valid })
  }

  private async onVote ({ vote, signature }: SignedVote): Promise<void> {
    if (vote.chainId !== this.m.chain.chainId) return
    if (!this.m.chain.verify(vote.validator, signingBytes('vote', encodeVote(vote)), signature)) return
    await this.handle({
      type: 'vote',
      vote: { type: vote.type, height: vote.height, round: vote.round, blockHash: vote.blockHash === null ? null : toHex(vote.blockHash), validator: vote.validator, signature }
    })
  }
}
