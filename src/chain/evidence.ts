/**
 * Evidence of equivocation: two signed, conflicting messages by one validator
 * at one (height, round, step). Anyone can check it from the validator set
 * alone; slashing can later act on it.
 *
 * Key: height(u64) ‖ validator(32) ‖ round(u32) ‖ kind(u8) -> [kind, firstSignedBytes, secondSignedBytes]
 * One record per key: the first pair found is kept.
 */
import { decodeSignedProposal, decodeSignedVote, encodeProposal, encodeSignedProposal, encodeSignedVote, encodeVote } from '../codec/block.ts'
import { decodeCanonical, encodeCanonical } from '../codec/canonical.ts'
import { asArray, asBytes, asUint } from '../codec/schema.ts'
import { concatBytes, equalBytes, u32be, u64be } from '../crypto/bytes.ts'
import { signingBytes } from '../crypto/hash.ts'
import { ErrorCode, fail } from '../protocol/errors.ts'
import type { PublicKey, SignedProposal, SignedVote } from '../protocol/types.ts'
import type { VerifyFn } from '../protocol/validate.ts'
import { Bucket } from '../state/buckets.ts'
import { decodeCursor, encodeCursor, type Page } from '../state/queries.ts'
import type { Store } from '../state/store.ts'

export const EVIDENCE_KINDS = ['proposal', 'prevote', 'precommit'] as const
export type EvidenceKind = typeof EVIDENCE_KINDS[number]

export type Evidence =
  | { kind: 'proposal', first: SignedProposal, second: SignedProposal }
  | { kind: 'prevote' | 'precommit', first: SignedVote, second: SignedVote }

function identity (e: Evidence): { height: number, round: number, validator: PublicKey } {
  if (e.kind === 'proposal') return { height: e.first.proposal.height, round: e.first.proposal.round, validator: e.first.proposal.proposer }
  return { height: e.first.vote.height, round: e.first.vote.round, validator: e.first.vote.validator }
}

/** Throws unless `e` is two validly signed, conflicting messages by one validator at one step. */
export function checkEvidence (e: Evidence, verify: VerifyFn): void {
  const bad = (why: string): never => fail(ErrorCode.INVALID_FIELD, `not evidence: ${why}`)
  if (e.kind === 'proposal') {
    const [a, b] = [e.first.proposal, e.second.proposal]
    if (a.height !== b.height || a.round !== b.round || a.chainId !== b.chainId || !equalBytes(a.proposer, b.proposer)) bad('not the same step')
    if (equalBytes(encodeProposal(a), encodeProposal(b))) bad('not conflicting')
    if (!verify(a.proposer, signingBytes('proposal', encodeProposal(a)), e.first.signature) || !verify(b.proposer, signingBytes('proposal', encodeProposal(b)), e.second.signature)) bad('bad signature')
  } else {
    const [a, b] = [e.first.vote, e.second.vote]
    if (a.height !== b.height || a.round !== b.round || a.type !== b.type || a.chainId !== b.chainId || !equalBytes(a.validator, b.validator)) bad('not the same step')
    if (equalBytes(encodeVote(a), encodeVote(b))) bad('not conflicting')
    if (!verify(a.validator, signingBytes('vote', encodeVote(a)), e.first.signature) || !verify(b.validator, signingBytes('vote', encodeVote(b)), e.second.signature)) bad('bad signature')
  }
}

export class EvidencePool {
  constructor (private readonly store: Store, private readonly verify: VerifyFn) {}

  /** Checks and stores `e`; returns false if evidence for that validator and step was already held. */
  async add (e: Evidence): Promise<boolean> {
    checkEvidence(e, this.verify)
    const { height, round, validator } = identity(e)
    const key = concatBytes(u64be(height), validator, u32be(round), Uint8Array.of(EVIDENCE_KINDS.indexOf(e.kind)))
    if (await this.store.get(Bucket.evidence, key) !== undefined) return false
    const [first, second] = e.kind === 'proposal'
      ? [encodeSignedProposal(e.first), encodeSignedProposal(e.second)]
      : [encodeSignedVote(e.first), encodeSignedVote(e.second)]
    await this.store.commit([{ bucket: Bucket.evidence, key, value: encodeCanonical([EVIDENCE_KINDS.indexOf(e.kind), first, second]) }])
    return true
  }

  /** Evidence in height order. Cursor: the last key (45 bytes). */
  async list (cursor: string | null, limit: number): Promise<Page<Evidence>> {
    const after = decodeCursor(cursor, 45)
    const rows = await this.store.range(Bucket.evidence, { ...(after === null ? {} : { gt: after }), limit: limit + 1 })
    const items = rows.slice(0, limit).map(([, v]) => decodeEvidence(v))
    return { items, cursor: rows.length > limit ? encodeCursor(rows[limit - 1]![0]) : null }
  }
}

function decodeEvidence (b: Uint8Array): Evidence {
  const [kind, first, second] = asArray(decodeCanonical(b, 1 << 16), 3, 'evidence')
  const k = EVIDENCE_KINDS[asUint(kind!, 'kind')] ?? fail(ErrorCode.MALFORMED, 'evidence kind')
  if (k === 'proposal') return { kind: k, first: decodeSignedProposal(asBytes(first!, 'first')), second: decodeSignedProposal(asBytes(second!, 'second')) }
  return { kind: k, first: decodeSignedVote(asBytes(first!, 'first')), second: decodeSignedVote(asBytes(second!, 'second')) }
}
