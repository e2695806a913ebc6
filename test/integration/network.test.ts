/**
 * The network layer in one process: real nodes (composition root, LevelDB in temp
 * dirs) over a memory hub that carries the same bytes through the same validation
 * as libp2p. A full node syncs, then follows the block topic; txs travel by gossip;
 * a signature verified on admission is not verified again in a block; a peer that
 * serves garbage to sync is penalised.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { type Genesis, parseGenesis } from '../../src/chain/genesis.ts'
import { Signer, post } from '../../src/client/transactions.ts'
import { encodeCanonical } from '../../src/codec/canonical.ts'
import { encodeSyncStatus, encodeTxBatch } from '../../src/codec/gossip.ts'
import { encodeAddress } from '../../src/crypto/address.ts'
import { equalBytes, toHex } from '../../src/crypto/bytes.ts'
import { signingBytes } from '../../src/crypto/hash.ts'
import { generateSecretKey, publicKeyOf } from '../../src/crypto/keys.ts'
import { verifySignature } from '../../src/crypto/verify.ts'
import { silentLogger } from '../../src/logger.ts'
import { ChorusNode, type NodeModules } from '../../src/node.ts'
import { MemoryHub } from '../../src/p2p/memory-transport.ts'
import type { VerifyFn } from '../../src/protocol/validate.ts'
import { waitFor } from '../support/wait.ts'

const TIMEOUTS = { propose: 400, prevote: 200, precommit: 200, delta: 100, gossip: 200 }
let dir: string | undefined
const nodes: ChorusNode[] = []
afterEach(async () => {
  for (const n of nodes.splice(0)) await n.stop()
  if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  dir = undefined
})

function network (validators: number): { genesis: Genesis, keys: Uint8Array[], dev: Signer } {
  const keys = Array.from({ length: validators }, () => generateSecretKey())
  const dev = Signer.generate()
  const genesis = parseGenesis({
    chainId: 'chorus-net-test', genesisTimeMs: Date.now(), params: { blockTimeMs: 50 },
    accounts: [{ address: dev.address(), balance: '1000000000000' }],
    validators: keys.map((k) => ({ address: encodeAddress(publicKeyOf(k)), power: '10' }))
  })
  return { genesis, keys, dev }
}

async function start (name: string, genesis: Genesis, hub: MemoryHub, secretKey: Uint8Array | null, extra: Partial<NodeModules> = {}): Promise<ChorusNode> {
  dir ??= await mkdtemp(join(tmpdir(), 'chorus-net-'))
  const home = join(dir, name)
  const node = await ChorusNode.start({
    dataDir: join(home, 'data'), genesis, rpc: null, p2p: null, timeouts: TIMEOUTS,
    sync: { pollMs: 300, rangeSize: 8, parallel: 2, nearHead: 2, benchMs: 5_000, progressMs: 5_000, minWindowMs: 10 },
    validator: secretKey === null ? null : { secretKey, signStatePath: join(home, 'sign-state.json'), walPath: join(home, 'consensus.wal') }
  }, { logger: silentLogger, transport: hub.transport(name), ...extra })
  nodes.push(node)
  return node
}

describe('the network layer over a memory hub', () => {
  it('brings a late full node to the head by sync, then keeps it there by the block topic; a tx sent to it is included', async () => {
    const { genesis, keys, dev } = network(1)
    const hub = new MemoryHub()
    const v = await start('v', genesis, hub, keys[0]!)
    for (let nonce = 0; nonce < 10; nonce++) await v.pool.submitDecoded(dev.sign({ chainId: genesis.chainId, nonce, body: post(`before ${nonce}`) }).tx)
    await waitFor(() => v.chain.head.height >= 25 && v.pool.mempool.size === 0, 'a chain of 25 blocks with the txs')

    const full = await start('full', genesis, hub, null)
    expect(full.driver).toBeNull()
    let syncedFrom = -1
    full.chain.events.onCommitted(() => { if (full.syncer.syncing && syncedFrom < 0) syncedFrom = full.chain.head.height })
    await waitFor(() => full.chain.head.height >= v.chain.head.height, 'the full node at the head', 20_000)
    expect(syncedFrom).toBeGreaterThan(0)
    const caughtUp = full.chain.head.height
    await waitFor(() => full.chain.head.height >= caughtUp + 5, 'the full node following')
    const h = Math.min(full.chain.head.height, v.chain.head.height)
    expect(toHex((await full.chain.getBlock(h))!.header.stateRoot)).toBe(toHex((await v.chain.getBlock(h))!.header.stateRoot))

    const tx = dev.sign({ chainId: genesis.chainId, nonce: 10, body: post('through the full node') }).tx
    await full.pool.submitDecoded(tx)
    await waitFor(async () => await full.chain.txLocation(tx.id) !== null, 'the tx included, seen by the full node')
    expect(await v.chain.txLocation(tx.id)).toEqual(await full.chain.txLocation(tx.id))
  }, 40_000)

  it('verifies a gossiped tx\'s signature once: on admission, not again in the block', async () => {
    const { genesis, keys, dev } = network(2)
    const hub = new MemoryHub()
    const tx = dev.sign({ chainId: genesis.chainId, nonce: 0, body: post('verified once') }).tx
    const txMessage = signingBytes('tx', tx.unsignedBytes)
    let checks = 0
    const counting: VerifyFn = (pk, msg, sig) => {
      if (equalBytes(msg, txMessage)) checks++
      return verifySignature(pk, msg, sig)
    }
    const a = await start('a', genesis, hub, keys[0]!)
    const b = await start('b', genesis, hub, keys[1]!, { verify: counting })
    await waitFor(() => a.chain.head.height >= 1 && b.chain.head.height >= 1, 'both running')
    await a.pool.submitDecoded(tx)
    await waitFor(async () => await b.chain.txLocation(tx.id) !== null, 'the tx in a block on b')
    expect(checks).toBe(1)
  }, 30_000)

  it('admits a peer\'s tx batches in the order they came, though a later one is ready first (its signatures known)', async () => {
    const { genesis, dev } = network(1)
    const hub = new MemoryHub()
    const peer = hub.transport('peer')
    for (const t of ['tx', 'consensus', 'block'] as const) peer.subscribe(t, async () => 'ignore')
    peer.handle('sync', async () => encodeSyncStatus({ height: 0, headHash: new Uint8Array(32) }))
    await peer.start()
    // a full node whose validator never runs: nothing is committed, so the mempool keeps what it admits
    const full = await start('full', genesis, hub, null)
    await waitFor(() => full.transport.peers().some((p) => p.peerId === 'peer'), 'the peer connected')
    const txs = Array.from({ length: 10 }, (_, nonce) => dev.sign({ chainId: genesis.chainId, nonce, body: post(`in order ${nonce}`) }).tx)
    const [first, second] = [txs.slice(0, 5), txs.slice(5)]
    // the second batch's signatures are known (as when its txs came first in a proposal): its admission needs no worker
    expect(await full.chain.verifyTxSignatures(second)).toEqual(second.map(() => true))
    peer.publish('tx', encodeTxBatch(first))
    peer.publish('tx', encodeTxBatch(second))
    await waitFor(() => full.pool.mempool.size === 10 || undefined, 'all ten txs pending', 10_000)
    expect(txs.every((tx) => full.pool.mempool.has(tx.id))).toBe(true)
  }, 30_000)

  it('does not admit again a gossiped tx that a block it saw already held', async () => {
    const { genesis, keys, dev } = network(1)
    const hub = new MemoryHub()
    const peer = hub.transport('peer')
    for (const t of ['tx', 'consensus', 'block'] as const) peer.subscribe(t, async () => 'ignore')
    peer.handle('sync', async () => encodeSyncStatus({ height: 0, headHash: new Uint8Array(32) }))
    await peer.start()
    const v = await start('v', genesis, hub, keys[0]!)
    await waitFor(() => v.transport.peers().some((p) => p.peerId === 'peer'), 'the peer connected')
    const tx = dev.sign({ chainId: genesis.chainId, nonce: 0, body: post('once') }).tx
    await v.pool.submitDecoded(tx)
    await waitFor(async () => await v.chain.txLocation(tx.id) !== null, 'the tx in a block')
    const offered: string[] = []
    v.pool.onAdmission((origin, result) => offered.push(`${origin} ${result}`))
    const fresh = dev.sign({ chainId: genesis.chainId, nonce: 1, body: post('new') }).tx
    peer.publish('tx', encodeTxBatch([tx]))
    peer.publish('tx', encodeTxBatch([tx, fresh]))
    await waitFor(() => v.pool.mempool.has(fresh.id) || (v.chain.head.height > 0 && offered.length > 0) || undefined, 'the fresh tx admitted')
    expect(offered).toEqual(['gossip accepted'])
  }, 30_000)

  it('penalises and benches a peer that claims a long chain and serves garbage', async () => {
    const { genesis, keys } = network(1)
    const hub = new MemoryHub()
    const liar = hub.transport('liar')
    liar.handle('sync', async (_from, req) => req[1] === 0 ? encodeSyncStatus({ height: 1_000, headHash: new Uint8Array(32) }) : encodeCanonical([[[new Uint8Array([1, 2, 3]), new Uint8Array([4])]]]))
    liar.handle('txs', async () => encodeCanonical([[]]))
    liar.subscribe('tx', async () => 'ignore')
    liar.subscribe('consensus', async () => 'ignore')
    liar.subscribe('block', async () => 'ignore')
    await liar.start()
    const v = await start('v', genesis, hub, keys[0]!)
    await waitFor(() => v.transport.peers().some((p) => p.peerId === 'liar' && p.score < 0), 'the liar penalised')
    const h = v.chain.head.height
    await waitFor(() => v.chain.head.height >= h + 3, 'the chain going on')
  }, 30_000)

  it('benches a peer that claims blocks and serves none, and syncs from an honest one', async () => {
    const { genesis, keys } = network(1)
    const hub = new MemoryHub()
    const v = await start('v', genesis, hub, keys[0]!)
    await waitFor(() => v.chain.head.height >= 20, 'a chain of 20 blocks')
    // a peer like any other: windows take turns leading with each peer, so it is asked
    const liar = hub.transport('a-liar')
    liar.handle('sync', async (_from, req) => req[1] === 0 ? encodeSyncStatus({ height: 1_000_000, headHash: new Uint8Array(32) }) : encodeCanonical([[]]))
    for (const t of ['tx', 'consensus', 'block'] as const) liar.subscribe(t, async () => 'ignore')
    await liar.start()
    const full = await start('full', genesis, hub, null)
    await waitFor(() => full.chain.head.height >= 20, 'the full node synced from v despite the liar', 20_000)
    expect(full.transport.peers().find((p) => p.peerId === 'a-liar')!.score).toBeLessThan(0)
  }, 30_000)
})
