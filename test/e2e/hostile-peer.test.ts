/**
 * A hostile libp2p peer against a validator process (the victim, node0 of four):
 * a node this test runs in-process with createLibp2pTransport and a fresh key,
 * bootstrapped to the victim only. Each attack uses a new hostile peer (a
 * disconnected one is banned for a minute), and each checks that the victim
 * scores the peer below 0, then disconnects it, while the chain keeps committing.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { randomBytes as nodeRandomBytes } from 'node:crypto'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { MAX_SYNC_BLOCKS, decodeSyncBlocks, encodeConsensusGossip, encodeSyncRequest } from '../../src/codec/gossip.ts'
import { decodeAddress } from '../../src/crypto/address.ts'
import { encodeVote } from '../../src/codec/block.ts'
import { generateSecretKey, signDomain } from '../../src/crypto/keys.ts'
import { createLogger } from '../../src/logger.ts'
import { type Libp2pTransport, createLibp2pTransport } from '../../src/p2p/libp2p-transport.ts'
import { PROTOCOL_SPECS, TOPICS, type Topic, topicName } from '../../src/p2p/transport.ts'
import type { PeerView } from '../../src/client/rpc-client.ts'
import type { Vote } from '../../src/protocol/types.ts'
import { type NetNode, type TestNetwork, createNetwork } from '../support/network.ts'
import { waitFor } from '../support/wait.ts'

const randomBytes = (n: number): Uint8Array => new Uint8Array(nodeRandomBytes(n))

let net: TestNetwork | undefined
let victim: NetNode
let honest: NetNode[]
const hostiles: Libp2pTransport[] = []
const watchers: Array<{ stop: () => Promise<number> }> = []

beforeAll(async () => {
  // the victim logs at debug level: its rejections and penalties are the evidence
  net = await createNetwork({ validators: 4, blockTimeMs: 250, start: [] })
  victim = net.nodes[0]!
  honest = net.nodes.slice(1)
  await Promise.all([victim.start(['--log-level', 'debug']), ...honest.map(async (n) => await n.start())])
  await net.waitForHeight(2, net.nodes, 60_000)
}, 90_000)

afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail' && net !== undefined) console.error(`node logs of the failed test: ${await net.saveLogs()}`)
  await Promise.all(watchers.splice(0).map(async (w) => await w.stop()))
  await Promise.all(hostiles.splice(0).map(async (h) => await h.stop()))
})

afterAll(async () => {
  await net?.destroy()
}, 60_000)

interface Hostile {
  transport: Libp2pTransport
  peerId: string
  /** Straight to gossipsub: no size check of ours on the way out. */
  publish (topic: Topic, data: Uint8Array): Promise<void>
  log: string[]
}

/** A fresh libp2p node dialling only the victim, subscribed to every topic, once the victim is in its topic peers. */
async function hostile (): Promise<Hostile> {
  const chainId = net!.chainId
  const log: string[] = []
  const transport = await createLibp2pTransport({
    chainId, privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [victim.p2pAddr]
  }, { logger: createLogger({ level: 'debug', json: false, write: (l) => log.push(l) }) })
  for (const t of TOPICS) transport.subscribe(t, async () => 'ignore')
  hostiles.push(transport)
  await transport.start()
  await waitFor(() => TOPICS.every((t) => transport.topicPeers(t).includes(victim.peerId)), 'the victim in the hostile peer\'s topic peers', 20_000, 50)
  await waitFor(async () => await victimsView(transport.peerId), 'the hostile peer in the victim\'s net_peers', 20_000, 50)
  return {
    transport,
    peerId: transport.peerId,
    publish: async (topic, data) => { await transport.libp2p.services.pubsub.publish(topicName(chainId, topic), data) },
    log
  }
}

/** The victim's net_peers entry for `peerId`, if connected. */
async function victimsView (peerId: string): Promise<PeerView | undefined> {
  return (await victim.rpc.getPeers()).items.find((p) => p.peerId === peerId)
}

/**
 * Runs `attack` (one message or request per call) until the victim shows the peer with a
 * score below 0, then until it disconnects it; returns the scores seen, in order.
 */
async function attackUntilDisconnected (h: Hostile, attack: (i: number) => Promise<void>, what: string): Promise<number[]> {
  const scores: number[] = []
  let i = 0
  const sample = async (): Promise<PeerView | undefined> => {
    const p = await victimsView(h.peerId)
    if (p !== undefined && scores.at(-1) !== p.score) scores.push(p.score)
    return p
  }
  const failing = async <T>(p: Promise<T>): Promise<T> => {
    try {
      return await p
    } catch (e) {
      throw new Error(`${(e as Error).message}\nscores seen: ${scores.join(', ')}\n${victim.tail(30)}`)
    }
  }
  // an attack at a time until the score is seen below 0 (so the drop is observed before the hang-up)
  const first = await failing(waitFor(async () => {
    await attack(i++)
    const p = await sample()
    return p === undefined ? 'disconnected' : p.score < 0 && 'negative'
  }, `${what}: the victim to score the hostile peer below 0`, 30_000, 100))
  if (first === 'disconnected') {
    // scores update once a second, and the hang-up may come in the same tick: the victim's log then holds the score it cut at
    const line = await failing(waitFor(() => victim.log().split('\n').find((l) => l.includes('Peer disconnected for a low score') && l.includes(h.peerId)), `${what}: the victim's log of the disconnect`, 10_000, 100))
    const logged = Number(/score=(-?[0-9.e+-]+)/.exec(line)?.[1])
    if (!(logged < 0)) throw new Error(`${what}: disconnected without a negative score (scores ${scores.join(', ')}; log: ${line})\n${victim.tail(30)}`)
    scores.push(logged)
    return scores
  }
  await failing(waitFor(async () => {
    if (await sample() === undefined) return true
    await attack(i++).catch(() => {}) // a hang-up may race the attack
    return false
  }, `${what}: the victim to disconnect the hostile peer`, 30_000, 100))
  return scores
}

/**
 * Samples the victim's height every 200 ms until `stop()`, which returns the longest
 * time it stood still: the chain commits throughout an attack, not just after it.
 */
function watchChain (): { stop: () => Promise<number> } {
  let running = true
  let longest = 0
  const loop = (async () => {
    let height = -1
    let since = Date.now()
    while (running) {
      const h = await victim.height().catch(() => height)
      if (h !== height) {
        height = h
        since = Date.now()
      }
      longest = Math.max(longest, Date.now() - since)
      await new Promise((r) => setTimeout(r, 200))
    }
  })()
  const w = { stop: async () => { running = false; await loop; return longest } }
  watchers.push(w)
  return w
}

/** Blocks come every ~250 ms; a round whose proposer is slow waits out its propose timeout (3 s + block time). */
const MAX_STALL_MS = 8_000

/** The chain is committing, on the victim and the others, `blocks` past `from`. */
async function stillCommitting (from: number, blocks = 3): Promise<void> {
  await net!.waitForHeight(from + blocks, net!.nodes, 60_000)
}

/** It stays out: the victim refuses the hostile's redials while the ban lasts (three samples, 500 ms apart). */
async function staysOut (h: Hostile): Promise<void> {
  let absent = 0
  await waitFor(async () => {
    absent = await victimsView(h.peerId) === undefined && !h.transport.peers().some((p) => p.peerId === victim.peerId) ? absent + 1 : 0
    return absent >= 3
  }, 'the hostile peer to stay disconnected', 20_000, 500)
}

function disconnectLogged (peerId: string): boolean {
  return victim.log().split('\n').some((l) => l.includes('Peer disconnected for a low score') && l.includes(peerId))
}

/** A vote for `height` claiming to be node1's, signed by a random key. */
function forgedVote (height: number, seq: number): Uint8Array {
  const vote: Vote = {
    type: 'precommit', chainId: net!.chainId, height, round: 0, blockHash: randomBytes(32),
    validator: decodeAddress(honest[0]!.validator!)!
  }
  return encodeConsensusGossip({ type: 'vote', vote: { vote, signature: signDomain('vote', encodeVote(vote), generateSecretKey()) } }, seq)
}

/**
 * One attack by a fresh hostile peer, `attack(h, i)` per step, until the victim scores it
 * below 0 and disconnects it; then it must stay out, and the chain must have gone on
 * committing throughout. Returns the victim's scores for it, in order.
 */
async function repels (what: string, attack: (h: Hostile, i: number) => Promise<void>): Promise<number[]> {
  const start = await victim.height()
  const watch = watchChain()
  const h = await hostile()
  const scores = await attackUntilDisconnected(h, async (i) => await attack(h, i), what)
  expect(Math.min(...scores)).toBeLessThan(0)
  expect(disconnectLogged(h.peerId), victim.tail(30)).toBe(true)
  await staysOut(h)
  await stillCommitting(start)
  expect(await watch.stop(), 'the longest the victim\'s chain stood still (ms)').toBeLessThan(MAX_STALL_MS)
  console.info(`${what}: victim's scores for the hostile peer ${scores.join(', ')}`)
  return scores
}

describe('a hostile peer', () => {
  it('publishing garbage on every topic is scored below 0, then disconnected and kept out; the chain goes on', async () => {
    await repels('garbage', async (h, i) => await h.publish(TOPICS[i % TOPICS.length]!, randomBytes(100 + i)))
  }, 90_000)

  it('votes with forged signatures (a real validator\'s key, a random signer) are scored below 0, then disconnected', async () => {
    // head + 2: still the next height or the one after when it lands, so its signature is checked (not STALE)
    await repels('forged votes', async (h, i) => await h.publish('consensus', forgedVote(await victim.height() + 2, i)))
    expect(victim.log()).toMatch(/Gossip rejected topic=consensus code=BAD_SIGNATURE/)
  }, 90_000)

  it('oversized messages (1.5 MiB, over the 1 MiB topic limit) are scored below 0, then disconnected', async () => {
    await repels('oversized', async (h, i) => await h.publish(TOPICS[i % TOPICS.length]!, randomBytes(1536 * 1024)))
  }, 90_000)

  it('far-future votes on every topic: rejected on tx and block (not votes), so scored below 0 and disconnected', async () => {
    await repels('far-future votes on every topic', async (h, i) => await h.publish(TOPICS[i % TOPICS.length]!, forgedVote(await victim.height() + 1_000_000, i)))
  }, 90_000)

  it('sync requests for huge ranges over the rate limit are scored below 0, then disconnected', async () => {
    // ranges of a billion blocks: from 1 (the victim serves its cap, ≤ 64 blocks) and from far past its head (nothing
    // to serve, so the requests come faster than the bucket refills)
    const fromGenesis = encodeSyncRequest({ type: 'blocks', from: 1, count: 1_000_000_000 })
    const pastHead = encodeSyncRequest({ type: 'blocks', from: 1_000_000_000, count: 1_000_000_000 })
    const outcomes = { served: 0, refused: 0, mostBlocks: 0, errors: new Set<string>() }
    const ask = (h: Hostile) => async (request: Uint8Array): Promise<void> => {
      try {
        const res = await h.transport.request(victim.peerId, 'sync', request)
        outcomes.served++
        outcomes.mostBlocks = Math.max(outcomes.mostBlocks, decodeSyncBlocks(res, PROTOCOL_SPECS.sync.maxResponseBytes).length)
      } catch (e) {
        outcomes.refused++
        outcomes.errors.add((e as Error).message)
      }
    }
    const { requests, windowMs } = PROTOCOL_SPECS.sync.rateLimit
    // per attack, up to 20 rounds of four at once, back to the caller after a round with a refusal: four penalties
    // (5 points each) stay above the threshold (−20), so the score is seen below 0 before the hang-up
    await repels('sync flood', async (h) => {
      for (let round = 0; round < 20; round++) {
        const refused = outcomes.refused
        await Promise.all([fromGenesis, pastHead, pastHead, pastHead].map(ask(h)))
        if (outcomes.refused > refused) return
      }
    })
    // the token bucket: `requests` at once, refilled over `windowMs`; then refusals, each a penalty
    expect(outcomes.served).toBeGreaterThanOrEqual(requests * 0.8)
    expect(outcomes.mostBlocks).toBeGreaterThan(0)
    expect(outcomes.mostBlocks).toBeLessThanOrEqual(MAX_SYNC_BLOCKS)
    expect(outcomes.refused).toBeGreaterThanOrEqual(1)
    console.info(`sync flood (limit ${requests} per ${windowMs} ms): served ${outcomes.served} (at most ${outcomes.mostBlocks} blocks), refused ${outcomes.refused} (${[...outcomes.errors].join('; ')})`)
  }, 90_000)

  it('a flood of far-future votes on the consensus topic alone (IGNOREd, so no score): the victim stays connected to its honest peers', async () => {
    const start = await victim.height()
    const watch = watchChain()
    const h = await hostile()
    const honestIds = honest.map((n) => n.peerId)
    // 400 distinct far-future votes, as fast as gossipsub takes them; each one is a hint to sync
    for (let i = 0; i < 400; i++) await h.publish('consensus', forgedVote(await victim.height() + 1_000_000, i))
    await stillCommitting(start)
    expect(await watch.stop(), 'the longest the victim\'s chain stood still (ms)').toBeLessThan(MAX_STALL_MS)
    const view = await victimsView(h.peerId)
    const peers = (await victim.rpc.getPeers()).items
    const bannedBy = honest.filter((n) => n.log().split('\n').some((l) => l.includes('Peer disconnected for a low score') && l.includes(victim.peerId))).map((n) => n.name)
    console.info(`consensus-only far-future flood: hostile score on the victim ${String(view?.score)}; victim peers ${peers.map((p) => `${p.peerId.slice(-6)}:${p.score}`).join(' ')}; honest nodes that disconnected the victim: ${bannedBy.join(', ') || 'none'}`)
    expect(bannedBy, 'honest nodes disconnected the victim for its sync requests').toEqual([])
    for (const id of honestIds) expect(peers.some((p) => p.peerId === id), `victim still connected to ${id}`).toBe(true)
    await stillCommitting(await victim.height())
  }, 90_000)
})
