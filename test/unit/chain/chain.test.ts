import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Chain } from '../../../src/chain/chain.ts'
import * as b from '../../../src/client/transactions.ts'
import { blockHash, decodeBlock } from '../../../src/codec/block.ts'
import { verifySignature } from '../../../src/crypto/verify.ts'
import { ChorusError, ErrorCode } from '../../../src/protocol/errors.ts'
import type { Block } from '../../../src/protocol/types.ts'
import { Store } from '../../../src/state/store.ts'
import { type Fixture, commitFor, makeFixture, validatorKey } from '../../support/chain.ts'

let fx: Fixture
beforeEach(async () => { fx = await makeFixture() })
afterEach(async () => {
  vi.restoreAllMocks()
  await fx.close()
})

async function faultOf (chain: Chain, block: Block): Promise<unknown> {
  try {
    await chain.checkBlock(block)
  } catch (e) {
    expect(e).toBeInstanceOf(ChorusError)
    expect((e as ChorusError).code).toBe(ErrorCode.BAD_BLOCK)
    return (e as ChorusError).meta?.fault
  }
  return 'accepted'
}

describe('chain', () => {
  it('a second node applying the same blocks reaches the same state root, and refuses tampered blocks', async () => {
    const [alice, bob] = fx.users as [b.Signer, b.Signer]
    const blocks: Block[] = []
    const commits = []
    for (let i = 0; i < 4; i++) {
      await fx.pool.submitDecoded(await fx.tx(alice, b.post(`post ${i}`)))
      await fx.pool.submitDecoded(await fx.tx(bob, b.transfer(alice.publicKey, 10n)))
      const built = await fx.block()
      blocks.push(built.block)
      commits.push((await fx.chain.getCommit(built.block.header.height))!)
    }
    // a follower with the same genesis, its own LevelDB
    const store2 = await Store.open(join(fx.dir, 'db2'))
    const follower = await Chain.open(store2, fx.genesis, verifySignature)
    try {
      for (const [i, block] of blocks.entries()) {
        const h = block.header
        const tamper = async (change: Partial<typeof h>) => await faultOf(follower, { ...block, header: { ...h, ...change } })
        expect(await tamper({ stateRoot: new Uint8Array(32) })).toBe('stateRoot')
        expect(await tamper({ txRoot: new Uint8Array(32) })).toBe('txRoot')
        expect(await tamper({ prevHash: new Uint8Array(32) })).toBe('prevHash')
        expect(await tamper({ height: h.height + 1 })).toBe('height')
        expect(await tamper({ timeMs: 0 })).toBe('time')
        expect(await tamper({ chainId: 'other' })).toBe('chain')
        expect(await tamper({ proposer: alice.publicKey })).toBe('proposer')
        expect(await tamper({ validatorsHash: new Uint8Array(32) })).toBe('validators')
        expect(await faultOf(follower, { ...block, txs: [...block.txs].reverse() })).toBe(block.txs.length > 1 ? 'txRoot' : 'accepted')
        if (block.lastCommit !== null) {
          const forged = { ...block.lastCommit, signatures: block.lastCommit.signatures.map((s) => ({ ...s, signature: s.signature.map((x) => x ^ 1) })) }
          expect(await faultOf(follower, { ...block, lastCommit: forged })).toBe('lastCommit')
          const other = validatorKey()
          const stranger = commitFor({ block: blocks[i - 1]!, hash: blockHash(blocks[i - 1]!.header), execution: null as never }, other)
          expect(await faultOf(follower, { ...block, lastCommit: stranger })).toBe('lastCommit')
        }
        const checked = await follower.checkBlock(block)
        await follower.commitBlock(checked, commits[i]!)
        expect(follower.head.stateRoot).toEqual(h.stateRoot)
      }
      expect(follower.head).toEqual(fx.chain.head)
    } finally {
      await store2.close()
    }
  })

  it('reads a large block for readers a slice at a time, letting other work run between slices, and reads it the same as its encoding', async () => {
    const [alice, bob] = fx.users as [b.Signer, b.Signer]
    for (let i = 0; i < 60; i++) {
      await fx.pool.submitDecoded(await fx.tx(alice, b.post(`post ${i}`)))
      await fx.pool.submitDecoded(await fx.tx(bob, b.post(`other ${i}`)))
    }
    const built = await fx.block()
    expect(built.block.txs.length).toBe(120)
    const height = built.block.header.height
    const stored = (await fx.chain.getStoredBlock(height))!.block
    // the block's bytes come back without a turn of the event loop: any turn taken is the decoder's
    vi.spyOn(fx.store, 'get').mockImplementation(async () => stored)
    let ranBetween = false
    const reading = fx.chain.getBlock(height).then((block) => ({ block, ranBetween }))
    setImmediate(() => { ranBetween = true })
    const read = await reading
    expect(read.ranBetween).toBe(true) // a 120-tx block takes more than one turn of the event loop
    expect(read.block).toEqual(decodeBlock(stored))
    expect(read.block!.txs.map((t) => t.id)).toEqual(built.block.txs.map((t) => t.id))
    expect((await fx.chain.getTx(height, 119))!.id).toEqual(built.block.txs[119]!.id)
  })

  it('reopens at the head it committed, and refuses another genesis', async () => {
    const [alice] = fx.users as [b.Signer]
    await fx.pool.submitDecoded(await fx.tx(alice, b.post('persist me')))
    await fx.block()
    await fx.block([])
    const head = fx.chain.head
    await fx.store.close()
    const store = await Store.open(join(fx.dir, 'db'))
    fx.store = store
    const again = await Chain.open(store, fx.genesis, verifySignature)
    expect(again.head).toEqual(head)
    expect((await again.getBlock(1))!.txs[0]!.unsigned.body).toMatchObject({ kind: 'post', text: 'persist me' })
    await expect(Chain.open(store, { ...fx.genesis, chainId: 'another' }, verifySignature)).rejects.toMatchObject({ code: ErrorCode.INVALID_FIELD })
  })
})

describe('reading blocks', () => {
  it('gives a block\'s tx ids, the same ids the decoded txs have: a recent block\'s from memory, and from their bytes alone after a restart', async () => {
    const [x, y] = fx.users as [b.Signer, b.Signer]
    for (const body of [b.post('one'), b.follow(y.publicKey), b.post('two with a longer text '.repeat(20))]) await fx.pool.submitDecoded(await fx.tx(x, body))
    await fx.pool.submitDecoded(await fx.tx(y, b.profile({ displayName: 'Y' })))
    await fx.block()
    await fx.pool.submitDecoded(await fx.tx(y, b.post('the next block')))
    await fx.block()
    const h = fx.chain.head.height
    const reads = async (chain: Chain) => await Promise.all([h - 1, h].map(async (height) => [(await chain.getBlock(height))!, (await chain.getBlockTxIds(height))!] as const))
    const fromMemory = await reads(fx.chain)
    await fx.store.close()
    fx.store = await Store.open(join(fx.dir, 'db'))
    const reopened = await Chain.open(fx.store, fx.genesis, verifySignature)
    const fromBytes = await reads(reopened)
    expect(fromMemory.map(([full]) => full.txs.length)).toEqual([4, 1])
    for (const [full, ids] of [...fromMemory, ...fromBytes]) {
      expect(ids.txIds).toEqual(full.txs.map((t) => t.id))
      expect(ids.header).toEqual(full.header)
    }
    expect(fromBytes.map(([, ids]) => ids.txIds)).toEqual(fromMemory.map(([, ids]) => ids.txIds))
    expect(await reopened.getBlockTxIds(h + 1)).toBeNull()
  })
})
