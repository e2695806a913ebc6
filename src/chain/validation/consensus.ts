/**
 * Gossip validation of proposals and votes (DESIGN §8): what a node checks before
 * it forwards one or hands it to its consensus driver. Pure but for `verify` and `verifyAsync`;
 * the caller owns the `seen` cache.
 *
 * The current height is the one after the head. A message for it, or for the
 * height after (the driver keeps those until it gets there), is checked in full
 * against the set that decides its height: chain, validator, proposer,
 * signature, that last (off the main thread when the node has a verify pool, so
 * the answer may come as a promise). Nothing unauthenticated is accepted (and so forwarded): where the
 * next height's set is not known yet (an epoch boundary), its messages are
 * IGNOREd. Older ones are IGNOREd as STALE; later ones as FUTURE (a sign that
 * this node is behind: sync catches it up).
 */
import { blockHash, encodeProposal, encodeVote } from '../../codec/block.ts'
import type { CompactBlock } from '../../codec/gossip.ts'
import { binaryKey, concatBytes, equalBytes } from '../../crypto/bytes.ts'
import { signingBytes } from '../../crypto/hash.ts'
import type { BatchVerifyFn, SignatureCheck } from '../../crypto/signature-batch.ts'
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
  /** A signature check on this thread: used when `verifyAsync` is null. */
  verify: VerifyFn
  /** Signature checks through the verify pool (answering as `verify` does), or null to check here, synchronously. */
  verifyAsync: BatchVerifyFn | null
  /** Messages accepted, or being checked, by signature and signed bytes. */
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

/**
 * The key `seen` holds a message under: its signature and the bytes it signs. A copy with the
 * same signature over other bytes (a peer's tampering) is another message: it is checked (and
 * REJECTed), and cannot make this node ignore the real one.
 */
const messageKey = (signature: Uint8Array, signed: Uint8Array): string => binaryKey(concatBytes(signature, signed))

/** The key `seen` holds an accepted proposal under (to forget it when its txs cannot be had). */
export const proposalKey = (signed: SignedProposal): string => messageKey(signed.signature, signingBytes('proposal', encodeProposal(signed.proposal)))

/**
 * The signature check, last, once every cheap check passed: with `ctx.verifyAsync`, through it
 * (a promise); without, here (undefined). The message is marked seen before the answer comes, so
 * a copy arriving meanwhile is IGNOREd, not checked or handed on twice; a failure un-marks it, so
 * each copy of a forgery is REJECTed (its sender's score drops), as when seen was marked after.
 * Safe because the key covers the signed bytes: an identical copy gets the identical answer, so
 * nothing valid is lost by ignoring it while the first is in flight.
 */
function checkSignature (check: SignatureCheck, key: string, ctx: ConsensusContext, what: string): Promise<void> | undefined {
  if (ctx.verifyAsync === null) {
    if (!ctx.verify(check.publicKey, check.message, check.signature)) reject(ErrorCode.BAD_SIGNATURE, `${what} signature does not verify`)
    ctx.seen.add(key)
    return undefined
  }
  const verifyAsync = ctx.verifyAsync
  ctx.seen.add(key)
  return (async () => {
    let ok = false
    try {
      ok = (await verifyAsync([check]))[0] === true
    } finally {
      if (!ok) ctx.seen.delete(key)
    }
    if (!ok) reject(ErrorCode.BAD_SIGNATURE, `${what} signature does not verify`)
  })()
}

/**
 * Accepts (returns) or throws a GossipError; with `ctx.verifyAsync`, the signature's answer comes
 * as a promise (which rejects with the GossipError). Marks the vote seen.
 */
export function validateVote (signed: SignedVote, ctx: ConsensusContext): Promise<void> | undefined {
  const { vote, signature } = signed
  const set = setFor(vote.chainId, vote.height, vote.round, ctx)
  const message = signingBytes('vote', encodeVote(vote))
  const key = messageKey(signature, message)
  if (ctx.seen.has(key)) ignore(ErrorCode.ALREADY_KNOWN, 'vote already seen')
  if (set.powerOf(vote.validator) === 0n) reject(ErrorCode.NOT_VALIDATOR, 'vote from a non-validator')
  return checkSignature({ publicKey: vote.validator, message, signature }, key, ctx, 'vote')
}

/** As validateVote, for a proposal and the (compact) block it carries. */
export function validateProposal (signed: SignedProposal, block: CompactBlock, ctx: ConsensusContext): Promise<void> | undefined {
  const { proposal, signature } = signed
  const set = setFor(proposal.chainId, proposal.height, proposal.round, ctx)
  const message = signingBytes('proposal', encodeProposal(proposal))
  const key = messageKey(signature, message)
  if (ctx.seen.has(key)) ignore(ErrorCode.ALREADY_KNOWN, 'proposal already seen')
  if (block.header.height !== proposal.height || block.header.chainId !== proposal.chainId) reject(ErrorCode.BAD_BLOCK, 'block is not for the proposal\'s height')
  if (!equalBytes(blockHash(block.header), proposal.blockHash)) reject(ErrorCode.BAD_BLOCK, 'block is not the one proposed')
  if (block.txIds.length > ctx.maxBlockTxs) reject(ErrorCode.BAD_BLOCK, `more than ${ctx.maxBlockTxs} txs`)
  if (proposal.polRound >= proposal.round) reject(ErrorCode.MALFORMED, 'polRound must be below round')
  if (!equalBytes(set.proposerAt(proposal.round), proposal.proposer)) {
    reject(ErrorCode.WRONG_PROPOSER, `not the proposer of round ${proposal.round}`)
  }
  return checkSignature({ publicKey: proposal.proposer, message, signature }, key, ctx, 'proposal')
}
