/**
 * Blocks, commits, votes and proposals on the wire (DESIGN §7):
 *   header   = [version, chainId, height, timeMs, prevHash, txRoot, stateRoot, proposer, validatorsHash, lastCommitHash]
 *   block    = [header, [signedTxBytes...], lastCommit | nil]
 *   commit   = [height, round, blockHash, [[validator, signature]...]]
 *   vote     = [type, chainId, height, round, blockHash | nil, validator]       signed: [vote, signature]
 *   proposal = [chainId, height, round, polRound, blockHash, proposer]         signed: [proposal, signature]
 * Block hash = sha256(header bytes). A vote's and a proposal's signed bytes are
 * their own canonical encodings, under the domain tags chorus/vote/v1 and chorus/proposal/v1.
 */
import { sha256 } from '../crypto/hash.ts'
import { merkleRoot } from '../crypto/merkle.ts'
import { ErrorCode, fail } from '../protocol/errors.ts'
import {
  BLOCK_VERSION, type Block, type BlockHeader, type Commit, type Hash, type Proposal, type SignedProposal,
  type SignedTx, type SignedVote, type Vote, type VoteType, VoteTypeCode, ZERO_HASH
} from '../protocol/types.ts'
import { type Value, decodeCanonical, encodeCanonical, msgpackItem } from './canonical.ts'
import { asArray, asBytes, asBytesOrNull, asInt, asList, asString, asUint } from './schema.ts'
import { MAX_TX_BYTES_HARD, decodeSignedTx } from './tx.ts'

/** No block, commit or consensus message is larger than this, whatever genesis says. */
export const MAX_BLOCK_BYTES_HARD = 16 * 1024 * 1024
const MAX_COMMIT_SIGNATURES = 10_000
const MAX_BLOCK_TXS_HARD = 100_000
const MAX_MESSAGE_BYTES = 1024

export function headerToValue (h: BlockHeader): Value {
  return [h.version, h.chainId, h.height, h.timeMs, h.prevHash, h.txRoot, h.stateRoot, h.proposer, h.validatorsHash, h.lastCommitHash]
}

export function headerFromValue (v: Value): BlockHeader {
  const f = asArray(v, 10, 'header')
  const version = asUint(f[0]!, 'version')
  if (version !== BLOCK_VERSION) fail(ErrorCode.UNKNOWN_VERSION, `block version ${version}`)
  return {
    version,
    chainId: asString(f[1]!, 'chainId'),
    height: asUint(f[2]!, 'height'),
    timeMs: asUint(f[3]!, 'timeMs'),
    prevHash: asBytes(f[4]!, 'prevHash', 32),
    txRoot: asBytes(f[5]!, 'txRoot', 32),
    stateRoot: asBytes(f[6]!, 'stateRoot', 32),
    proposer: asBytes(f[7]!, 'proposer', 32),
    validatorsHash: asBytes(f[8]!, 'validatorsHash', 32),
    lastCommitHash: asBytes(f[9]!, 'lastCommitHash', 32)
  }
}

export function encodeHeader (h: BlockHeader): Uint8Array {
  return encodeCanonical(headerToValue(h))
}

export function blockHash (h: BlockHeader): Hash {
  return sha256(encodeHeader(h))
}

/** Roots already made, by txs array: a peer's block is checked against its txRoot when filled and again by checkBlock. */
const txRoots = new WeakMap<readonly SignedTx[], Hash>()

/** The Merkle root of the txs' ids (a header's txRoot), made once for a given array (a block's txs are never changed). */
export function txRootOf (txs: readonly SignedTx[]): Hash {
  let root = txRoots.get(txs)
  if (root === undefined) txRoots.set(txs, root = merkleRoot(txs.map((t) => t.id)))
  return root
}

export function commitToValue (c: Commit): Value {
  return [c.height, c.round, c.blockHash, c.signatures.map((s) => [s.validator, s.signature])]
}

export function commitFromValue (v: Value): Commit {
  const [height, round, hash, sigs] = asArray(v, 4, 'commit')
  return {
    height: asUint(height!, 'commit.height'),
    round: asUint(round!, 'commit.round'),
    blockHash: asBytes(hash!, 'commit.blockHash', 32),
    signatures: asList(sigs!, 'commit.signatures', MAX_COMMIT_SIGNATURES).map((s) => {
      const [validator, signature] = asArray(s, 2, 'commit signature')
      return { validator: asBytes(validator!, 'validator', 32), signature: asBytes(signature!, 'signature', 64) }
    })
  }
}

export function encodeCommit (c: Commit): Uint8Array {
  return encodeCanonical(commitToValue(c))
}

export function decodeCommit (bytes: Uint8Array): Commit {
  return commitFromValue(decodeCanonical(bytes, MAX_BLOCK_BYTES_HARD))
}

/** The header field that binds a block to its parent's commit. */
export function commitHash (c: Commit | null): Hash {
  return c === null ? ZERO_HASH : sha256(encodeCommit(c))
}

export function encodeBlock (b: Block): Uint8Array {
  return encodeCanonical([headerToValue(b.header), b.txs.map((t) => t.bytes), b.lastCommit === null ? null : commitToValue(b.lastCommit)])
}

export function decodeBlock (bytes: Uint8Array, maxBytes = MAX_BLOCK_BYTES_HARD): Block {
  const { txs, ...rest } = decodeBlockEnvelope(bytes, maxBytes)
  return { ...rest, txs: txs.map(decodeTx) }
}

/**
 * A block with its txs still encoded: the cheap part of decoding (a tenth of it for a
 * block of large posts). A reader that must not hold the thread long (the RPC) decodes
 * the txs with `decodeTx` a slice at a time.
 */
export function decodeBlockEnvelope (bytes: Uint8Array, maxBytes = MAX_BLOCK_BYTES_HARD): Omit<Block, 'txs'> & { txs: Uint8Array[] } {
  const [header, txs, lastCommit] = asArray(decodeCanonical(bytes, maxBytes), 3, 'block')
  return {
    header: headerFromValue(header!),
    txs: asList(txs!, 'txs', MAX_BLOCK_TXS_HARD).map((t) => asBytes(t, 'tx')),
    lastCommit: lastCommit === null ? null : commitFromValue(lastCommit!)
  }
}

/** One tx of a block, as the block's decoder reads it. */
export const decodeTx = (bytes: Uint8Array): SignedTx => decodeSignedTx(bytes, MAX_TX_BYTES_HARD)

const VOTE_TYPE_BY_CODE = new Map<number, VoteType>(Object.entries(VoteTypeCode).map(([k, c]) => [c, k as VoteType]))

function voteToValue (v: Vote): Value {
  return [VoteTypeCode[v.type], v.chainId, v.height, v.round, v.blockHash, v.validator]
}

/** The bytes a validator signs for a vote (under the chorus/vote/v1 tag). */
export function encodeVote (v: Vote): Uint8Array {
  return encodeCanonical(voteToValue(v))
}

function voteFromValue (v: Value): Vote {
  const [type, chainId, height, round, hash, validator] = asArray(v, 6, 'vote')
  const t = typeof type === 'number' ? VOTE_TYPE_BY_CODE.get(type) : undefined
  if (t === undefined) fail(ErrorCode.UNKNOWN_KIND, `vote type ${String(type)}`)
  return {
    type: t,
    chainId: asString(chainId!, 'chainId'),
    height: asUint(height!, 'height'),
    round: asUint(round!, 'round'),
    blockHash: asBytesOrNull(hash!, 'blockHash', 32),
    validator: asBytes(validator!, 'validator', 32)
  }
}

export function encodeSignedVote (s: SignedVote): Uint8Array {
  return encodeCanonical([voteToValue(s.vote), s.signature])
}

export function decodeSignedVote (bytes: Uint8Array): SignedVote {
  const [vote, signature] = asArray(decodeCanonical(bytes, MAX_MESSAGE_BYTES), 2, 'signed vote')
  return { vote: voteFromValue(vote!), signature: asBytes(signature!, 'signature', 64) }
}

function proposalToValue (p: Proposal): Value {
  return [p.chainId, p.height, p.round, p.polRound, p.blockHash, p.proposer]
}

/** The bytes a proposer signs (under the chorus/proposal/v1 tag). */
export function encodeProposal (p: Proposal): Uint8Array {
  return encodeCanonical(proposalToValue(p))
}

export function encodeSignedProposal (s: SignedProposal): Uint8Array {
  return encodeCanonical([proposalToValue(s.proposal), s.signature])
}

export function decodeSignedProposal (bytes: Uint8Array): SignedProposal {
  const [p, signature] = asArray(decodeCanonical(bytes, MAX_MESSAGE_BYTES), 2, 'signed proposal')
  const [chainId, height, round, polRound, hash, proposer] = asArray(p!, 6, 'proposal')
  const pol = asInt(polRound!, 'polRound')
  if (pol < -1) fail(ErrorCode.MALFORMED, 'polRound below -1')
  return {
    proposal: {
      chainId: asString(chainId!, 'chainId'),
      height: asUint(height!, 'height'),
      round: asUint(round!, 'round'),
      polRound: pol,
      blockHash: asBytes(hash!, 'blockHash', 32),
      proposer: asBytes(proposer!, 'proposer', 32)
    },
    signature: asBytes(signature!, 'signature', 64)
  }
}

/**
 * The `index`-th signed tx of an encoded block, read without decoding the block: the
 * header is stepped over, then `index` tx byte strings, so reading one tx costs the
 * tx, not the block (tx_get). Null when there is no such tx.
 */
export function blockTxAt (bytes: Uint8Array, index: number): SignedTx | null {
  const r = new Skipper(bytes)
  if (r.arrayLength() !== 3) fail(ErrorCode.MALFORMED, 'not a block')
  r.skipValue() // the header
  const n = r.arrayLength()
  if (index < 0 || index >= n) return null
  for (let i = 0; i < index; i++) r.skipValue()
  return decodeSignedTx(r.bin(), MAX_TX_BYTES_HARD)
}

/** A signed tx's id (the hash of its unsigned bytes) read from its encoding without decoding the rest: for the node's own stored blocks. */
export function storedTxId (txBytes: Uint8Array): Hash {
  const r = new Skipper(txBytes)
  if (r.arrayLength() !== 2) fail(ErrorCode.MALFORMED, 'not a signed tx')
  return sha256(r.bin())
}

/** Steps through msgpack without building values. */
class Skipper {
  private pos = 0
  private readonly view: DataView
  constructor (private readonly b: Uint8Array) { this.view = new DataView(b.buffer, b.byteOffset, b.length) }

  private item (): { items: number, head: number } | { size: number } {
    const it = this.pos < this.b.length ? msgpackItem(this.b, this.view, this.pos) : null
    return it ?? fail(ErrorCode.MALFORMED, 'not a block')
  }

  arrayLength (): number {
    const t = this.b[this.pos]!
    const it = this.item()
    const isMap = (t >= 0x80 && t <= 0x8f) || t === 0xde || t === 0xdf
    if (!('items' in it) || isMap) return fail(ErrorCode.MALFORMED, 'expected an array')
    this.pos += it.head
    return it.items
  }

  bin (): Uint8Array {
    const t = this.b[this.pos]
    const it = this.item()
    if (!('size' in it) || (t !== 0xc4 && t !== 0xc5 && t !== 0xc6)) return fail(ErrorCode.MALFORMED, 'expected bytes')
    if (this.pos + it.size > this.b.length) fail(ErrorCode.MALFORMED, 'truncated block')
    const head = t === 0xc4 ? 2 : t === 0xc5 ? 3 : 5
    const out = this.b.subarray(this.pos + head, this.pos + it.size)
    this.pos += it.size
    return out
  }

  skipValue (): void {
    const it = this.item()
    if ('items' in it) {
      this.pos += it.head
      for (let i = 0; i < it.items; i++) this.skipValue()
      return
    }
    if (this.pos + it.size > this.b.length) fail(ErrorCode.MALFORMED, 'truncated block')
    this.pos += it.size
  }
}
