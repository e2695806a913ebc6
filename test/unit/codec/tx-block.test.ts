import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { blockTxAt, decodeBlock, decodeSignedProposal, decodeSignedVote, encodeBlock, encodeSignedProposal, encodeSignedVote } from '../../../src/codec/block.ts'
import { encodeCanonical } from '../../../src/codec/canonical.ts'
import { assembleSignedTx, decodeSignedTx, decodeUnsignedTx, encodeUnsignedTx } from '../../../src/codec/tx.ts'
import { ChorusError, ErrorCode } from '../../../src/protocol/errors.ts'
import { blockShape, bytes32, unsignedTx } from '../../support/arbitraries.ts'

const sig = new Uint8Array(64).fill(7)

function expectTyped (f: () => unknown): string {
  try { f() } catch (e) {
    expect(e).toBeInstanceOf(ChorusError)
    return (e as ChorusError).code
  }
  throw new Error('expected a typed error')
}

describe('transaction codec', () => {
  it('decode(encode(tx)) = tx for every kind', () => {
    fc.assert(fc.property(unsignedTx, (tx) => {
      const bytes = encodeUnsignedTx(tx)
      expect(decodeUnsignedTx(bytes)).toEqual(tx)
      const signed = assembleSignedTx(bytes, sig)
      const back = decodeSignedTx(signed.bytes)
      expect(back.unsigned).toEqual(tx)
      expect(back.id).toEqual(signed.id)
    }), { numRuns: 1000 })
  })

  it('rejects truncated signed txs with a typed error', () => {
    fc.assert(fc.property(unsignedTx, fc.nat(), (tx, cut) => {
      const signed = assembleSignedTx(encodeUnsignedTx(tx), sig).bytes
      const n = 1 + cut % (signed.length - 1)
      expectTyped(() => decodeSignedTx(signed.subarray(0, n)))
    }), { numRuns: 500 })
  })

  it('rejects any single-byte corruption with a typed error or decodes it canonically', () => {
    fc.assert(fc.property(unsignedTx, fc.nat(), fc.integer({ min: 1, max: 255 }), (tx, at, flip) => {
      const bytes = assembleSignedTx(encodeUnsignedTx(tx), sig).bytes.slice()
      bytes[at % bytes.length]! ^= flip
      try {
        const back = decodeSignedTx(bytes)
        expect(Buffer.from(back.bytes).equals(Buffer.from(bytes))).toBe(true)
      } catch (e) {
        expect(e).toBeInstanceOf(ChorusError)
      }
    }), { numRuns: 1000 })
  })

  it('rejects oversized, unknown version, unknown kind, wrong arity and non-NFC text', () => {
    fc.assert(fc.property(unsignedTx, (tx) => {
      const bytes = assembleSignedTx(encodeUnsignedTx(tx), sig).bytes
      expect(expectTyped(() => decodeSignedTx(bytes, bytes.length - 1))).toBe(ErrorCode.TOO_LARGE)
    }), { numRuns: 100 })
    const sender = new Uint8Array(32)
    expect(expectTyped(() => decodeUnsignedTx(encodeCanonical([2, 'c', 0, sender, 0, 0, [sender, 1]])))).toBe(ErrorCode.UNKNOWN_VERSION)
    expect(expectTyped(() => decodeUnsignedTx(encodeCanonical([1, 'c', 42, sender, 0, 0, [sender, 1]])))).toBe(ErrorCode.UNKNOWN_KIND)
    expect(expectTyped(() => decodeUnsignedTx(encodeCanonical([1, 'c', 0, sender, 0, 0, [sender]])))).toBe(ErrorCode.MALFORMED)
    expect(expectTyped(() => decodeUnsignedTx(encodeCanonical([1, 'c', 0, sender.subarray(1), 0, 0, [sender, 1]])))).toBe(ErrorCode.MALFORMED)
    expect(expectTyped(() => decodeUnsignedTx(encodeCanonical([1, 'c', 2, sender, 0, 0, ['e\u0301', null, null]])))).toBe(ErrorCode.NON_CANONICAL)
    expect(expectTyped(() => decodeUnsignedTx(encodeCanonical([1, 'c', 0, sender, -1, 0, [sender, 1]])))).toBe(ErrorCode.MALFORMED)
  })
})

describe('block and consensus message codec', () => {
  it('decode(encode(block)) = block', () => {
    fc.assert(fc.property(blockShape, fc.array(unsignedTx, { maxLength: 4 }), (shape, txs) => {
      const block = { ...shape, txs: txs.map((t) => assembleSignedTx(encodeUnsignedTx(t), sig)) }
      const back = decodeBlock(encodeBlock(block))
      expect(back.header).toEqual(block.header)
      expect(back.lastCommit).toEqual(block.lastCommit)
      expect(back.txs.map((t) => t.id)).toEqual(block.txs.map((t) => t.id))
    }), { numRuns: 300 })
  })

  it('reads one tx out of an encoded block, the same as decoding the whole block, without decoding it', () => {
    fc.assert(fc.property(blockShape, fc.array(unsignedTx, { maxLength: 6 }), (shape, txs) => {
      const block = { ...shape, txs: txs.map((t) => assembleSignedTx(encodeUnsignedTx(t), sig)) }
      const bytes = encodeBlock(block)
      block.txs.forEach((t, i) => expect(blockTxAt(bytes, i)!.bytes).toEqual(t.bytes))
      expect(blockTxAt(bytes, block.txs.length)).toBeNull()
    }), { numRuns: 200 })
    expect(expectTyped(() => blockTxAt(Uint8Array.from([0xc1]), 0))).toBe(ErrorCode.MALFORMED)
    expect(expectTyped(() => blockTxAt(Uint8Array.from([0x93, 0x90, 0x91, 0xc4, 0x05, 0x01]), 0))).toBe(ErrorCode.MALFORMED)
  })

  it('rejects truncated blocks with a typed error', () => {
    fc.assert(fc.property(blockShape, fc.nat(), (shape, cut) => {
      const bytes = encodeBlock({ ...shape, txs: [] })
      expectTyped(() => decodeBlock(bytes.subarray(0, 1 + cut % (bytes.length - 1))))
    }), { numRuns: 300 })
  })

  it('round-trips votes and proposals', () => {
    fc.assert(fc.property(bytes32, fc.option(bytes32, { nil: null }), fc.nat(), fc.nat(50), (v, hash, height, round) => {
      const vote = { type: 'precommit' as const, chainId: 'x', height, round, blockHash: hash, validator: v }
      expect(decodeSignedVote(encodeSignedVote({ vote, signature: sig })).vote).toEqual(vote)
      const proposal = { chainId: 'x', height, round, polRound: round - 1, blockHash: v, proposer: v }
      expect(decodeSignedProposal(encodeSignedProposal({ proposal, signature: sig })).proposal).toEqual(proposal)
    }))
  })
})
