/**
 * The sync pipeline against scripted peers (no network): a real source chain of small
 * blocks, a fresh chain on the same genesis, and a SyncPeers whose answers a test
 * delays, reorders, garbles or drops. Several ranges are in flight at once; blocks are
 * imported strictly in height order whatever order the answers come in; a peer that
 * serves garbage or blocks out of place is benched and the range asked of another; a
 * peer that goes away mid-pipeline costs only a retry.
 */
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Chain } from '../../../src/chain/chain.ts'
import { post } from '../../../src/client/transactions.ts'
import { systemClock } from '../../../src/consensus/clock.ts'
import { toHex } from '../../../src/crypto/bytes.ts'
import { verifySignature } from '../../../src/crypto/verify.ts'
import { silentLogger } from '../../../src/logger.ts'
import { Store } from '../../../src/state/store.ts'
import { type PeerId, type SyncOptions, type SyncPeers, Syncer } from '../../../src/sync/syncer.ts'
import { type Fixture, makeFixture } from '../../support/chain.ts'
import { waitFor } from '../../support/wait.ts'

const OPTS: SyncOptions = { pollMs: 60_000, rangeSize: 3, parallel: 4, nearHead: 2, benchMs: 60_000, progressMs: 60_000, minWindowMs: 0 }
const HEIGHT = 20

type Stored = { block: Uint8Array, commit: Uint8Array }
/** How a scripted peer answers one range request: the honest answer, or something else. */
type Behaviour = (from: number, count: number, honest: Stored[]) => Promise<Stored[]>

let source: Fixture
const cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f()
})

/** A source chain of HEIGHT blocks, each with one tx. */
async function sourceChain (): Promise<Fixture> {
  const fx = await makeFixture({ users: 1 })
  cleanup.push(async () => await fx.close())
  for (let i = 0; i < HEIGHT; i++) {
    await fx.pool.submitDecoded(await fx.tx(fx.users[0]!, post(`post ${i}`)))
    await fx.block()
  }
  return fx
}

async function freshChain (): Promise<Chain> {
  const store = await Store.open(join(source.dir, `sync-${cleanup.length}`))
  cleanup.push(async () => await store.close())
  return await Chain.open(store, source.genesis, verifySignature)
}

class ScriptedPeers implements SyncPeers {
  readonly asked: Array<{ peer: PeerId, from: number, count: number }> = []
  readonly penalized: string[] = []
  /** The most range requests open at once (all peers). */
  maxOpen = 0
  private open = 0
  constructor (private readonly behaviours: Record<PeerId, Behaviour>, private readonly height = HEIGHT) {}
  peers (): PeerId[] { return Object.keys(this.behaviours) }
  async status (): Promise<{ height: number, headHash: Uint8Array }> { return { height: this.height, headHash: new Uint8Array(32) } }
  async blocks (peer: PeerId, from: number, count: number): Promise<Stored[]> {
    this.asked.push({ peer, from, count })
    this.open++
    this.maxOpen = Math.max(this.maxOpen, this.open)
    try {
      const honest: Stored[] = []
      for (let h = from; h < from + count && h <= this.height; h++) honest.push((await source.chain.getStoredBlock(h))!)
      return await this.behaviours[peer]!(from, count, honest)
    } finally {
      this.open--
    }
  }

  penalize (peer: PeerId, reason: string): void { this.penalized.push(`${peer}: ${reason}`) }
}

const sleep = async (ms: number): Promise<void> => await new Promise((resolve) => setTimeout(resolve, ms))
const honest: Behaviour = async (_f, _c, h) => h
/** Answers later ranges sooner: the answers arrive out of order. */
const reversed: Behaviour = async (from, _c, h) => { await sleep(Math.max(0, 60 - from * 3)); return h }

async function syncWith (peers: ScriptedPeers, opts: SyncOptions = OPTS): Promise<{ chain: Chain, order: number[] }> {
  const chain = await freshChain()
  const order: number[] = []
  chain.events.onCommitted(({ checked }) => order.push(checked.block.header.height))
  const syncer = new Syncer(opts, { chain, peers, clock: systemClock, logger: silentLogger })
  cleanup.push(async () => await syncer.stop())
  syncer.start()
  await waitFor(() => chain.head.height >= HEIGHT, 'the fresh chain at the source\'s height', 10_000)
  return { chain, order }
}

describe('sync pipeline', () => {
  it('keeps several ranges in flight and imports in height order, whatever order the answers come in', async () => {
    source = await sourceChain()
    const peers = new ScriptedPeers({ a: reversed, b: reversed })
    const { chain, order } = await syncWith(peers)
    expect(order).toEqual(Array.from({ length: HEIGHT }, (_, i) => i + 1))
    expect(toHex(chain.head.hash)).toBe(toHex(source.chain.head.hash))
    expect(peers.maxOpen).toBeGreaterThan(1)
    expect(peers.maxOpen).toBeLessThanOrEqual(OPTS.parallel)
    expect(peers.penalized).toEqual([])
    // every height asked for once: nothing dropped and asked again
    expect(peers.asked.map((a) => a.from).sort((x, y) => x - y)).toEqual([1, 4, 7, 10, 13, 16, 19])
  })

  it('asks one peer at most two ranges at a time', async () => {
    source = await sourceChain()
    let open = 0
    let most = 0
    const slow: Behaviour = async (_f, _c, h) => { most = Math.max(most, ++open); await sleep(20); open--; return h }
    await syncWith(new ScriptedPeers({ only: slow }))
    expect(most).toBe(2)
  })

  it('benches a peer that answers with garbage and takes the range from another', async () => {
    source = await sourceChain()
    const garbage: Behaviour = async (from, _c, h) => from >= 7 ? h.map((s) => ({ block: new Uint8Array([1, 2, 3]), commit: s.commit })) : h
    const peers = new ScriptedPeers({ bad: garbage, good: honest })
    const { order } = await syncWith(peers)
    expect(order).toEqual(Array.from({ length: HEIGHT }, (_, i) => i + 1))
    expect(peers.penalized.some((p) => p.startsWith('bad: bad block'))).toBe(true)
    expect(peers.penalized.some((p) => p.startsWith('good'))).toBe(false)
  })

  it('benches a peer that serves the wrong heights (another range\'s blocks) and syncs from an honest one', async () => {
    source = await sourceChain()
    // answers every request with the first blocks of the chain
    const shifted: Behaviour = async (from, count) => {
      const out: Stored[] = []
      for (let h = 1; h <= count; h++) out.push((await source.chain.getStoredBlock(h + (from > 1 ? 1 : 0)))!)
      return out
    }
    const peers = new ScriptedPeers({ liar: shifted, good: honest })
    const { order } = await syncWith(peers)
    expect(order).toEqual(Array.from({ length: HEIGHT }, (_, i) => i + 1))
    expect(peers.penalized.some((p) => p.startsWith('liar: bad block'))).toBe(true)
  })

  it('survives a peer that disappears mid-pipeline: its ranges are asked again of the others', async () => {
    source = await sourceChain()
    let gone = false
    const vanishing: Behaviour = async (from, _c, h) => {
      if (from >= 7) gone = true
      if (gone) { await sleep(10); throw new Error('connection reset') }
      return h
    }
    const peers = new ScriptedPeers({ vanishing, steady: honest })
    const { order } = await syncWith(peers)
    expect(order).toEqual(Array.from({ length: HEIGHT }, (_, i) => i + 1))
    // a failed request is forgiven twice; nothing here is bad data
    expect(peers.penalized.every((p) => !p.includes('bad block'))).toBe(true)
  })

  it('benches a peer that claims blocks and serves none', async () => {
    source = await sourceChain()
    const empty: Behaviour = async () => []
    const peers = new ScriptedPeers({ empty, good: honest })
    await syncWith(peers)
    expect(peers.penalized.some((p) => p.startsWith('empty: served no blocks'))).toBe(true)
  })

  it('verifies a block\'s tx signatures once, ahead of its import', async () => {
    source = await sourceChain()
    const peers = new ScriptedPeers({ a: honest, b: honest })
    let verified = 0
    const chain = await freshChain()
    const verifyBatch = (chain as unknown as { verifyBatch: (checks: unknown[]) => Promise<boolean[]> })
    const inner = verifyBatch.verifyBatch.bind(chain)
    verifyBatch.verifyBatch = async (checks) => { verified += checks.length; return await inner(checks) }
    const syncer = new Syncer(OPTS, { chain, peers, clock: systemClock, logger: silentLogger })
    cleanup.push(async () => await syncer.stop())
    syncer.start()
    await waitFor(() => chain.head.height >= HEIGHT, 'synced', 10_000)
    expect(verified).toBe(HEIGHT)
  })
})
