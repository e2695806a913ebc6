/**
 * The libp2p transport over real TCP on 127.0.0.1: gossip delivery and
 * forwarding, scoring and bans, request/response limits, redial after a
 * restart. Every wait polls a condition; every transport is stopped after
 * its test.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { Logger } from '../../../src/logger.ts'
import { silentLogger } from '../../../src/logger.ts'
import { loadOrCreateNodeKey } from '../../../src/p2p/identity.ts'
import { createLibp2pTransport, type Libp2pTransport, type Libp2pTransportOptions } from '../../../src/p2p/libp2p-transport.ts'
import { PROTOCOL_SPECS, TOPIC_SPECS, type Protocol, type ProtocolSpec, type Topic, type TopicHandler, type Transport } from '../../../src/p2p/transport.ts'
import { waitFor } from '../../support/wait.ts'

const LOCAL = '/ip4/127.0.0.1/tcp/0'
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s)
const text = (b: Uint8Array): string => new TextDecoder().decode(b)

interface LogLine { level: string, msg: string, fields: Record<string, unknown> }
function recordingLogger (): { logger: Logger, lines: LogLine[] } {
  const lines: LogLine[] = []
  const at = (level: string) => (msg: string, fields: Record<string, unknown> = {}) => { lines.push({ level, msg, fields }) }
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => logger }
  return { logger, lines }
}

/** PROTOCOL_SPECS with some fields of one protocol replaced. */
function specs (p: Protocol, patch: Partial<ProtocolSpec>): Record<Protocol, ProtocolSpec> {
  return { ...PROTOCOL_SPECS, [p]: { ...PROTOCOL_SPECS[p], ...patch } }
}

const running: Transport[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map(async (t) => await t.stop()))
})

interface NodeSetup {
  opts?: Partial<Libp2pTransportOptions>
  logger?: Logger
  /** Registers topics and protocols before start. */
  setup?: (t: Libp2pTransport) => void
}

async function node ({ opts = {}, logger = silentLogger, setup }: NodeSetup = {}): Promise<Libp2pTransport> {
  const t = await createLibp2pTransport({ chainId: 'test', privateKey: await generateKeyPair('Ed25519'), listen: [LOCAL], ...opts }, { logger })
  running.push(t)
  setup?.(t)
  await t.start()
  return t
}

const connected = (a: Transport, b: Transport): boolean => a.peers().some((p) => p.peerId === b.peerId)

/** Records what a topic handler sees, answering with `verdict`. */
function inbox (verdict: (text: string) => 'accept' | 'ignore' | 'reject' = () => 'accept') {
  const got: Array<{ from: string, text: string }> = []
  const handler: TopicHandler = async (from, data) => {
    got.push({ from, text: text(data) })
    return verdict(text(data))
  }
  return { got, handler }
}

describe('libp2p transport: gossip', () => {
  it('delivers a published message to its peers, and a peer forwards what it accepts', async () => {
    const boxes = { a: inbox(), b: inbox(), c: inbox() }
    const subscribeAll = (box: ReturnType<typeof inbox>) => (t: Libp2pTransport) => {
      for (const topic of ['tx', 'block'] as Topic[]) t.subscribe(topic, box.handler)
    }
    // a line a — b — c: c hears a only through b
    const b = await node({ setup: subscribeAll(boxes.b) })
    const a = await node({ opts: { bootstrap: [b.listenAddrs()[0]!] }, setup: subscribeAll(boxes.a) })
    const c = await node({ opts: { bootstrap: [b.listenAddrs()[0]!] }, setup: subscribeAll(boxes.c) })
    await waitFor(() => connected(a, b) && connected(c, b), 'a and c connected to b')

    // the mesh forms within a heartbeat or two: publish fresh bytes until they arrive
    let i = 0
    await waitFor(() => {
      a.publish('tx', utf8(`from-a-${i++}`))
      return boxes.b.got.some((m) => m.text.startsWith('from-a-')) && boxes.c.got.some((m) => m.text.startsWith('from-a-'))
    }, 'a message from a at b and at c', 20_000, 100)

    expect(boxes.b.got.find((m) => m.text.startsWith('from-a-'))?.from).toBe(a.peerId)
    expect(boxes.c.got.find((m) => m.text.startsWith('from-a-'))?.from).toBe(b.peerId)
    expect(connected(a, c)).toBe(false)
    expect(boxes.a.got.some((m) => m.text.startsWith('from-a-'))).toBe(false)

    let j = 0
    await waitFor(() => {
      b.publish('block', utf8(`from-b-${j++}`))
      return boxes.a.got.some((m) => m.text.startsWith('from-b-')) && boxes.c.got.some((m) => m.text.startsWith('from-b-'))
    }, 'a block from b at a and c', 20_000, 100)

    expect(a.stats().published.tx).toBeGreaterThan(0)
    expect(a.stats().publishedBytes.tx).toBeGreaterThan(0)
    expect(b.stats().verdicts.tx.accept).toBeGreaterThan(0)
    expect(b.peers().every((p) => p.score === 0 && p.remoteAddr.startsWith('/ip4/127.0.0.1/tcp/'))).toBe(true)
    expect(new Set(b.peers().map((p) => p.direction))).toEqual(new Set(['inbound']))
    expect(a.listenAddrs()[0]).toMatch(new RegExp(`^/ip4/127\\.0\\.0\\.1/tcp/\\d+/p2p/${a.peerId}$`))
  })

  it('takes a throwing handler\'s message as ignored, which costs the sender nothing', async () => {
    const b = await node({ setup: (t) => t.subscribe('consensus', async () => { throw new Error('bug') }) })
    const a = await node({ opts: { bootstrap: [b.listenAddrs()[0]!] }, setup: (t) => t.subscribe('consensus', inbox().handler) })
    await waitFor(() => connected(a, b), 'connected')
    let i = 0
    await waitFor(() => {
      a.publish('consensus', utf8(`m-${i++}`))
      return b.stats().verdicts.consensus.ignore >= 3
    }, 'three ignored messages', 20_000, 100)
    expect(b.stats().verdicts.consensus).toMatchObject({ accept: 0, reject: 0 })
    expect(b.peers().find((p) => p.peerId === a.peerId)?.score).toBe(0)
  })

  it('publishes with no peers without throwing', async () => {
    const t = await createLibp2pTransport({ chainId: 'test', privateKey: await generateKeyPair('Ed25519'), listen: [LOCAL] }, { logger: silentLogger })
    running.push(t)
    expect(() => t.publish('tx', utf8('before start'))).not.toThrow()
    await t.start()
    expect(() => t.publish('tx', utf8('alone'))).not.toThrow()
    expect(() => t.publish('tx', utf8('alone'))).not.toThrow() // a duplicate
    expect(() => t.publish('tx', new Uint8Array(TOPIC_SPECS.tx.maxBytes + 1))).not.toThrow() // over the topic limit
    await waitFor(() => t.stats().published.tx === 1, 'one message published')
    expect(t.stats().publishedBytes.tx).toBe(5)
    expect(t.stats().sentBytes.tx).toBe(0)
    expect(t.peers()).toEqual([])
  })
})

describe('libp2p transport: connections', () => {
  it('lets eight local peers connect all to all (the per-IP limit leaves a localnet alone)', async () => {
    const all: Libp2pTransport[] = []
    for (let i = 0; i < 8; i++) all.push(await node({ opts: { bootstrap: all.map((t) => t.listenAddrs()[0]!) } }))
    await waitFor(() => all.every((t) => t.peers().length === 7), 'every node connected to the 7 others', 20_000)
  })

  it('refuses a peer from an IP that holds maxPeersPerIp peers already', async () => {
    const { logger, lines } = recordingLogger()
    const s = await node({ opts: { maxPeersPerIp: 2 }, logger, setup: (t) => t.handle('sync', async (_from, req) => req) })
    const a = await node({ opts: { bootstrap: [s.listenAddrs()[0]!] } })
    const b = await node({ opts: { bootstrap: [s.listenAddrs()[0]!] } })
    await waitFor(() => connected(s, a) && connected(s, b), 'two peers connected')
    const c = await node({ opts: { bootstrap: [s.listenAddrs()[0]!] } })
    // libp2p's per-host limit of new connections a second (set to the same number) may refuse c first:
    // keep dialling until the per-IP limit is what refuses it
    await waitFor(async () => {
      await expect(c.request(s.peerId, 'sync', utf8('x'))).rejects.toMatchObject({ code: 'UNAVAILABLE' })
      return lines.some((l) => l.msg === 'Inbound connection refused: too many peers on one IP')
    }, 'a refusal by the per-IP limit', 20_000, 300)
    expect(text(await a.request(s.peerId, 'sync', utf8('a')))).toBe('a')
    expect(s.peers().map((p) => p.peerId).sort()).toEqual([a.peerId, b.peerId].sort())
  })
})

describe('libp2p transport: lifecycle', () => {
  it('checks its options, leaves its own address out of the bootstrap list, and stops twice', async () => {
    const privateKey = await generateKeyPair('Ed25519')
    await expect(createLibp2pTransport({ chainId: 'test', privateKey, listen: [LOCAL], bootstrap: ['/ip4/127.0.0.1/tcp/1'] }, { logger: silentLogger }))
      .rejects.toMatchObject({ code: 'INVALID_ADDRESS' })
    await expect(createLibp2pTransport({ chainId: 'test', privateKey, listen: [LOCAL], scoreThreshold: 0 }, { logger: silentLogger }))
      .rejects.toMatchObject({ code: 'INVALID_FIELD' })
    const first = await node({ opts: { privateKey } })
    const addr = first.listenAddrs()[0]!
    await first.stop()
    const t = await node({ opts: { privateKey, listen: [addr.split('/p2p/')[0]!], bootstrap: [addr] } })
    expect(t.peers()).toEqual([])
    await t.stop()
    await t.stop()
  })
})

describe('libp2p transport: scores and bans', () => {
  it('scores down a peer whose messages are rejected, disconnects it and refuses it until the ban ends', async () => {
    const { logger, lines } = recordingLogger()
    const box = inbox((s) => s.startsWith('bad') ? 'reject' : 'accept')
    const r = await node({
      opts: { banMs: 4_000 },
      logger,
      setup: (t) => {
        t.subscribe('tx', box.handler)
        t.handle('sync', async (_from, req) => req)
      }
    })
    const o = await node({ opts: { bootstrap: [r.listenAddrs()[0]!] }, setup: (t) => t.subscribe('tx', inbox().handler) })
    await waitFor(() => connected(r, o) && o.topicPeers('tx').includes(r.peerId), 'o connected to r and knows its topics')
    expect(text(await o.request(r.peerId, 'sync', utf8('hello')))).toBe('hello')

    let n = 0
    const scoreAtR = (): number | undefined => r.peers().find((p) => p.peerId === o.peerId)?.score
    await waitFor(() => {
      o.publish('tx', utf8(`bad-${n++}`))
      const s = scoreAtR()
      return s !== undefined && s < 0
    }, 'o scored below 0 at r', 15_000, 100)

    await waitFor(() => {
      o.publish('tx', utf8(`bad-${n++}`))
      return !connected(r, o)
    }, 'o disconnected by r', 15_000, 100)
    const warned = lines.find((l) => l.level === 'warn' && l.msg === 'Peer disconnected for a low score')
    expect(warned?.fields).toMatchObject({ peer: o.peerId })
    expect(warned?.fields.score).toBeLessThan(-20)
    expect(r.stats().verdicts.tx.reject).toBeGreaterThanOrEqual(5)

    // during the ban r refuses o's connections (its redial loop keeps trying, too)
    await expect(o.request(r.peerId, 'sync', utf8('again'))).rejects.toMatchObject({ code: 'UNAVAILABLE' })
    expect(connected(r, o)).toBe(false)

    // once the ban is over o's redial loop gets back in, with its score forgotten
    await waitFor(() => connected(r, o) && r.topicPeers('tx').includes(o.peerId), 'o reconnected after the ban', 20_000)
    expect(scoreAtR()).toBe(0)
  })

  it('disconnects and bans a peer penalized below the threshold at once', async () => {
    const { logger, lines } = recordingLogger()
    const r = await node({ logger })
    const o = await node({ opts: { bootstrap: [r.listenAddrs()[0]!] } })
    await waitFor(() => connected(r, o), 'connected')
    for (let i = 0; i < 4; i++) r.penalize(o.peerId, 'test')
    expect(r.peers().find((p) => p.peerId === o.peerId)?.score).toBeCloseTo(-20, 1)
    expect(connected(r, o)).toBe(true)
    r.penalize(o.peerId, 'test')
    expect(lines.some((l) => l.msg === 'Peer disconnected for a low score' && l.fields.peer === o.peerId)).toBe(true)
    await waitFor(() => !connected(r, o) && !connected(o, r), 'disconnected')
    await expect(o.request(r.peerId, 'sync', utf8('x'))).rejects.toMatchObject({ code: 'UNAVAILABLE' })
  })
})

describe('libp2p transport: request/response', () => {
  /** A server s (set up by `setup`) and a client c connected to it. */
  async function pair (server: NodeSetup, client: NodeSetup = {}): Promise<{ s: Libp2pTransport, c: Libp2pTransport }> {
    const s = await node(server)
    const c = await node({ ...client, opts: { ...client.opts, bootstrap: [s.listenAddrs()[0]!] } })
    await waitFor(() => connected(c, s), 'client connected')
    return { s, c }
  }

  it('round-trips a request, including a response larger than lpStream\'s default 4 MiB buffer', async () => {
    const big = new Uint8Array(5 * 1024 * 1024).map((_, i) => i % 251)
    const { s, c } = await pair({
      setup: (t) => {
        t.handle('sync', async (from, req) => utf8(`${text(req)} from ${from}`))
        t.handle('txs', async () => big)
      }
    })
    expect(text(await c.request(s.peerId, 'sync', utf8('hi')))).toBe(`hi from ${c.peerId}`)
    // (toEqual on 5 MiB takes half a minute)
    expect(Buffer.from(await c.request(s.peerId, 'txs', utf8('all'))).equals(big)).toBe(true)
  })

  it('refuses oversized requests and responses', async () => {
    const { logger, lines } = recordingLogger()
    // the client allows more than the server does, so the server's limits are the ones tested
    const { s, c } = await pair(
      {
        logger,
        opts: { protocolSpecs: specs('txs', { maxResponseBytes: 1_000 }) },
        setup: (t) => {
          t.handle('sync', async () => new Uint8Array(2_000))
          t.handle('txs', async () => new Uint8Array(2_000))
        }
      },
      { opts: { protocolSpecs: { sync: { ...PROTOCOL_SPECS.sync, maxRequestBytes: 1_000, maxResponseBytes: 1_000 }, txs: PROTOCOL_SPECS.txs } } }
    )
    // the client's own limit: nothing sent
    await expect(c.request(s.peerId, 'sync', new Uint8Array(1_001))).rejects.toMatchObject({ code: 'TOO_LARGE' })
    // over the server's request limit (64 B): refused
    await expect(c.request(s.peerId, 'sync', new Uint8Array(100))).rejects.toMatchObject({ code: 'UNAVAILABLE' })
    // a response over the client's limit
    await expect(c.request(s.peerId, 'sync', new Uint8Array(10))).rejects.toMatchObject({ code: 'TOO_LARGE' })
    // a response over the server's own limit is not written
    await expect(c.request(s.peerId, 'txs', new Uint8Array(10))).rejects.toMatchObject({ code: 'UNAVAILABLE' })
    expect(lines.some((l) => l.level === 'warn' && l.msg === 'Response over the protocol limit not sent')).toBe(true)
    // the oversized request counted against the client
    expect(s.peers().find((p) => p.peerId === c.peerId)?.score).toBeLessThan(0)
  })

  it('times out on a handler that hangs, and on the caller\'s signal', async () => {
    const short = specs('txs', { timeoutMs: 500 })
    const { s, c } = await pair(
      {
        opts: { protocolSpecs: short },
        setup: (t) => {
          for (const p of ['txs', 'sync'] as Protocol[]) t.handle(p, async () => await new Promise<Uint8Array>(() => {}))
        }
      },
      { opts: { protocolSpecs: short } }
    )
    const t0 = Date.now()
    await expect(c.request(s.peerId, 'txs', utf8('x'))).rejects.toMatchObject({ code: 'TIMEOUT' })
    expect(Date.now() - t0).toBeLessThan(5_000)

    const ac = new AbortController()
    const pending = c.request(s.peerId, 'sync', utf8('x'), ac.signal)
    ac.abort()
    await expect(pending).rejects.toMatchObject({ code: 'TIMEOUT' })
  })

  it('fails a request from a peer over its rate limit, and a request whose handler throws', async () => {
    const { s, c } = await pair({
      opts: { protocolSpecs: specs('sync', { rateLimit: { requests: 3, windowMs: 60_000 } }) },
      setup: (t) => {
        t.handle('sync', async (_from, req) => req)
        t.handle('txs', async () => { throw new Error('no') })
      }
    })
    for (let i = 0; i < 3; i++) expect(text(await c.request(s.peerId, 'sync', utf8(`r${i}`)))).toBe(`r${i}`)
    await expect(c.request(s.peerId, 'sync', utf8('r3'))).rejects.toMatchObject({ code: 'UNAVAILABLE' })
    expect(s.peers().find((p) => p.peerId === c.peerId)?.score).toBeLessThan(0)
    await expect(c.request(s.peerId, 'txs', utf8('x'))).rejects.toMatchObject({ code: 'UNAVAILABLE' })
    await expect(c.request('not-a-peer-id', 'txs', utf8('x'))).rejects.toMatchObject({ code: 'INVALID_ADDRESS' })
  })
})

describe('libp2p transport: redial', () => {
  it('redials a bootstrap peer that restarts on the same port with the same key', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'chorus-p2p-'))
    try {
      const keyPath = join(dir, 'node-key.json')
      const first = await loadOrCreateNodeKey(keyPath)
      const b = await node({ opts: { privateKey: first.privateKey } })
      const addr = b.listenAddrs()[0]!
      const a = await node({ opts: { bootstrap: [addr] } })
      await waitFor(() => connected(a, b), 'a connected to b')

      await b.stop()
      await waitFor(() => !connected(a, b), 'a saw b go')
      const again = await loadOrCreateNodeKey(keyPath)
      expect(again.peerId).toBe(first.peerId)
      const port = addr.split('/')[4]!
      const b2 = await node({ opts: { privateKey: again.privateKey, listen: [`/ip4/127.0.0.1/tcp/${port}`] } })
      expect(b2.peerId).toBe(b.peerId)
      const t0 = Date.now()
      await waitFor(() => connected(a, b2), 'a redialled b', 20_000)
      // the back-off is capped at 10 s and b was away for well under that
      expect(Date.now() - t0).toBeLessThan(10_000)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
