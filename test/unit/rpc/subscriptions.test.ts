/**
 * Subscription delivery and slow readers (issue #7, items 4 and 5), over a real
 * WebSocket on 127.0.0.1 against a chain on a real LevelDB, its blocks made by the
 * test one at a time (no block timer).
 */
import { type Server, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { WebSocket } from 'ws'
import { type Signer, follow, post, unfollow } from '../../../src/client/transactions.ts'
import { silentLogger } from '../../../src/logger.ts'
import type { SignedTx, TxBody } from '../../../src/protocol/types.ts'
import type { RpcContext } from '../../../src/rpc/context.ts'
import { DEFAULT_OUTBOX_LIMITS, type OutboxLimits } from '../../../src/rpc/outbox.ts'
import { Views } from '../../../src/rpc/views.ts'
import { type CallOne, DEFAULT_WS_OPTIONS, WsRpc } from '../../../src/rpc/websocket.ts'
import { Bucket } from '../../../src/state/buckets.ts'
import { Feeds } from '../../../src/feed/feeds.ts'
import { Queries } from '../../../src/state/queries.ts'
import { CHAIN_ID, type Fixture, makeFixture } from '../../support/chain.ts'
import { waitFor } from '../../support/wait.ts'

interface Harness {
  fx: Fixture
  rpc: WsRpc
  url: string
  /** Signs `body` for `signer` with its next nonce. */
  tx: (signer: Signer, body: TxBody) => SignedTx
  /** Commits a block of exactly `txs`, in order, and waits until subscribers were given it. */
  block: (txs?: SignedTx[]) => Promise<{ height: number, posts: string[] }>
}

let open: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const close of open.reverse()) await close()
  open = []
})

const echo: CallOne = async (req) => ({ jsonrpc: '2.0', id: (req as { id?: unknown }).id as number, result: null })

async function harness (outbox: Partial<OutboxLimits> = {}, callOne: CallOne = echo): Promise<Harness> {
  const fx = await makeFixture({ users: 4 })
  const ctx: RpcContext = {
    chain: fx.chain,
    pool: fx.pool,
    queries: new Queries(fx.store),
    feeds: new Feeds(fx.store, null),
    views: new Views(fx.genesis.addressPrefix),
    evidence: null as never,
    status: () => { throw new Error('not used here') },
    health: () => ({ ok: true }),
    peers: () => [],
    waitForInclusion: async () => { throw new Error('not used here') },
    commitWaitMs: 1000,
    faucet: null
  }
  const rpc = new WsRpc({ ...DEFAULT_WS_OPTIONS, outbox: { ...DEFAULT_OUTBOX_LIMITS, ...outbox } }, ctx, callOne, silentLogger)
  const server: Server = createServer()
  rpc.attach(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  open.push(async () => {
    rpc.close()
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
    await fx.close()
  })
  const nonces = new Map<Signer, number>()
  return {
    fx,
    rpc,
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws`,
    tx: (signer, body) => {
      const nonce = nonces.get(signer) ?? 0
      nonces.set(signer, nonce + 1)
      return signer.sign({ chainId: CHAIN_ID, nonce, body }, fx.genesis.params).tx
    },
    block: async (txs = []) => {
      const built = await fx.block(txs)
      expect(built.block.txs.length).toBe(txs.length)
      const height = built.block.header.height
      await waitFor(() => rpc.stats().hub.behind === 0, `delivery of block ${height}`)
      const posts = built.block.txs.flatMap((t, i) => t.unsigned.body.kind === 'post' ? [`${height}:${i}`] : [])
      return { height, posts }
    }
  }
}

type Message = Record<string, any>

async function client (url: string) {
  const ws = new WebSocket(url)
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
  const inbox: Message[] = []
  let closed: { code: number, reason: string } | null = null
  ws.on('message', (d) => inbox.push(JSON.parse(d.toString())))
  ws.on('close', (code, reason) => { closed = { code, reason: reason.toString() } })
  let id = 0
  const call = async (method: string, params: unknown[] = []): Promise<Message> => {
    const my = ++id
    ws.send(JSON.stringify({ jsonrpc: '2.0', id: my, method, params }))
    return await waitFor(() => inbox.find((m) => m.id === my), `reply to ${method}`)
  }
  const subscribe = async (topic: string, filter: Record<string, unknown> = {}): Promise<string> => {
    const reply = await call('subscribe', [topic, filter])
    expect(reply.error).toBeUndefined()
    return reply.result as string
  }
  const events = (sub: string): Message[] => inbox.filter((m) => m.method === 'subscription' && m.params.subscription === sub).map((m) => m.params.result)
  const ids = (sub: string): string[] => events(sub).map((e) => e.eventId as string)
  const dropped = (sub: string): Message | undefined => inbox.find((m) => m.method === 'subscriptionDropped' && m.params.subscription === sub)?.params
  open.push(async () => { ws.terminate() })
  return { ws, inbox, call, subscribe, events, ids, dropped, closed: () => closed }
}

describe('subscriptions', () => {
  it('matches followedBy from a follow index in memory: a block is delivered without reading follow state, and a follow or unfollow committed after subscribing counts from its place in the block', async () => {
    const h = await harness()
    const [alice, bob, carol, dave] = h.fx.users as [Signer, Signer, Signer, Signer]
    await h.block([h.tx(carol, follow(alice.publicKey))])
    const c = await client(h.url)
    const bobs: string[] = []
    for (let i = 0; i < 10; i++) bobs.push(await c.subscribe('posts', { followedBy: bob.address() }))
    const carols: string[] = []
    for (let i = 0; i < 5; i++) carols.push(await c.subscribe('posts', { followedBy: carol.address() }))
    const all = await c.subscribe('posts')
    expect(h.rpc.stats().hub).toMatchObject({ followers: 2, followEntries: 1 })

    const get = vi.spyOn(h.fx.store, 'get')
    const range = vi.spyOn(h.fx.store, 'range')
    const followReads = () => [...get.mock.calls, ...range.mock.calls].filter(([bucket]) => bucket === Bucket.following).length
    // posts only: executing them reads no follow state, so any read would be delivery's
    const b1 = await h.block([h.tx(alice, post('a1')), h.tx(dave, post('d1')), h.tx(alice, post('a2'))])
    expect(c.ids(all)).toEqual(b1.posts)
    for (const s of carols) expect(c.ids(s)).toEqual([b1.posts[0], b1.posts[2]])
    for (const s of bobs) expect(c.events(s)).toEqual([])
    expect(followReads()).toBe(0)
    get.mockRestore()
    range.mockRestore()

    // bob follows alice between two of her posts, then unfollows her before a third
    const b2 = await h.block([h.tx(alice, post('a3')), h.tx(bob, follow(alice.publicKey)), h.tx(alice, post('a4'))])
    const b3 = await h.block([h.tx(bob, unfollow(alice.publicKey)), h.tx(alice, post('a5'))])
    for (const s of bobs) expect(c.ids(s)).toEqual([b2.posts[1]])
    for (const s of carols) expect(c.ids(s)).toEqual([b1.posts[0], b1.posts[2], ...b2.posts, ...b3.posts])
    expect(c.events(bobs[0]!)[0]).toMatchObject({ text: 'a4', author: alice.address() })

    for (const s of bobs) expect((await c.call('unsubscribe', [s])).result).toBe(true)
    expect(h.rpc.stats().hub).toMatchObject({ followers: 1, followEntries: 1 }) // bob's set went with his last subscription
  })

  it('drops a subscriber that does not read, with the reason and where to resume, while another keeps receiving; resuming with fromEventId misses and repeats nothing', async () => {
    const maxBytes = 256 * 1024
    const h = await harness({ socketWindowBytes: 32 * 1024, pauseAboveBytes: 128 * 1024, maxBytes })
    const [alice] = h.fx.users as [Signer]
    const reader = await client(h.url)
    const readerHeads = await reader.subscribe('newHeads')
    const readerPosts = await reader.subscribe('posts')
    const start = h.fx.chain.head.height
    const slow = await client(h.url)
    const slowSubs: string[] = []
    for (let i = 0; i < 4; i++) slowSubs.push(await slow.subscribe('posts'))
    slow.ws.pause() // reads nothing more

    const slowId = h.rpc.stats().clients.find((cl) => cl.subscriptions === 4)!.callerId
    const slowStats = () => h.rpc.stats().clients.find((cl) => cl.callerId === slowId)!
    const allPosts: string[] = []
    // each block is well within what a reading client can take; the kernel's buffers fill first
    for (let i = 0; i < 200 && slowStats().subscriptions > 0; i++) {
      const b = await h.block(Array.from({ length: 10 }, (_, k) => h.tx(alice, post(`${i}.${k} `.padEnd(4000, 'x')))))
      allPosts.push(...b.posts)
    }
    expect(slowStats().subscriptions).toBe(0) // dropped
    // what waited for it stayed bounded: the bound, the message being written, and the one that passed it
    expect(slowStats().peakBytes).toBeLessThanOrEqual(maxBytes + 2 * 8 * 1024)
    expect(h.rpc.stats().hub.subscriptions).toBe(2)

    // the reader is unaffected: every head and every post, in order
    const after = await h.block([h.tx(alice, post('after the drop'))])
    allPosts.push(...after.posts)
    await waitFor(() => reader.events(readerPosts).length === allPosts.length, 'the reader\'s posts')
    expect(reader.ids(readerPosts)).toEqual(allPosts)
    expect(reader.events(readerHeads).map((e) => e.height)).toEqual(Array.from({ length: after.height - start }, (_, k) => start + 1 + k))

    // the slow client, reading again, finds what was written to it, then why it stopped, then the close
    slow.ws.resume()
    await waitFor(() => slow.closed() ?? undefined, 'the slow client closed')
    expect(slow.closed()).toEqual({ code: 4008, reason: 'SLOW_READER' })
    for (const s of slowSubs) {
      const ids = slow.ids(s)
      expect(ids).toEqual(allPosts.slice(0, ids.length)) // a prefix of the chain's posts
      const notice = slow.dropped(s)
      expect(notice).toMatchObject({ reason: 'SLOW_READER', lastEventId: ids.at(-1) ?? null })
      expect(notice!.fromEventId).toBe(ids.at(-1) ?? `${start}:999999999`)
      const noticeAt = slow.inbox.findIndex((m) => m.method === 'subscriptionDropped' && m.params.subscription === s)
      expect(noticeAt).toBeGreaterThan(slow.inbox.findLastIndex((m) => m.method === 'subscription' && m.params.subscription === s))
    }

    // resuming one of them: exactly the posts after what it had, then live ones
    const s = slowSubs[1]!
    const had = slow.ids(s)
    const resumed = await client(h.url)
    const again = await resumed.subscribe('posts', { fromEventId: slow.dropped(s)!.fromEventId })
    const live = await h.block([h.tx(alice, post('live again'))])
    allPosts.push(...live.posts)
    await waitFor(() => resumed.events(again).length === allPosts.length - had.length, 'the replay and the live post')
    expect([...had, ...resumed.ids(again)]).toEqual(allPosts)
  })

  it('a long replay for one subscriber holds back no one else\'s live events, and then joins live with no gap and no duplicate', async () => {
    const h = await harness()
    const [alice] = h.fx.users as [Signer]
    for (let i = 0; i < 5; i++) await h.block([h.tx(alice, post(`old ${i}`))])
    // reading the old blocks back is slow: it waits until the test lets it go
    let release!: () => void
    const gate = new Promise<void>((resolve) => { release = resolve })
    const oldHead = h.fx.chain.head.height
    const getBlock = h.fx.chain.getBlock.bind(h.fx.chain)
    vi.spyOn(h.fx.chain, 'getBlock').mockImplementation(async (height) => {
      if (height <= oldHead) await gate
      return await getBlock(height)
    })

    const replaying = await client(h.url)
    const fromStart = await replaying.subscribe('newHeads', { fromEventId: '0:0' })
    const postsFromStart = await replaying.subscribe('posts', { fromEventId: '0:0' })
    const live = await client(h.url)
    const liveHeads = await live.subscribe('newHeads')
    for (let i = 0; i < 3; i++) await h.block([h.tx(alice, post(`new ${i}`))])
    await waitFor(() => live.events(liveHeads).length === 3, 'the live subscriber\'s heads')
    expect(live.events(liveHeads).map((e) => e.height)).toEqual([oldHead + 1, oldHead + 2, oldHead + 3])
    expect(replaying.events(fromStart)).toEqual([]) // still replaying

    release()
    await h.block([h.tx(alice, post('joined'))])
    const head = h.fx.chain.head.height
    await waitFor(() => replaying.events(fromStart).length === head, 'the replay and the live heads')
    expect(replaying.events(fromStart).map((e) => e.height)).toEqual(Array.from({ length: head }, (_, k) => k + 1))
    await waitFor(() => replaying.events(postsFromStart).length === head, 'one post a block')
    expect(replaying.ids(postsFromStart)).toEqual(Array.from({ length: head }, (_, k) => `${k + 1}:0`))
    expect(new Set(replaying.events(postsFromStart).map((e) => e.text)).size).toBe(head)
  })

  it('stops reading a connection that does not read: its further calls wait, and what is queued for it stays bounded', async () => {
    const answer = 'y'.repeat(16 * 1024)
    let executed = 0
    let executedWhilePaused = 0
    let rpc!: WsRpc
    const callOne: CallOne = async (req, caller) => {
      executed++
      if (rpc.stats().clients.find((cl) => cl.callerId === caller.id)?.paused === true) executedWhilePaused++
      return { jsonrpc: '2.0', id: (req as { id: number }).id, result: answer }
    }
    const maxBytes = 4 * 1024 * 1024
    const h = await harness({ socketWindowBytes: 64 * 1024, pauseAboveBytes: 512 * 1024, maxBytes }, callOne)
    rpc = h.rpc
    const c = await client(h.url)
    c.ws.pause()
    const calls = 1500
    const pad = 'p'.repeat(32 * 1024)
    for (let i = 1; i <= calls; i++) c.ws.send(JSON.stringify({ jsonrpc: '2.0', id: i, method: 'echo', params: [pad] }))
    // the node stopped reading: the client's own sends back up behind it
    await waitFor(() => h.rpc.stats().clients[0]?.paused === true && c.ws.bufferedAmount > 4 * 1024 * 1024, 'the node to stop reading')
    expect(executed).toBeLessThan(calls / 2)
    expect(h.rpc.stats().clients[0]!.bytes).toBeLessThanOrEqual(maxBytes)

    c.ws.resume()
    await waitFor(() => c.inbox.length === calls, 'every answer', 60_000)
    expect(c.inbox.map((m) => m.id).sort((a, b) => a - b)).toEqual(Array.from({ length: calls }, (_, k) => k + 1))
    expect(executed).toBe(calls)
    expect(executedWhilePaused).toBe(0)
    expect(h.rpc.stats().clients[0]!.peakBytes).toBeLessThanOrEqual(maxBytes)
    expect(c.closed()).toBeNull()
  })
})
