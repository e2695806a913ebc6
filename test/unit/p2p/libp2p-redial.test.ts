import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { describe, expect, it } from 'vitest'
import { Redialer, redialTargets, type RedialTarget } from '../../../src/p2p/libp2p-redial.ts'

const timing = { tickMs: 1_000, minBackoffMs: 1_000, maxBackoffMs: 4_000 }
const flush = async (): Promise<void> => { for (let i = 0; i < 5; i++) await Promise.resolve() }

/** A redialer over a fake clock and fake dials that fail unless the target is `up`. */
function harness (peers: string[]) {
  const h = {
    now: 0,
    up: new Set<string>(),
    connected: new Set<string>(),
    banned: new Set<string>(),
    dials: [] as Array<{ peer: string, at: number }>
  }
  const targets: RedialTarget[] = peers.map((p) => ({ peerId: p, addr: `/ip4/127.0.0.1/tcp/1/p2p/${p}` }))
  const r = new Redialer(targets, {
    isConnected: (p) => h.connected.has(p),
    isBanned: (p) => h.banned.has(p),
    dial: async (t) => {
      h.dials.push({ peer: t.peerId, at: h.now })
      if (!h.up.has(t.peerId)) throw new Error('refused')
      h.connected.add(t.peerId)
    },
    now: () => h.now
  }, timing)
  const tickAt = async (ms: number): Promise<void> => {
    h.now = ms
    r.tick()
    await flush()
  }
  return { h, tickAt }
}

describe('Redialer', () => {
  it('backs off exponentially up to the cap while a peer is down, and redials at once after it was connected', async () => {
    const { h, tickAt } = harness(['a'])
    for (let t = 0; t <= 12_000; t += 1_000) await tickAt(t)
    // failures at 0, then waits of 1, 2, 4, 4 s (capped)
    expect(h.dials.map((d) => d.at)).toEqual([0, 1_000, 3_000, 7_000, 11_000])

    h.up.add('a')
    for (let t = 13_000; t <= 15_000; t += 1_000) await tickAt(t)
    expect(h.dials.at(-1)).toEqual({ peer: 'a', at: 15_000 })
    expect(h.connected.has('a')).toBe(true)
    const n = h.dials.length
    await tickAt(16_000)
    expect(h.dials.length).toBe(n) // connected: left alone

    // it restarts: the back-off was reset, so the next tick dials
    h.connected.delete('a')
    h.up.delete('a')
    await tickAt(17_000)
    await tickAt(18_000)
    h.up.add('a')
    await tickAt(19_000)
    expect(h.dials.slice(n).map((d) => d.at)).toEqual([17_000, 18_000])
    await tickAt(20_000)
    expect(h.connected.has('a')).toBe(true)
  })

  it('never dials a banned peer, and has one dial in flight per peer', async () => {
    const { h, tickAt } = harness(['a', 'b'])
    h.banned.add('a')
    await tickAt(0)
    expect(h.dials.map((d) => d.peer)).toEqual(['b'])

    let release = (): void => {}
    const pending: RedialTarget[] = []
    const r = new Redialer([{ peerId: 'c', addr: '/ip4/127.0.0.1/tcp/1/p2p/c' }], {
      isConnected: () => false,
      isBanned: () => false,
      dial: async (t) => { pending.push(t); await new Promise<void>((resolve) => { release = resolve }) },
      now: () => 0
    }, timing)
    r.tick()
    r.tick()
    expect(pending.length).toBe(1)
    release()
    await flush()
    r.tick()
    expect(pending.length).toBe(2)
  })
})

describe('redialTargets', () => {
  it('takes the peer id from /p2p/, drops our own, and refuses addresses without one', async () => {
    const self = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
    const other = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
    expect(redialTargets([`/ip4/10.0.0.1/tcp/36656/p2p/${other}`, `/ip4/10.0.0.2/tcp/36656/p2p/${self}`], self))
      .toEqual([{ peerId: other, addr: `/ip4/10.0.0.1/tcp/36656/p2p/${other}` }])
    expect(() => redialTargets(['/ip4/10.0.0.1/tcp/36656'], self)).toThrow(expect.objectContaining({ code: 'INVALID_ADDRESS' }))
    expect(() => redialTargets(['not a multiaddr'], self)).toThrow(expect.objectContaining({ code: 'INVALID_ADDRESS' }))
  })
})
