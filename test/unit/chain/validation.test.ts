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
import { rememberingVerifier } from '../../../src/crypto/remembering-verify.ts'
import type { BatchVerifyFn } from '../../../src/crypto/signature-batch.ts'
import { verifySignature } from '../../../src/crypto/verify.ts'
import { verifyCommit } from '../../../src/protocol/commit.ts'
import type { SignedProposal, SignedVote, Vote } from '../../../src/protocol/types.ts'
import { BoundedSet } from '../../../src/util/bounded-set.ts'
import { CHAIN_ID, type Fixture, commitFor, makeFixture, validatorKey } from '../../support/chain.ts'

let fx: Fixture
beforeAll(async () => {
  fx = await makeFixture()
  await fx.block() // height 1: the next is 2
})
afterAll(async () => { await fx.close() })

/** The action and code `run` throws (or its promise rejects with), or 'ACCEPT'. */
async function settled (run: () => Promise<void> | undefined): Promise<string> {
  try {
    await run()
    return 'ACCEPT'
  } catch (e) {
    const { action, code } = gossipAction(e)
    return `${action} ${code}`
  }
}

/**
 * A context whose signature checks go through a batch verifier (as with a verify pool; here the
 * node's rule on this thread), both ways in counted: `one` single checks, `batched` checks sent.
 */
function asyncCtx (): { c: ConsensusContext, calls: { one: number, batched: number } } {
  const calls = { one: 0, batched: 0 }
  const batch: BatchVerifyFn = async (checks) => {
    calls.batched += checks.length
    return checks.map((k) => verifySignature(k.publicKey, k.message, k.signature))
  }
  const signatures = rememberingVerifier((k, m, s) => { calls.one++; return verifySignature(k, m, s) }, batch)
  return { c: { ...ctx(), verify: signatures.verify, verifyAsync: signatures.verifyBatch }, calls }
}

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
  maxBlockTxs: 5000, verify: fx.chain.verify, verifyAsync: null, seen: new BoundedSet(100)
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

  it('checks the signature here, synchronously, when there is no verify pool (the simulator stays deterministic)', () => {
    const c = ctx()
    expect(validateVote(vote({ round: 3 }), c)).toBeUndefined()
    expect(c.seen.size).toBe(1)
  })
})

describe('validateVote through a batch verifier (a verify pool)', () => {
  it('accepts a good vote once the check answers, and remembers it: the commit carrying it is not verified again', async () => {
    const { c, calls } = asyncCtx()
    const blockHash = new Uint8Array(32).fill(9)
    const v = vote({ type: 'precommit', blockHash })
    const pending = validateVote(v, c)
    expect(pending).toBeInstanceOf(Promise)
    expect(await settled(() => pending)).toBe('ACCEPT')
    expect(calls).toEqual({ one: 0, batched: 1 })
    expect(await settled(() => validateVote(v, c))).toBe('IGNORE ALREADY_KNOWN')
    const commit = { height: v.vote.height, round: 0, blockHash, signatures: [{ validator: v.vote.validator, signature: v.signature }] }
    verifyCommit(commit, fx.chain.validators, CHAIN_ID, c.verify)
    expect(calls).toEqual({ one: 0, batched: 1 })
    // a signature the gossip did not check is verified by the commit: the count above means something
    const other = vote({ type: 'precommit', blockHash, round: 1 })
    verifyCommit({ ...commit, round: 1, signatures: [{ validator: other.vote.validator, signature: other.signature }] }, fx.chain.validators, CHAIN_ID, c.verify)
    expect(calls).toEqual({ one: 1, batched: 1 })
  })

  it('rejects a bad signature, and does not keep it seen: every copy is rejected, none handed on', async () => {
    const { c, calls } = asyncCtx()
    const forged = { ...vote(), signature: new Uint8Array(64).fill(7) }
    expect(await settled(() => validateVote(forged, c))).toBe('REJECT BAD_SIGNATURE')
    expect(c.seen.size).toBe(0)
    expect(await settled(() => validateVote(forged, c))).toBe('REJECT BAD_SIGNATURE')
    expect(calls).toEqual({ one: 0, batched: 2 })
  })

  it('ignores a copy that arrives while the first is being checked, and checks the signature once', async () => {
    const { c, calls } = asyncCtx()
    const v = vote({ round: 2 })
    const first = settled(() => validateVote(v, c))
    expect(await settled(() => validateVote(v, c))).toBe('IGNORE ALREADY_KNOWN')
    expect(await first).toBe('ACCEPT')
    expect(calls.batched).toBe(1)
  })

  it('lets the real vote through while a tampered copy (its signature over other bytes) is being checked', async () => {
    const { c } = asyncCtx()
    const real = vote({ round: 4 })
    const tampered = { vote: { ...real.vote, round: 5 }, signature: real.signature }
    const [t, r] = await Promise.all([settled(() => validateVote(tampered, c)), settled(() => validateVote(real, c))])
    expect(t).toBe('REJECT BAD_SIGNATURE')
    expect(r).toBe('ACCEPT')
  })

  it('does the cheap checks first, synchronously: nothing is sent to the verifier for a stale vote or a non-validator\'s', async () => {
    const { c, calls } = asyncCtx()
    expect(outcome(() => { void validateVote(vote({ height: fx.chain.head.height }), c) })).toBe('IGNORE STALE')
    expect(outcome(() => { void validateVote(vote({}, validatorKey()), c) })).toBe('REJECT NOT_VALIDATOR')
    expect(calls.batched).toBe(0)
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

  it('through a batch verifier: rejects a bad signature, accepts a good one, ignores a copy while it is checked', async () => {
    const { c, calls } = asyncCtx()
    const good = await proposal()
    expect(await settled(() => validateProposal({ ...good.signed, signature: new Uint8Array(64).fill(3) }, good.block, c))).toBe('REJECT BAD_SIGNATURE')
    const first = settled(() => validateProposal(good.signed, good.block, c))
    expect(await settled(() => validateProposal(good.signed, good.block, c))).toBe('IGNORE ALREADY_KNOWN')
    expect(await first).toBe('ACCEPT')
    expect(await settled(() => validateProposal(good.signed, good.block, c))).toBe('IGNORE ALREADY_KNOWN')
    expect(calls).toEqual({ one: 0, batched: 2 })
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
