/**
 * The consensus topic through ChorusNetwork, over the in-memory hub, on a node whose chain has a
 * verify pool (real worker threads): votes are checked off the main thread, a bad signature is
 * REJECTed and never reaches the driver, a copy in flight is IGNOREd, and what passed is not
 * verified again in the commit that carries it.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Chain, type CheckedBlock } from '../../../src/chain/chain.ts'
import { Mempool } from '../../../src/chain/mempool.ts'
import { TxPool } from '../../../src/chain/tx-pool.ts'
import { encodeProposal, encodeVote } from '../../../src/codec/block.ts'
import { compactOf, encodeConsensusGossip } from '../../../src/codec/gossip.ts'
import { systemClock } from '../../../src/consensus/clock.ts'
import { signDomain } from '../../../src/crypto/keys.ts'
import type { BatchVerifyFn } from '../../../src/crypto/signature-batch.ts'
import { verifySignature } from '../../../src/crypto/verify.ts'
import { VerifyPool } from '../../../src/crypto/verify-pool.ts'
import { silentLogger } from '../../../src/logger.ts'
import { MemoryHub } from '../../../src/p2p/memory-transport.ts'
import { ChorusNetwork, DEFAULT_NETWORK_OPTIONS } from '../../../src/p2p/network.ts'
import { precommitOf } from '../../../src/protocol/commit.ts'
import type { Block, Commit, SignedProposal, SignedVote } from '../../../src/protocol/types.ts'
import { Store } from '../../../src/state/store.ts'
import { type Fixture, makeFixture } from '../../support/chain.ts'
import { waitFor } from '../../support/wait.ts'

let fx: Fixture
let pool: VerifyPool
let dir: string
let store: Store
let chain: Chain
const calls = { one: 0, batched: 0 }
/** Checks sent to the pool wait for this (a test holds them, to act while they are in flight). */
let held: Promise<void> = Promise.resolve()
/** What the network handed on: the driver's inbox. */
const handed: { votes: SignedVote[], proposals: Array<{ proposal: SignedProposal, block: Block }> } = { votes: [], proposals: [] }
let hub: MemoryHub
let network: ChorusNetwork
let peer: ReturnType<MemoryHub['transport']>
let block1: CheckedBlock
let commit1: Commit

beforeAll(async () => {
  fx = await makeFixture()
  block1 = await fx.block()
  commit1 = (await fx.chain.getCommit(1))!
  pool = new VerifyPool(1)
  dir = await mkdtemp(join(tmpdir(), 'chorus-gossip-'))
  store = await Store.open(join(dir, 'db'))
  const batch: BatchVerifyFn = async (checks) => {
    calls.batched += checks.length
    await held
    return await pool.verifyBatch(checks)
  }
  chain = await Chain.open(store, fx.genesis, (k, m, s) => { calls.one++; return verifySignature(k, m, s) }, batch)
  hub = new MemoryHub()
  const transport = hub.transport('node')
  network = new ChorusNetwork(DEFAULT_NETWORK_OPTIONS, { transport, chain, pool: new TxPool(chain, new Mempool()), clock: systemClock, logger: silentLogger })
  network.setConsensus({
    receiveVote: (vote) => { handed.votes.push(vote) },
    receiveProposal: (proposal, block) => { handed.proposals.push({ proposal, block }) }
  })
  peer = hub.transport('peer')
  await network.start()
  await peer.start()
})

afterAll(async () => {
  await network.stop()
  await pool.close()
  await store.close()
  await rm(dir, { recursive: true, force: true })
  await fx.close()
})

let seq = 0
/** Resolves once what was published so far has been delivered (next turn: the hub's link) and handled. */
async function delivered (): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve))
  await hub.idle()
}
const gossipVote = (vote: SignedVote): void => { peer.publish('consensus', encodeConsensusGossip({ type: 'vote', vote }, seq++)) }

describe('consensus gossip with a verify pool', () => {
  it('has the chain check gossip off this thread, and a chain with no pool check it here', () => {
    expect(chain.verifyAsync).not.toBeNull()
    expect(fx.chain.verifyAsync).toBeNull()
  })

  it('rejects a vote with a bad signature (every copy), hands on a good one once, ignoring its copy that came while it was checked', async () => {
    const signature = commit1.signatures[0]!.signature
    const good: SignedVote = { vote: precommitOf(commit1, fx.genesis.chainId, fx.validator.publicKey), signature }
    const forged: SignedVote = { vote: good.vote, signature: new Uint8Array(64).fill(7) }
    // the three arrive in one turn: the good one's copy while the good one is being checked
    gossipVote(forged)
    gossipVote(good)
    gossipVote(good)
    await delivered()
    expect(network.counts.consensus).toEqual({ ACCEPT: 1, ALREADY_KNOWN: 1, BAD_SIGNATURE: 1 })
    // a forgery is not kept as seen: sent again, it is rejected again (the sender's score drops again)
    gossipVote(forged)
    await delivered()
    expect(network.counts.consensus).toEqual({ ACCEPT: 1, ALREADY_KNOWN: 1, BAD_SIGNATURE: 2 })
    expect(handed.votes).toEqual([good])
    expect(calls).toEqual({ one: 0, batched: 3 })
  })

  it('rejects a proposal with a bad signature, hands on a good one with its block', async () => {
    const proposal = { chainId: fx.genesis.chainId, height: 1, round: 0, polRound: -1, blockHash: block1.hash, proposer: fx.validator.publicKey }
    const good: SignedProposal = { proposal, signature: signDomain('proposal', encodeProposal(proposal), fx.validator.secretKey) }
    const send = (p: SignedProposal): void => { peer.publish('consensus', encodeConsensusGossip({ type: 'proposal', proposal: p, block: compactOf(block1.block) }, seq++)) }
    send({ ...good, signature: new Uint8Array(64).fill(1) })
    send(good)
    await delivered()
    expect(network.counts.consensus).toMatchObject({ ACCEPT: 2, BAD_SIGNATURE: 3 })
    expect(handed.proposals.map((p) => p.proposal)).toEqual([good])
    expect(handed.proposals[0]!.block.header).toEqual(block1.block.header)
    expect(calls).toEqual({ one: 0, batched: 5 })
  })

  it('does not verify again, in the commit that carries it, a vote that passed as gossip', async () => {
    const before = { ...calls }
    expect(await chain.importBlock(block1.block, commit1)).toBe(true)
    expect(chain.head.height).toBe(1)
    expect(calls).toEqual(before)
  })

  it('ignores as STALE, and does not hand on, a vote whose height was decided while its signature was checked', async () => {
    const block2 = await fx.block()
    const commit2 = (await fx.chain.getCommit(2))!
    const vote = { type: 'prevote' as const, chainId: fx.genesis.chainId, height: 2, round: 0, blockHash: block2.hash, validator: fx.validator.publicKey }
    let release = (): void => {}
    held = new Promise((resolve) => { release = resolve })
    const sent = calls.batched
    gossipVote({ vote, signature: signDomain('vote', encodeVote(vote), fx.validator.secretKey) })
    await waitFor(() => calls.batched > sent, 'the vote\'s check to be sent', 10_000, 1)
    expect(await chain.importBlock(block2.block, commit2)).toBe(true)
    release()
    await delivered()
    expect(network.counts.consensus.STALE).toBe(1)
    expect(handed.votes).toHaveLength(1)
  })
})
