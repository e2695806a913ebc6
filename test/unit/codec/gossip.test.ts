/** The network's messages: round trips, and the refusals a peer's garbage meets. */
import { describe, expect, it } from 'vitest'
import { encodeCanonical } from '../../../src/codec/canonical.ts'
import {
  decodeBlockGossip, decodeConsensusGossip, decodeSyncBlocks, decodeSyncRequest, decodeTxBatch, decodeTxsRequest,
  encodeBlockGossip, encodeConsensusGossip, encodeSyncBlocks, encodeSyncRequest, encodeTxBatch, encodeTxsRequest, MAX_SYNC_BLOCKS
} from '../../../src/codec/gossip.ts'
import { Signer, post } from '../../../src/client/transactions.ts'
import { ChorusError } from '../../../src/protocol/errors.ts'
import type { BlockHeader, Commit, SignedVote } from '../../../src/protocol/types.ts'

const signer = Signer.generate()
const txs = [0, 1, 2].map((nonce) => signer.sign({ chainId: 'c', nonce, body: post(`t${nonce}`) }).tx)
const h32 = (n: number) => new Uint8Array(32).fill(n)
const header: BlockHeader = { version: 1, chainId: 'c', height: 7, timeMs: 1000, prevHash: h32(1), txRoot: h32(2), stateRoot: h32(3), proposer: h32(4), validatorsHash: h32(5), lastCommitHash: h32(6) }
const commit: Commit = { height: 7, round: 0, blockHash: h32(9), signatures: [{ validator: h32(4), signature: new Uint8Array(64).fill(8) }] }
const vote: SignedVote = { vote: { type: 'precommit', chainId: 'c', height: 7, round: 1, blockHash: null, validator: h32(4) }, signature: new Uint8Array(64).fill(3) }

const code = (f: () => unknown): string => {
  try { f(); return 'OK' } catch (e) { if (e instanceof ChorusError) return e.code; throw e }
}

describe('gossip codec', () => {
  it('round-trips every message', () => {
    expect(decodeTxBatch(encodeTxBatch(txs), 8192).map((t) => t.id)).toEqual(txs.map((t) => t.id))
    const compact = { header, txIds: txs.map((t) => t.id), lastCommit: commit }
    expect(decodeBlockGossip(encodeBlockGossip(compact, commit))).toEqual({ block: compact, commit })
    expect(decodeConsensusGossip(encodeConsensusGossip({ type: 'vote', vote }, 5))).toEqual({ type: 'vote', vote })
    expect(decodeSyncRequest(encodeSyncRequest({ type: 'blocks', from: 3, count: 64 }))).toEqual({ type: 'blocks', from: 3, count: 64 })
    expect(decodeTxsRequest(encodeTxsRequest([h32(1)]))).toEqual([h32(1)])
    const blocks = [{ block: new Uint8Array([1]), commit: new Uint8Array([2]) }]
    expect(decodeSyncBlocks(encodeSyncBlocks(blocks), 1024)).toEqual(blocks)
  })

  it('gives a re-gossiped message other bytes (a new message id) and the same content', () => {
    const a = encodeConsensusGossip({ type: 'vote', vote }, 1)
    const b = encodeConsensusGossip({ type: 'vote', vote }, 2)
    expect(a).not.toEqual(b)
    expect(decodeConsensusGossip(a)).toEqual(decodeConsensusGossip(b))
  })

  it('refuses garbage, unknown kinds, empty batches, oversized lists and trailing bytes', () => {
    expect(code(() => decodeConsensusGossip(new Uint8Array([0xc1])))).not.toBe('OK')
    expect(code(() => decodeConsensusGossip(encodeCanonical([9, new Uint8Array(1), 0])))).toBe('UNKNOWN_KIND')
    expect(code(() => decodeTxBatch(encodeCanonical([[]]), 8192))).toBe('MALFORMED')
    expect(code(() => decodeSyncBlocks(encodeCanonical([Array.from({ length: MAX_SYNC_BLOCKS + 1 }, () => [new Uint8Array(1), new Uint8Array(1)])]), 1 << 20))).not.toBe('OK')
    const good = encodeTxsRequest([h32(1)])
    const trailing = new Uint8Array([...good, 0])
    expect(code(() => decodeTxsRequest(trailing))).not.toBe('OK')
    expect(code(() => decodeSyncRequest(encodeCanonical([1, -1, 5])))).not.toBe('OK')
  })
})
