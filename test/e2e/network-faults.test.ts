/**
 * Faults in a network of four validator processes: one validator SIGKILLed and
 * restarted, two of four down (the chain halts without forking and resumes),
 * and a restart that keeps the node's peer id and is redialled by the others.
 */
import { describe, expect, it } from 'vitest'
import type { NetNode, TestNetwork } from '../support/network.ts'
import { useNetworks } from '../support/network.ts'
import { waitFor } from '../support/wait.ts'

const network = useNetworks()

interface CommitView { height: number, round: number, blockHash: string, signatures: Array<{ validator: string, signature: string }> }

const heightsOf = async (nodes: NetNode[]): Promise<number[]> => await Promise.all(nodes.map(async (n) => await n.height()))

/**
 * Resolves once `samples` consecutive samples, `everyMs` apart, show every node in
 * `nodes` at the same height as in the first of them: a condition, polled, not a sleep.
 * Returns that height per node.
 */
async function waitForStall (nodes: NetNode[], what: string, samples = 3, everyMs = 1_000, timeoutMs = 30_000): Promise<number[]> {
  const seen: string[] = []
  let last: number[] = []
  await waitFor(async () => {
    last = await heightsOf(nodes)
    seen.push(last.join(','))
    return seen.length >= samples && seen.slice(-samples).every((s) => s === seen.at(-1))
  }, `${what} (heights sampled: ${seen.join(' | ')})`, timeoutMs, everyMs)
  return last
}

/** Waits until `node` is a peer of each of `of` (in their net_peers), and returns how long it took. */
async function waitForPeerOf (node: NetNode, of: NetNode[], net: TestNetwork, timeoutMs = 30_000): Promise<number> {
  const t0 = Date.now()
  await waitFor(async () => {
    for (const o of of) if (!(await o.rpc.getPeers()).items.some((p) => p.peerId === node.peerId)) return false
    return true
  }, `${node.name} in the net_peers of ${of.map((o) => o.name).join(', ')}\n${net.logs()}`, timeoutMs, 100)
  return Date.now() - t0
}

const evidenceOf = async (n: NetNode): Promise<unknown[]> => (await n.rpc.call<{ items: unknown[] }>('validator_getEvidence')).items

describe('network faults (separate processes)', () => {
  it('a SIGKILLed validator: the other three keep committing; restarted, it syncs, rejoins and signs again; no evidence anywhere', async () => {
    const net = await network({ validators: 4, blockTimeMs: 250 })
    const [n0, n1, n2, n3] = net.nodes as [NetNode, NetNode, NetNode, NetNode]
    await net.waitForHeight(3)
    await n3.kill()
    const atKill = await net.commonHeight([n0, n1, n2])
    // with one of four gone every fourth round waits out its propose timeout, but the chain goes on
    await net.waitForHeight(atKill + 3, [n0, n1, n2], 60_000)
    await n3.start()
    const status = await n3.rpc.getStatus()
    expect(status.peerId).toBe(n3.peerId)
    // it catches up (by sync and gossip) and follows
    const target = await net.commonHeight([n0, n1, n2])
    await net.waitForHeight(target, [n3], 30_000)
    const rejoined = await n3.height()

    // it signs again: a block after its return carries its precommit in the block's commit
    let signedAt = 0
    await waitFor(async () => {
      const top = await n0.height()
      for (let h = Math.max(rejoined + 1, signedAt + 1); h <= top; h++) {
        const block = await n0.rpc.getBlock(h)
        const commit = block.commit as CommitView | null
        if (commit === null) continue
        expect(commit).toMatchObject({ height: h, blockHash: block.hash })
        if (commit.signatures.some((s) => s.validator === n3.validator)) return (signedAt = h)
        signedAt = h
      }
      return false
    }, `a commit signed by ${n3.name} (${String(n3.validator)})\n${net.logs()}`, 60_000, 250)
    const signed = await n0.rpc.getBlock(signedAt)
    const commit = signed.commit as CommitView
    expect(commit.signatures.length).toBeGreaterThanOrEqual(3)
    for (const s of commit.signatures) {
      expect(net.validators.map((v) => v.validator)).toContain(s.validator)
      expect(s.signature).toMatch(/^[0-9a-f]{128}$/)
    }

    await net.waitForHeight(signedAt)
    await net.sameChain(net.nodes)
    for (const n of net.nodes) expect(await evidenceOf(n), n.name).toEqual([])
  }, 150_000)

  it('two of four down: the chain halts without forking; one back: it resumes', async () => {
    const net = await network({ validators: 4, blockTimeMs: 250 })
    const [n0, n1, n2, n3] = net.nodes as [NetNode, NetNode, NetNode, NetNode]
    await net.waitForHeight(3)
    await Promise.all([n2.stop(), n3.kill()]) // one politely, one not
    // no quorum: three samples a second apart show the same heights on the two left
    const halted = await waitForStall([n0, n1], 'the chain to halt')
    // a node may be one block ahead (it committed; the other missed the block message), never on another branch
    expect(Math.max(...halted) - Math.min(...halted)).toBeLessThanOrEqual(1)
    await net.sameChain([n0, n1], Math.min(...halted))
    const top = Math.max(...halted)

    await n2.start()
    await net.waitForHeight(top + 3, [n0, n1, n2], 60_000)
    await net.sameChain([n0, n1, n2])
    for (const n of [n0, n1, n2]) expect(await evidenceOf(n), n.name).toEqual([])
  }, 120_000)

  it('a restarted node keeps its peer id, and the others redial it even when it dials nobody', async () => {
    const net = await network({ validators: 4, blockTimeMs: 250 })
    const [n0, n1, n2, n3] = net.nodes as [NetNode, NetNode, NetNode, NetNode]
    await net.waitForHeight(2)
    const before = await n3.rpc.getStatus()
    expect(before.peerId).toBe(n3.peerId)
    expect(before.listenAddrs).toContain(n3.p2pAddr)

    await n3.stop()
    await waitFor(async () => {
      for (const o of [n0, n1, n2]) if ((await o.rpc.getPeers()).items.some((p) => p.peerId === n3.peerId)) return false
      return true
    }, 'the others to see node3 gone', 20_000, 100)
    // an empty bootstrap list: node3 dials nobody, so only the others' redial can connect it
    await n3.start(['--bootstrap', ''])
    const after = await n3.rpc.getStatus()
    expect(after.peerId).toBe(before.peerId)
    expect(after.listenAddrs).toEqual(before.listenAddrs)

    const ms = await waitForPeerOf(n3, [n0, n1, n2], net)
    const peers = (await n3.rpc.getPeers()).items
    expect(peers.length).toBeGreaterThanOrEqual(2)
    // all of them dialled in
    for (const p of peers) expect(p.direction, p.peerId).toBe('inbound')
    expect((await n3.rpc.getStatus()).peerCount).toBeGreaterThanOrEqual(2)
    // and it is back at work
    await net.waitForHeight((await n0.height()) + 2, net.nodes, 30_000)
    console.info(`redial: node3 back in every peer list ${ms} ms after its RPC answered`)
  }, 90_000)
})
