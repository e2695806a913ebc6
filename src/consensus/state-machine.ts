/**
 * Tendermint consensus, Algorithm 1 of "The latest gossip on BFT consensus"
 * (Buchman, Kwon, Milosevic 2018), stake-weighted: 2f+1 reads "more than 2/3
 * of the voting power", f+1 reads "more than 1/3".
 *
 * `step(state, event) → {state, actions}` is pure: no clock, sockets or disk.
 * It takes ownership of `state` (the previous object must not be reused) so
 * that vote tallies need not be copied on every message. The rules are
 * re-evaluated after each event until none fires; each carries its line
 * number in the paper.
 */
import { toHex } from '../crypto/bytes.ts'
import { isQuorum } from '../protocol/commit.ts'
import type { PublicKey, VoteType } from '../protocol/types.ts'
import type { ValidatorSet } from '../protocol/validator-set.ts'
import type { Action, Event, HashHex, Step, VoteIn } from './types.ts'

/** Rounds further ahead than this are not tallied: bounds what a faulty peer can make us store. */
const MAX_ROUND_AHEAD = 64

interface RecordedVote { blockHash: HashHex | null, signature: Uint8Array, validator: PublicKey }

/**
 * Votes of one type in one round. A validator that equivocates is counted
 * once in `total` but in the tally of each value it voted for: the thresholds
 * already allow for f such validators, and a correct node must still see a
 * quorum that other correct nodes saw (the paper counts messages, not senders).
 */
class VoteTally {
  /** Each validator's distinct votes, first one first. */
  readonly byValidator = new Map<string, RecordedVote[]>()
  private readonly power = new Map<HashHex | null, bigint>()
  total = 0n

  /** Records a vote; returns the earlier vote when this is the validator's second distinct value. */
  add (v: VoteIn, power: bigint): RecordedVote | null {
    const id = toHex(v.validator)
    const votes = this.byValidator.get(id) ?? []
    if (votes.some((x) => x.blockHash === v.blockHash)) return null
    votes.push({ blockHash: v.blockHash, signature: v.signature, validator: v.validator })
    this.byValidator.set(id, votes)
    this.power.set(v.blockHash, (this.power.get(v.blockHash) ?? 0n) + power)
    if (votes.length === 1) this.total += power
    return votes.length === 2 ? votes[0]! : null
  }

  powerFor (hash: HashHex | null): bigint { return this.power.get(hash) ?? 0n }

  /** The signatures of the votes for `hash`. */
  signaturesFor (hash: HashHex): Array<{ validator: PublicKey, signature: Uint8Array }> {
    const out: Array<{ validator: PublicKey, signature: Uint8Array }> = []
    for (const votes of this.byValidator.values()) {
      const v = votes.find((x) => x.blockHash === hash)
      if (v !== undefined) out.push({ validator: v.validator, signature: v.signature })
    }
    return out
  }
}

interface RoundState {
  /** The first proposal heard this round: the one this node prevotes on (lines 22, 28). */
  proposal: { blockHash: HashHex, polRound: number } | null
  /** Every value the round's proposer signed (an equivocating proposer signs several): lines 36 and 49 accept any. */
  proposed: Set<HashHex>
  prevotes: VoteTally
  precommits: VoteTally
  /** Validators heard from in this round, for the f+1 round skip (line 55). */
  senders: Map<string, bigint>
  prevoteTimeoutScheduled: boolean
  precommitTimeoutScheduled: boolean
  /** Line 36 fires once per round. */
  lockedOrValidated: boolean
}

export interface ConsensusState {
  height: number
  round: number
  step: Step
  validators: ValidatorSet
  /** This node's validator key, or null for a non-validator that only follows. */
  self: PublicKey | null
  lockedValue: HashHex | null
  lockedRound: number
  validValue: HashHex | null
  validRound: number
  rounds: Map<number, RoundState>
  /** The driver's verdicts on blocks of this height; absent means not yet known. */
  validity: Map<HashHex, boolean>
  decided: HashHex | null
  /** Deliberate bugs, for showing that the simulator's checker can fail. Never set in a node. */
  bugs: ConsensusBugs
}

export interface ConsensusBugs {
  /** Prevote for any valid proposal, ignoring the lock (breaks safety across rounds). */
  ignoreLock?: boolean
  /** Treat more than 1/3 of the power as a quorum (breaks safety outright). */
  noQuorumCheck?: boolean
}

export function initialState (self: PublicKey | null, validators: ValidatorSet, height = 0, bugs: ConsensusBugs = {}): ConsensusState {
  return {
    height, round: 0, step: 'commit', validators, self,
    lockedValue: null, lockedRound: -1, validValue: null, validRound: -1,
    rounds: new Map(), validity: new Map(), decided: null, bugs
  }
}

function quorum (s: ConsensusState, power: bigint): boolean {
  const total = s.validators.totalPower
  return s.bugs.noQuorumCheck === true ? power * 3n > total : isQuorum(power, total)
}

const isValid = (s: ConsensusState, hash: HashHex): boolean => s.validity.get(hash) === true

function roundState (s: ConsensusState, r: number): RoundState {
  let rs = s.rounds.get(r)
  if (rs === undefined) {
    rs = {
      proposal: null, proposed: new Set(), prevotes: new VoteTally(), precommits: new VoteTally(), senders: new Map(),
      prevoteTimeoutScheduled: false, precommitTimeoutScheduled: false, lockedOrValidated: false
    }
    s.rounds.set(r, rs)
  }
  return rs
}

const isSelf = (s: ConsensusState, who: PublicKey): boolean => s.self !== null && toHex(s.self) === toHex(who)

/** Applies one event; returns the new state and what the driver must do, in order. */
export function step (s: ConsensusState, e: Event): { state: ConsensusState, actions: Action[] } {
  const out: Action[] = []
  switch (e.type) {
    case 'startHeight':
      s = initialState(s.self, e.validators, e.height, s.bugs)
      startRound(s, e.round ?? 0, out)
      break
    case 'proposalBuilt':
      if (e.height === s.height && e.round === s.round && s.step === 'propose') {
        s.validity.set(e.blockHash, true) // built from the head by this node's own chain
        out.push({ type: 'broadcastProposal', height: s.height, round: s.round, polRound: -1, blockHash: e.blockHash })
      }
      break
    case 'blockValidity':
      if (e.height === s.height) s.validity.set(e.blockHash, e.valid)
      break
    case 'proposal':
      onProposal(s, e, out)
      break
    case 'vote':
      onVote(s, e.vote, out)
      break
    case 'timeout':
      onTimeout(s, e, out)
      break
  }
  while (s.step !== 'commit' && applyRules(s, out)) { /* until no rule fires */ }
  return { state: s, actions: out }
}

/** StartRound(r), lines 11–21. */
function startRound (s: ConsensusState, r: number, out: Action[]): void {
  s.round = r
  s.step = 'propose'
  const proposer = s.validators.proposerAt(r)
  if (isSelf(s, proposer)) {
    if (s.validValue !== null) out.push({ type: 'broadcastProposal', height: s.height, round: r, polRound: s.validRound, blockHash: s.validValue })
    else out.push({ type: 'buildProposal', height: s.height, round: r })
  }
  // the proposer too (as CometBFT does): if its own proposal never gets out, the round still moves on
  out.push({ type: 'scheduleTimeout', step: 'propose', height: s.height, round: r })
}

function inWindow (s: ConsensusState, height: number, round: number): boolean {
  return height === s.height && s.step !== 'commit' && round >= 0 && round <= s.round + MAX_ROUND_AHEAD
}

function noteSender (rs: RoundState, who: PublicKey, power: bigint): void {
  rs.senders.set(toHex(who), power)
}

function onProposal (s: ConsensusState, e: Extract<Event, { type: 'proposal' }>, out: Action[]): void {
  if (!inWindow(s, e.height, e.round)) return
  if (toHex(s.validators.proposerAt(e.round)) !== toHex(e.proposer)) return
  if (e.polRound < -1 || e.polRound >= e.round) return
  const rs = roundState(s, e.round)
  if (rs.proposed.has(e.blockHash)) return
  rs.proposed.add(e.blockHash)
  if (rs.proposal === null) rs.proposal = { blockHash: e.blockHash, polRound: e.polRound }
  else if (rs.proposed.size === 2) {
    out.push({ type: 'evidence', height: e.height, round: e.round, kind: 'proposal', validator: e.proposer, first: rs.proposal.blockHash, second: e.blockHash })
  }
  noteSender(rs, e.proposer, s.validators.powerOf(e.proposer))
  if (!s.validity.has(e.blockHash)) out.push({ type: 'validateBlock', height: e.height, blockHash: e.blockHash })
}

function onVote (s: ConsensusState, v: VoteIn, out: Action[]): void {
  if (!inWindow(s, v.height, v.round)) return
  const power = s.validators.powerOf(v.validator)
  if (power === 0n) return
  const rs = roundState(s, v.round)
  const tally = v.type === 'prevote' ? rs.prevotes : rs.precommits
  const conflict = tally.add(v, power)
  if (conflict !== null) {
    out.push({ type: 'evidence', height: v.height, round: v.round, kind: v.type, validator: v.validator, first: conflict.blockHash, second: v.blockHash, signatures: [conflict.signature, v.signature] })
  }
  noteSender(rs, v.validator, power)
}

function onTimeout (s: ConsensusState, e: Extract<Event, { type: 'timeout' }>, out: Action[]): void {
  if (e.height !== s.height || e.round !== s.round || s.step === 'commit') return
  if (e.step === 'propose' && s.step === 'propose') vote(s, 'prevote', null, out) // line 57
  else if (e.step === 'prevote' && s.step === 'prevote') vote(s, 'precommit', null, out) // line 61
  else if (e.step === 'precommit') startRound(s, s.round + 1, out) // line 65
}

function vote (s: ConsensusState, type: VoteType, hash: HashHex | null, out: Action[]): void {
  if (s.self !== null && s.validators.powerOf(s.self) > 0n) out.push({ type: 'broadcastVote', voteType: type, height: s.height, round: s.round, blockHash: hash })
  s.step = type
}

/** Fires the first rule that applies; returns whether one did. */
function applyRules (s: ConsensusState, out: Action[]): boolean {
  const r = s.round
  const rs = roundState(s, r)
  const p = rs.proposal

  // line 49: a proposal and 2f+1 precommits for it, in any round → decide
  for (const [round, x] of s.rounds) {
    for (const hash of x.proposed) {
      if (!isValid(s, hash) || !quorum(s, x.precommits.powerFor(hash))) continue
      const signatures = x.precommits.signaturesFor(hash)
      s.decided = hash
      s.step = 'commit'
      out.push({ type: 'commit', height: s.height, round, blockHash: hash, signatures })
      return true
    }
  }

  // lines 22 and 28 need the block's validity: wait for the driver's verdict (or the propose timeout)
  if (s.step === 'propose' && p !== null && s.validity.has(p.blockHash)) {
    const valid = isValid(s, p.blockHash)
    const unlocked = s.bugs.ignoreLock === true
    // line 22: a fresh proposal
    if (p.polRound === -1) {
      const ok = valid && (unlocked || s.lockedRound === -1 || s.lockedValue === p.blockHash)
      vote(s, 'prevote', ok ? p.blockHash : null, out)
      return true
    }
    // line 28: a re-proposal backed by 2f+1 prevotes in its polRound
    const pol = s.rounds.get(p.polRound)
    if (pol !== undefined && quorum(s, pol.prevotes.powerFor(p.blockHash))) {
      const ok = valid && (unlocked || s.lockedRound <= p.polRound || s.lockedValue === p.blockHash)
      vote(s, 'prevote', ok ? p.blockHash : null, out)
      return true
    }
  }

  // line 34: 2f+1 prevotes of any kind → start the prevote timer
  if (s.step === 'prevote' && !rs.prevoteTimeoutScheduled && quorum(s, rs.prevotes.total)) {
    rs.prevoteTimeoutScheduled = true
    out.push({ type: 'scheduleTimeout', step: 'prevote', height: s.height, round: r })
    return true
  }

  // line 36: a valid proposal and 2f+1 prevotes for it → lock and precommit
  if (s.step !== 'propose' && !rs.lockedOrValidated) {
    for (const hash of rs.proposed) {
      if (!isValid(s, hash) || !quorum(s, rs.prevotes.powerFor(hash))) continue
      rs.lockedOrValidated = true
      if (s.step === 'prevote') {
        s.lockedValue = hash
        s.lockedRound = r
        vote(s, 'precommit', hash, out)
      }
      s.validValue = hash
      s.validRound = r
      return true
    }
  }

  // line 44: 2f+1 prevotes for nil → precommit nil
  if (s.step === 'prevote' && quorum(s, rs.prevotes.powerFor(null))) {
    vote(s, 'precommit', null, out)
    return true
  }

  // line 47: 2f+1 precommits of any kind → start the precommit timer
  if (!rs.precommitTimeoutScheduled && quorum(s, rs.precommits.total)) {
    rs.precommitTimeoutScheduled = true
    out.push({ type: 'scheduleTimeout', step: 'precommit', height: s.height, round: r })
    return true
  }

  // line 55: f+1 of the power speaking in a later round → jump to it
  for (const [round, x] of s.rounds) {
    if (round <= r) continue
    let power = 0n
    for (const w of x.senders.values()) power += w
    if (power * 3n > s.validators.totalPower) {
      startRound(s, round, out)
      return true
    }
  }
  return false
}
