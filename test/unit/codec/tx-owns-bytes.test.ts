/**
 * A decoded tx keeps only its own bytes: one read out of a gossip batch, a block or any
 * larger buffer must not keep that buffer alive while it waits in the mempool.
 */
import { describe, expect, it } from 'vitest'
import { Signer, post, reply, transfer } from '../../../src/client/transactions.ts'
import { blockTxAt, decodeBlock, encodeBlock } from '../../../src/codec/block.ts'
import { decodeTxBatch, encodeTxBatch } from '../../../src/codec/gossip.ts'
import { decodeSignedTx } from '../../../src/codec/tx.ts'
import type { SignedTx } from '../../../src/protocol/types.ts'

const alice = Signer.generate()
const txs = [
  alice.sign({ chainId: 'c', nonce: 0, body: post('hello, a post long enough to be worth keeping') }).tx,
  alice.sign({ chainId: 'c', nonce: 1, body: reply(new Uint8Array(32).fill(1), 'a reply') }).tx,
  alice.sign({ chainId: 'c', nonce: 2, body: transfer(new Uint8Array(32).fill(2), 5n) }).tx
]

/** Every byte field of `tx` is a view into one buffer exactly as long as the tx's encoding. */
function expectOwnsItsBytes (tx: SignedTx): void {
  const buffer = tx.bytes.buffer
  expect(buffer.byteLength).toBe(tx.bytes.length)
  for (const view of [tx.unsignedBytes, tx.signature, tx.unsigned.sender]) expect(view.buffer).toBe(buffer)
  const body = tx.unsigned.body
  if (body.kind === 'post' && body.replyTo !== null) expect(body.replyTo.buffer).toBe(buffer)
  if (body.kind === 'transfer') expect(body.to.buffer).toBe(buffer)
}

describe('a decoded tx owns its bytes', () => {
  it('copies a tx out of the middle of a larger buffer', () => {
    const parent = new Uint8Array(1 << 20)
    parent.set(txs[0]!.bytes, 1000)
    const tx = decodeSignedTx(parent.subarray(1000, 1000 + txs[0]!.bytes.length))
    expectOwnsItsBytes(tx)
    expect(tx.bytes).toEqual(txs[0]!.bytes)
    expect(tx.id).toEqual(txs[0]!.id)
  })

  it('keeps no gossip batch alive: each tx of a batch has a buffer of its own', () => {
    const decoded = decodeTxBatch(encodeTxBatch(txs), 8192)
    for (const tx of decoded) expectOwnsItsBytes(tx)
    expect(new Set(decoded.map((t) => t.bytes.buffer)).size).toBe(txs.length)
  })

  it('keeps no block alive', () => {
    const h32 = new Uint8Array(32)
    const header = { version: 1, chainId: 'c', height: 1, timeMs: 1, prevHash: h32, txRoot: h32, stateRoot: h32, proposer: alice.publicKey, validatorsHash: h32, lastCommitHash: h32 }
    const bytes = encodeBlock({ header, txs, lastCommit: null })
    for (const tx of decodeBlock(bytes).txs) expectOwnsItsBytes(tx)
    expectOwnsItsBytes(blockTxAt(bytes, 1)!)
  })

  it('does not copy bytes it already owns (the tx_submit path)', () => {
    const exact = new Uint8Array(txs[0]!.bytes)
    expect(decodeSignedTx(exact).bytes).toBe(exact)
  })
})
