/**
 * The consensus state machine's inputs and outputs. Block hashes are hex
 * strings inside the machine (map keys); the driver converts at the edge.
 */
import type { PublicKey, VoteType } from '../protocol/types.ts'
import type { ValidatorSet } from '../protocol/validator-set.ts'

export type HashHex = string
export type Step = 'propose' | 'prevote' | 'precommit' | 'commit'
export type TimeoutStep = 'propose' | 'prevote' | 'precommit'

export interface VoteIn {
  type: VoteType
  height: number
  round: number
  /** null votes for nil. */
  blockHash: HashHex | null
  validator: PublicKey
  /** Kept opaque: it goes into the commit. The driver has verified it. */
  signature: Uint8Array
}

export type Event =
  /**
   * Begin `height` with the set that validates it, at round 0 — or later, when
   * this validator already signed in earlier rounds of it before a restart.
   */
  | { type: 'startHeight', height: number, validators: ValidatorSet, round?: number }
  /** A proposal whose signature the driver checked. Its block's validity comes as a separate event. */
  | { type: 'proposal', height: number, round: number, polRound: number, blockHash: HashHex, proposer: PublicKey }
  /** The driver's verdict on a block the machine asked about with `validateBlock`. */
  | { type: 'blockValidity', height: number, blockHash: HashHex, valid: boolean }
  | { type: 'vote', vote: VoteIn }
  /** The driver built the block this validator asked for with `buildProposal`. */
  | { type: 'proposalBuilt', height: number, round: number, blockHash: HashHex }
  | { type: 'timeout', step: TimeoutStep, height: number, round: number }

export type Action =
  | { type: 'buildProposal', height: number, round: number }
  /** Check the block with this hash (execute it against the head) and answer with `blockValidity`. */
  | { type: 'validateBlock', height: number, blockHash: HashHex }
  | { type: 'broadcastProposal', height: number, round: number, polRound: number, blockHash: HashHex }
  | { type: 'broadcastVote', voteType: VoteType, height: number, round: number, blockHash: HashHex | null }
  | { type: 'scheduleTimeout', step: TimeoutStep, height: number, round: number }
  | { type: 'commit', height: number, round: number, blockHash: HashHex, signatures: Array<{ validator: PublicKey, signature: Uint8Array }> }
  /** Two signed, conflicting messages from one validator at one height/round/step. */
  | {
    type: 'evidence', height: number, round: number, kind: 'proposal' | VoteType, validator: PublicKey
    first: HashHex | null, second: HashHex | null
    /** For votes, the two signatures (the driver holds proposals' own). */
    signatures?: [Uint8Array, Uint8Array]
  }
