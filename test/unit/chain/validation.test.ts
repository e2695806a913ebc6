/** Gossip validation: each outcome, with the action (IGNORE or REJECT) and code a peer's message earns. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { blockHash, encodeProposal, encodeVote } from '../../../src/codec/block.ts'
import { compactOf } from '../../../src/codec/gossip.ts'
import { validateCommittedBlock } from '../../../src/chain/validation/block.ts'
import { type ConsensusContext, validateProposal, validateVote } from '../../../src/chain/validation/consensus.ts'
import { gossipAction } from '../../../src/chain/validation/gossip-error.ts'
import { admitTxBatch } from '../../../src/chain/validation/tx-batch.ts'
import { post } from '../../../src/client/transactions.ts'
import { signDomain } from '../../../src/crypto/keys.ts'
import type { SignedProposal, SignedVote, Vote } from '../../../src/protocol/types.ts'
import { BoundedSet } from '../../../src/util/bounded-set.ts'
import { CHAIN_ID, type Fixture, commitFor, makeFixture, validatorKey } from '../../support/chain.ts'

let fx: Fixture
beforeAll(async () => {
  fx = await makeFixture()
  await fx.block() // height 1: the next is 2
})
afterAll(async () => { await fx.close() })

/** The action and code `run` throws, or 'ACCEPT'. */
function outcome (run: () => void): string {
  try {
    run()
    return 'ACCEPT'
  } catch (e) {
    const { action, code } = gossipAction(e)
    return `${action} ${code}`
  }
}

const ctx = (): ConsensusContext => ({
  chainId: CHAIN_ID, height: fx.chain.head.height + 1, validators: fx.chain.validators, nextValidators: fx.chain.validators.advance(1),
  maxBlockTxs: 5000, verify: fx.chain.verify, seen: new BoundedSet(100)
})

function vote (over: Partial<Vote> = {}, key = fx.validator): SignedVote {
  const v: Vote = { type: 'prevote', chainId: CHAIN_ID, height: fx.chain.head.height + 1, round: 0, blockHash: null, validator: key.publicKey, ...over }
  return { vote: v, signature: signDomain('vote', encodeVote(v), key.secretKey) }
}

describe('validateVote', () => {
  it('accepts a signed vote of the current height once, then ignores the copy', () => {
    const c = ctx()
    const v = vote()
    expect(outcome(() => validateVote(v, c))).toBe('ACCEPT')
    expect(outcome(() => validateVote(v, c))).toBe('IGNORE ALREADY_KNOWN')
  })

  it('ignores stale and far-future heights, rejects bad signatures, other chains and non-validators', () => {
    const h = fx.chain.head.height + 1
    expect(outcome(() => validateVote(vote({ height: h - 1 }), ctx()))).toBe('IGNORE STALE')
    expect(outcome(() => validateVote(vote({ height: h + 5 }), ctx()))).toBe('IGNORE FUTURE')
    expect(outcome(() => validateVote(vote({ height: h + 1 }), ctx()))).toBe('ACCEPT') // the driver keeps it for the next height
    // nothing unauthenticated is accepted (and so forwarded), for the next height either
    expect(outcome(() => validateVote(vote({ height: h + 1 }, validatorKey()), ctx()))).toBe('REJECT NOT_VALIDATOR')
    expect(outcome(() => validateVote(vote({ height: h + 1 }), { ...ctx(), nextValidators: null }))).toBe('IGNORE FUTURE')
    expect(outcome(() => validateVote(vote({ chainId: 'other' }), ctx()))).toBe('REJECT WRONG_CHAIN')
    expect(outcome(() => validateVote(vote({}, validatorKey()), ctx()))).toBe('REJECT NOT_VALIDATOR')
    const forged = { ...vote(), signature: new Uint8Array(64).fill(7) }
    expect(outcome(() => validateVote(forged, ctx()))).toBe('REJECT BAD_SIGNATURE')
  })
})

describe('validateProposal', () => {
  async function proposal (over: { round?: number, key?: ReturnType<typeof validatorKey> } = {}): Promise<{ signed: SignedProposal, block: ReturnType<typeof compactOf> }> {
    const key = over.key ?? fx.validator
    const built = await fx.chain.buildBlock([], fx.validator.publicKey, fx.chain.head.timeMs + 1000, await fx.chain.getCommit(fx.chain.head.height))
    const p = { chainId: CHAIN_ID, height: built.block.header.height, round: over.round ?? 0, polRound: -1, blockHash: built.hash, proposer: key.publicKey }
    return { signed: { proposal: p, signature: signDomain('proposal', encodeProposal(p), key.secretKey) }, block: compactOf(built.block) }
  }

  it('accepts the proposer\'s signed proposal whose header hashes to what it signed', async () => {
    const { signed, block } = await proposal()
    const c = ctx()
    expect(outcome(() => validateProposal(signed, block, c))).toBe('ACCEPT')
    expect(outcome(() => validateProposal(signed, block, c))).toBe('IGNORE ALREADY_KNOWN')
  })

  it('rejects a wrong proposer, a swapped header and a bad signature', async () => {
    const { signed, block } = await proposal({ key: validatorKey() })
    expect(outcome(() => validateProposal(signed, block, ctx()))).toBe('REJECT WRONG_PROPOSER')
    const good = await proposal()
    const swapped = { ...good.block, header: { ...good.block.header, timeMs: good.block.header.timeMs + 1 } }
    expect(blockHash(swapped.header)).not.toEqual(good.signed.proposal.blockHash)
    expect(outcome(() => validateProposal(good.signed, swapped, ctx()))).toBe('REJECT BAD_BLOCK')
    expect(outcome(() => validateProposal({ ...good.signed, signature: new Uint8Array(64) }, good.block, ctx()))).toBe('REJECT BAD_SIGNATURE')
  })
})

describe('validateCommittedBlock', () => {
  it('accepts the next block with its commit, and the head (to forward it); ignores what is decided or far ahead; rejects a commit by others', async () => {
    const head = await fx.block()
    const headCommit = (await fx.chain.getCommit(head.block.header.height))!
    expect(validateCommittedBlock(compactOf(head.block), headCommit, fx.chain)).toBe('head')
    expect(outcome(() => validateCommittedBlock(compactOf(head.block), commitFor(head, validatorKey()), fx.chain))).toBe('REJECT BAD_BLOCK')
    const built = await fx.chain.buildBlock([], fx.validator.publicKey, fx.chain.head.timeMs + 1000, await fx.chain.getCommit(fx.chain.head.height))
    const commit = commitFor(built, fx.validator)
    expect(validateCommittedBlock(compactOf(built.block), commit, fx.chain)).toBe('import')
    expect(outcome(() => validateCommittedBlock(compactOf(built.block), commitFor(built, validatorKey()), fx.chain))).toBe('REJECT BAD_BLOCK')
    const stale = (await fx.chain.getBlock(1))!
    expect(outcome(() => validateCommittedBlock(compactOf(stale), commit, fx.chain))).toBe('IGNORE STALE')
    const ahead = { ...compactOf(built.block), header: { ...built.block.header, height: built.block.header.height + 3 } }
    expect(outcome(() => validateCommittedBlock(ahead, commit, fx.chain))).toBe('IGNORE FUTURE')
  })
})

describe('admitTxBatch', () => {
  it('admits valid txs, ignores a batch with nothing new, rejects a batch with a forged signature', async () => {
    const [alice, bob] = fx.users
    const a = await fx.tx(alice!, post('gossiped'))
    await expect(admitTxBatch([a], fx.pool)).resolves.toHaveLength(1)
    expect(fx.pool.mempool.has(a.id)).toBe(true)
    await expect(admitTxBatch([a], fx.pool)).rejects.toMatchObject({ action: 'IGNORE', code: 'ALREADY_KNOWN' })
    const b = await fx.tx(bob!, post('forged'))
    const forged = { ...b, signature: new Uint8Array(64).fill(1) }
    await expect(admitTxBatch([forged], fx.pool)).rejects.toMatchObject({ action: 'REJECT', code: 'BAD_SIGNATURE' })
  })
})
