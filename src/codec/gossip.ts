/**
 * The network's messages (DESIGN §8), canonical msgpack like everything else:
 *
 * Gossip
 *   tx topic         [[signedTxBytes...]]                                   a batch
 *   consensus topic  [0, signedProposalBytes, compactBlock, seq]            a proposal
 *                    [1, signedVoteBytes, seq]                              a vote
 *   block topic      [compactBlock, commit]                                 a committed block
 *   compactBlock  =  [header, [txId...], lastCommit | nil]                  the block, txs by id
 * `seq` is not signed: a re-gossiped message carries a new one, so gossipsub (whose
 * message id is sha256 of the bytes) does not drop it as a duplicate.
 *
 * Request/response
 *   sync  request  [0] → [height, headHash]                                status
 *                  [1, from, count] → [[blockBytes, commitBytes]...]       a range of committed blocks
 *   txs   request  [[txId...]] → [[signedTxBytes | nil...]]                txs by id (nil: not held)
 */
import { ErrorCode, fail } from '../protocol/errors.ts'
import type { Block, BlockHeader, Commit, Hash, SignedProposal, SignedTx, SignedVote } from '../protocol/types.ts'
import { commitFromValue, commitToValue, decodeSignedProposal, decodeSignedVote, encodeSignedProposal, encodeSignedVote, headerFromValue, headerToValue } from './block.ts'
import { type Value, decodeCanonical, encodeCanonical } from './canonical.ts'
import { asArray, asBytes, asBytesOrNull, asList, asUint } from './schema.ts'
import { MAX_TX_BYTES_HARD, decodeSignedTx } from './tx.ts'

/** No gossip message or request is larger (the topic specs may be tighter). */
const MAX_GOSSIP_BYTES = 4 * 1024 * 1024
const MAX_IDS = 100_000
export const MAX_TX_BATCH = 4096
/** Blocks per sync response, at most. */
export const MAX_SYNC_BLOCKS = 64

/** A block with its txs by id: what proposals and the block topic carry. */
export interface CompactBlock {
  header: BlockHeader
  txIds: Hash[]
  lastCommit: Commit | null
}

export type ConsensusGossip =
  | { type: 'proposal', proposal: SignedProposal, block: CompactBlock }
  | { type: 'vote', vote: SignedVote }

export type SyncRequest = { type: 'status' } | { type: 'blocks', from: number, count: number }
export interface SyncStatus { height: number, headHash: Hash }

export function compactOf (b: Block): CompactBlock {
  return { header: b.header, txIds: b.txs.map((t) => t.id), lastCommit: b.lastCommit }
}

function compactToValue (c: CompactBlock): Value {
  return [headerToValue(c.header), c.txIds, c.lastCommit === null ? null : commitToValue(c.lastCommit)]
}

function compactFromValue (v: Value): CompactBlock {
  const [header, ids, lastCommit] = asArray(v, 3, 'compact block')
  return {
    header: headerFromValue(header!),
    txIds: asList(ids!, 'txIds', MAX_IDS).map((id) => asBytes(id, 'txId', 32)),
    lastCommit: lastCommit === null ? null : commitFromValue(lastCommit!)
  }
}

export function encodeTxBatch (txs: readonly SignedTx[]): Uint8Array {
  return encodeCanonical([txs.map((t) => t.bytes)])
}

/** Decodes a batch; any malformed tx fails the whole batch (the sender built it). */
export function decodeTxBatch (bytes: Uint8Array, maxTxBytes: number): SignedTx[] {
  const [list] = asArray(decodeCanonical(bytes, MAX_GOSSIP_BYTES), 1, 'tx batch')
  const txs = asList(list!, 'txs', MAX_TX_BATCH)
  if (txs.length === 0) fail(ErrorCode.MALFORMED, 'empty tx batch')
  return txs.map((t) => decodeSignedTx(asBytes(t, 'tx'), maxTxBytes))
}

export function encodeConsensusGossip (m: ConsensusGossip, seq: number): Uint8Array {
  return m.type === 'proposal'
    ? encodeCanonical([0, encodeSignedProposal(m.proposal), compactToValue(m.block), seq])
    : encodeCanonical([1, encodeSignedVote(m.vote), seq])
}

export function decodeConsensusGossip (bytes: Uint8Array): ConsensusGossip {
  const v = decodeCanonical(bytes, MAX_GOSSIP_BYTES)
  const kind = Array.isArray(v) ? v[0] : undefined
  if (kind === 0) {
    const [, p, block, seq] = asArray(v, 4, 'proposal message')
    asUint(seq!, 'seq')
    return { type: 'proposal', proposal: decodeSignedProposal(asBytes(p!, 'proposal')), block: compactFromValue(block!) }
  }
  if (kind === 1) {
    const [, vote, seq] = asArray(v, 3, 'vote message')
    asUint(seq!, 'seq')
    return { type: 'vote', vote: decodeSignedVote(asBytes(vote!, 'vote')) }
  }
  return fail(ErrorCode.UNKNOWN_KIND, `consensus message kind ${String(kind)}`)
}

export function encodeBlockGossip (block: CompactBlock, commit: Commit): Uint8Array {
  return encodeCanonical([compactToValue(block), commitToValue(commit)])
}

export function decodeBlockGossip (bytes: Uint8Array): { block: CompactBlock, commit: Commit } {
  const [block, commit] = asArray(decodeCanonical(bytes, MAX_GOSSIP_BYTES), 2, 'block message')
  return { block: compactFromValue(block!), commit: commitFromValue(commit!) }
}

export function encodeSyncRequest (r: SyncRequest): Uint8Array {
  return encodeCanonical(r.type === 'status' ? [0] : [1, r.from, r.count])
}

export function decodeSyncRequest (bytes: Uint8Array): SyncRequest {
  const v = decodeCanonical(bytes, 64)
  const kind = Array.isArray(v) ? v[0] : undefined
  if (kind === 0) { asArray(v, 1, 'status request'); return { type: 'status' } }
  if (kind === 1) {
    const [, from, count] = asArray(v, 3, 'blocks request')
    return { type: 'blocks', from: asUint(from!, 'from'), count: asUint(count!, 'count') }
  }
  return fail(ErrorCode.UNKNOWN_KIND, `sync request kind ${String(kind)}`)
}

export function encodeSyncStatus (s: SyncStatus): Uint8Array {
  return encodeCanonical([s.height, s.headHash])
}

export function decodeSyncStatus (bytes: Uint8Array): SyncStatus {
  const [height, hash] = asArray(decodeCanonical(bytes, 128), 2, 'status')
  return { height: asUint(height!, 'height'), headHash: asBytes(hash!, 'headHash', 32) }
}

/** Blocks as their stored bytes: the server re-encodes nothing. */
export function encodeSyncBlocks (blocks: ReadonlyArray<{ block: Uint8Array, commit: Uint8Array }>): Uint8Array {
  return encodeCanonical([blocks.map((b) => [b.block, b.commit])])
}

export function decodeSyncBlocks (bytes: Uint8Array, maxBytes: number): Array<{ block: Uint8Array, commit: Uint8Array }> {
  const [list] = asArray(decodeCanonical(bytes, maxBytes), 1, 'blocks')
  return asList(list!, 'blocks', MAX_SYNC_BLOCKS).map((e) => {
    const [block, commit] = asArray(e, 2, 'block entry')
    return { block: asBytes(block!, 'block'), commit: asBytes(commit!, 'commit') }
  })
}

export function encodeTxsRequest (ids: readonly Hash[]): Uint8Array {
  return encodeCanonical([ids])
}

export function decodeTxsRequest (bytes: Uint8Array): Hash[] {
  const [ids] = asArray(decodeCanonical(bytes, MAX_GOSSIP_BYTES), 1, 'txs request')
  return asList(ids!, 'ids', MAX_IDS).map((id) => asBytes(id, 'txId', 32))
}

export function encodeTxsResponse (txs: ReadonlyArray<Uint8Array | null>): Uint8Array {
  return encodeCanonical([txs])
}

export function decodeTxsResponse (bytes: Uint8Array, maxBytes: number): Array<SignedTx | null> {
  const [list] = asArray(decodeCanonical(bytes, maxBytes), 1, 'txs response')
  return asList(list!, 'txs', MAX_IDS).map((t) => {
    const b = asBytesOrNull(t, 'tx')
    return b === null ? null : decodeSignedTx(b, MAX_TX_BYTES_HARD)
  })
}
