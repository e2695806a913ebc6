/**
 * Gossip validation of proposals and votes (DESIGN §8): what a node checks before
 * it forwards one or hands it to its consensus driver. Pure but for `verify`;
 * the caller owns the `seen` cache.
 *
 * The current height is the one after the head. A message for it, or for the
 * height after (the driver keeps those until it gets there), is checked in full
 * against the set that decides its height: chain, validator, proposer,
 * signature. Nothing unauthenticated is accepted (and so forwarded): where the
 * next height's set is not known yet (an epoch boundary), its messages are
 * IGNOREd. Older ones are IGNOREd as STALE; later ones as FUTURE (a sign that
 * this node is behind: sync catches it up).
 */
import { blockHash, encodeProposal, encodeVote } from '../../codec/block.ts'
import type { CompactBlock } from '../../codec/gossip.ts'
import { equalBytes, toHex } from '../../crypto/bytes.ts'
import { signingBytes } from '../../crypto/hash.ts'
import { ErrorCode } from '../../protocol/errors.ts'
import type { SignedProposal, SignedVote } from '../../protocol/types.ts'
import type { VerifyFn } from '../../protocol/validate.ts'
import type { ValidatorSet } from '../../protocol/validator-set.ts'
import type { BoundedSet } from '../../util/bounded-set.ts'
import { ignore, reject } from './gossip-error.ts'

/** Rounds this far past 0 are not worth a check: no honest validator gets there. */
const MAX_ROUND = 1_000

export interface ConsensusContext {
  chainId: string
  /** The height being decided: the head's plus one. */
  height: number
  /** The set that decides `height`. */
  validators: ValidatorSet
  /** The set that decides `height + 1`, when it is known already (not across an epoch change). */
  nextValidators: ValidatorSet | null
  maxBlockTxs: number
  verify: VerifyFn
  /** Messages already accepted, by signature. */
  seen: BoundedSet
}

/** The set that decides `height`, or a GossipError when the message is not for now. */
function setFor (chainId: string, height: number, round: number, ctx: ConsensusContext): ValidatorSet {
  if (chainId !== ctx.chainId) reject(ErrorCode.WRONG_CHAIN, `for chain ${chainId}`)
  if (height < ctx.height) ignore(ErrorCode.STALE, `height ${height} is decided`)
  if (height > ctx.height + 1) ignore(ErrorCode.FUTURE, `height ${height} is ahead of ${ctx.height}`)
  if (round > MAX_ROUND) ignore(ErrorCode.FUTURE, `round ${round}`)
  if (height === ctx.height) return ctx.validators
  return ctx.nextValidators ?? ignore(ErrorCode.FUTURE, `the set of height ${height} is not known yet`)
}

/** Accepts (returns) or throws a GossipError. Marks the vote seen when it passes. */
export function validateVote (signed: SignedVote, ctx: ConsensusContext): void {
  const { vote, signature } = signed
  const set = setFor(vote.chainId, vote.height, vote.round, ctx)
  const id = toHex(signature)
  if (ctx.seen.has(id)) ignore(ErrorCode.ALREADY_KNOWN, 'vote already seen')
  if (set.powerOf(vote.validator) === 0n) reject(ErrorCode.NOT_VALIDATOR, 'vote from a non-validator')
  if (!ctx.verify(vote.validator, signingBytes('vote', encodeVote(vote)), signature)) reject(ErrorCode.BAD_SIGNATURE, 'vote signature does not verify')
  ctx.seen.add(id)
}

/** Accepts (returns) or throws a GossipError. Marks the proposal seen when it passes. */
export function validateProposal (signed: SignedProposal, block: CompactBlock, ctx: ConsensusContext): void {
  const { proposal, signature } = signed
  const set = setFor(proposal.chainId, proposal.height, proposal.round, ctx)
  const id = toHex(signature)
  if (ctx.seen.has(id)) ignore(ErrorCode.ALREADY_KNOWN, 'proposal already seen')
  if (block.header.height !== proposal.height || block.header.chainId !== proposal.chainId) reject(ErrorCode.BAD_BLOCK, 'block is not for the proposal\'s height')
  if (!equalBytes(blockHash(block.header), proposal.blockHash)) reject(ErrorCode.BAD_BLOCK, 'block is not the one proposed')
  if (block.txIds.length > ctx.maxBlockTxs) reject(ErrorCode.BAD_BLOCK, `more than ${ctx.maxBlockTxs} txs`)
  if (proposal.polRound >= proposal.round) reject(ErrorCode.MALFORMED, 'polRound must be below round')
  if (!equalBytes(set.proposerAt(proposal.round), proposal.proposer)) {
    reject(ErrorCode.WRONG_PROPOSER, `not the proposer of round ${proposal.round}`)
  }
  if (!ctx.verify(proposal.proposer, signingBytes('proposal', encodeProposal(proposal)), signature)) reject(ErrorCode.BAD_SIGNATURE, 'proposal signature does not verify')
  ctx.seen.add(id)
}
