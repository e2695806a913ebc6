/**
 * A Chorus network as separate OS processes over libp2p on 127.0.0.1: four
 * validators and a full node, each `chorus start --home`. Txs sent to any node
 * are committed, a tx sent to one is pending on the others before it lands, and
 * every node holds the same chain.
 */
import { describe, expect, it } from 'vitest'
import { post, transfer, Signer } from '../../src/client/transactions.ts'
import { useNetworks } from '../support/network.ts'
import { waitFor } from '../support/wait.ts'

const network = useNetworks()

describe('a network of processes', () => {
  it('commits txs sent to any node (full node included), gossips pending txs, and every node holds the same blocks', async () => {
    const net = await network({ validators: 4, fullNodes: 1, blockTimeMs: 250 })
    const [, node1] = net.nodes
    // each home lists every other node: a full mesh of 5
    await waitFor(async () => {
      for (const n of net.nodes) if ((await n.rpc.getStatus()).peerCount < 4) return false
      return true
    }, `every node connected to the 4 others\n${net.logs()}`, 30_000, 100)
    await net.waitForHeight(2)
    const statuses = await Promise.all(net.nodes.map(async (n) => await n.rpc.getStatus()))
    expect(statuses.map((s) => s.validator === null)).toEqual([false, false, false, false, true])
    expect(new Set(statuses.map((s) => s.peerId)).size).toBe(5)

    const dev = await net.dev()
    const { chainId } = await node1!.rpc.getParams()
    let nonce = 0

    // one tx through each node, waited for: each lands in a block
    const landed: Array<{ id: string, height: number }> = []
    for (const n of net.nodes) {
      const tx = dev.sign({ chainId, nonce: nonce++, body: post(`sent to ${n.name}`) })
      const res = await n.rpc.submitTx(tx.hex, { wait: 'commit' })
      expect(res.id).toBe(tx.id)
      expect(res.height, n.name).toBeGreaterThan(0)
      landed.push({ id: tx.id, height: res.height! })
    }
    await net.waitForHeight(Math.max(...landed.map((l) => l.height)))
    for (const n of net.nodes) {
      for (const [i, l] of landed.entries()) {
        expect(await n.rpc.getTx(l.id), `${n.name}: the tx sent to node${i}`).toMatchObject({ status: 'included', height: l.height })
        expect((await n.rpc.getPost(l.id)).text).toBe(`sent to node${i}`)
      }
    }

    // a burst of 20 txs to node1, not waited for: the others hold them as pending (gossiped) before a block includes them
    const others = net.nodes.filter((n) => n !== node1)
    const burst = Array.from({ length: 20 }, () => dev.sign({ chainId, nonce: nonce++, body: post(`burst ${nonce}`) }))
    const pendingSeen = new Map<string, Set<string>>(others.map((n) => [n.name, new Set()]))
    const includedOn = new Map<string, Set<string>>(others.map((n) => [n.name, new Set()]))
    let watching = true
    const watchers = others.map(async (n) => {
      while (watching) {
        const open = burst.filter((t) => !includedOn.get(n.name)!.has(t.id))
        if (open.length === 0) return
        await Promise.all(open.map(async (t) => {
          const s = await n.rpc.getTx(t.id)
          if (s.status === 'pending') pendingSeen.get(n.name)!.add(t.id)
          if (s.status === 'included') includedOn.get(n.name)!.add(t.id)
        }))
      }
    })
    try {
      for (const t of burst) await node1!.rpc.submitTx(t.hex)
      await waitFor(() => others.every((n) => includedOn.get(n.name)!.size === burst.length), `the burst included on every node\n${net.logs()}`, 30_000, 50)
    } finally {
      watching = false
      await Promise.all(watchers)
    }
    const sightings = [...pendingSeen].map(([name, ids]) => `${name}: ${ids.size}`)
    expect([...pendingSeen.values()].some((ids) => ids.size > 0), `pending sightings ${sightings.join(', ')}`).toBe(true)
    console.info(`burst of ${burst.length} to node1: seen pending elsewhere ${sightings.join(', ')}`)
    const lastBurst = (await node1!.rpc.getTx(burst.at(-1)!.id)).height!
    await net.waitForHeight(lastBurst)
    for (const n of net.nodes) expect((await n.rpc.getTx(burst[0]!.id)).status, n.name).toBe('included')

    // the same chain everywhere: block hash and state root at every height up to a common one
    await net.waitForHeight(lastBurst + 2)
    const top = await net.commonHeight()
    const blocks = await net.sameChain(net.nodes, top)
    expect(blocks).toHaveLength(top)
    expect(blocks.reduce((k, b) => k + b.txs.length, 0)).toBe(nonce)
    // each node's head state root is the one every node has in that block's header
    for (const n of net.nodes) {
      const head = await n.head()
      const elsewhere = await net.nodes[(n.index + 1) % net.nodes.length]!.rpc.getBlock(head.height).catch(async () => {
        await net.waitForHeight(head.height)
        return await net.nodes[(n.index + 1) % net.nodes.length]!.rpc.getBlock(head.height)
      })
      expect(head.stateRoot, n.name).toBe(elsewhere.header.stateRoot)
      expect(head.hash, n.name).toBe(elsewhere.hash)
    }
    expect(await Promise.all(net.nodes.map(async (n) => (await n.rpc.call<{ items: unknown[] }>('validator_getEvidence')).items))).toEqual(net.nodes.map(() => []))
  }, 120_000)

  it('a full node started after 300 blocks catches up by sync, then follows gossip, with the validators\' state root', async () => {
    // the full node (node4) has its home, but starts later
    const net = await network({ validators: 4, fullNodes: 1, blockTimeMs: 50, start: [0, 1, 2, 3] })
    const validators = net.validators
    const full = net.nodes[4]!
    const dev = await net.dev()
    const { chainId } = await validators[0]!.rpc.getParams()
    const friend = Signer.generate()

    // txs all along: posts and transfers, to the validators in turn, each waited for in a block before the next
    let nonce = 0
    let sending = true
    const sent: string[] = []
    const sender = (async () => {
      while (sending) {
        const tx = dev.sign({ chainId, nonce, body: nonce % 3 === 2 ? transfer(friend.publicKey, 1_000n) : post(`catch-up ${nonce}`) })
        await validators[nonce % validators.length]!.rpc.submitTx(tx.hex)
        sent.push(tx.id)
        nonce++
        // (a condition, not a sleep: about one tx every block or two) — included where the next tx goes, so that
        // node's nonce has moved on (a node a block behind would refuse the next nonce)
        const next = validators[nonce % validators.length]!
        await waitFor(async () => (await next.rpc.getTx(tx.id)).status === 'included', `tx ${nonce - 1} included`, 30_000, 25)
      }
    })()
    try {
      await net.waitForHeight(300, validators, 150_000)
    } finally {
      sending = false
      await sender
    }
    expect(sent.length).toBeGreaterThan(20)
    const before = await net.commonHeight(validators)

    // watch its status from the first moment its RPC answers
    let sawSyncing = false
    let maxTarget = 0
    let syncMs = 0
    let watching = true
    const t0 = Date.now()
    await full.start()
    const watcher = (async () => {
      while (watching) {
        const s = await full.rpc.getStatus().catch(() => null)
        if (s?.syncing === true) {
          sawSyncing = true
          maxTarget = Math.max(maxTarget, s.syncTarget ?? 0)
        }
        await new Promise((r) => setImmediate(r))
      }
    })()
    try {
      await net.waitForHeight(before, [full], 60_000)
      syncMs = Date.now() - t0
    } finally {
      watching = false
      await watcher
    }
    const log = full.log()
    expect(sawSyncing || log.includes('Syncing'), `no sign of sync in node4's status or log\n${full.tail(60)}`).toBe(true)
    if (sawSyncing) expect(maxTarget).toBeGreaterThan(0)
    expect(log).toContain('role=full node')

    // then it follows the validators by the block topic: for 30 more blocks, each height node0 had is reached soon
    // after, and it stays level (block messages that come a few heights early are kept until their turn, so a node
    // left a block or two behind by sync does not fall back to polling)
    await waitFor(async () => await validators[0]!.height() - await full.height() <= 2, `node4 level with node0\n${full.tail()}`, 30_000, 50)
    const from = await full.height()
    const lags: number[] = []
    await waitFor(async () => {
      const [f, v] = await Promise.all([full.height(), validators[0]!.height()])
      lags.push(v - f)
      return f >= from + 30
    }, `node4 to follow 30 more blocks\n${full.tail()}`, 60_000, 100)
    for (let k = 0; k < 3; k++) {
      const v = await validators[0]!.height()
      await waitFor(async () => await full.height() >= v, `node4 to reach ${v}, where node0 is\n${full.tail()}`, 10_000, 50)
    }
    const median = [...lags].sort((a, b) => a - b)[Math.floor(lags.length / 2)]!
    expect(median, `lags behind node0: ${lags.join(' ')}`).toBeLessThanOrEqual(2)
    console.info(`catch-up: ${before} blocks, ${sent.length} txs; synced in ${syncMs} ms (status syncing seen: ${String(sawSyncing)}); lags while following: ${lags.join(' ')}`)

    // same blocks and state root as every validator, at every height up to a common one
    const top = await net.commonHeight()
    const blocks = await net.sameChain(net.nodes, top)
    expect(blocks.reduce((k, b) => k + b.txs.length, 0)).toBe(sent.length)
    for (const id of [sent[0]!, sent[Math.floor(sent.length / 2)]!, sent.at(-1)!]) expect((await full.rpc.getTx(id)).status).toBe('included')
    expect((await full.rpc.getAccount(friend.address())).balance).toBe((await validators[1]!.rpc.getAccount(friend.address())).balance)
  }, 240_000)
})
