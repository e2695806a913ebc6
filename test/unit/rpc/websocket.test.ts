import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { parseGenesis } from '../../../src/chain/genesis.ts'
import { Signer, follow, post } from '../../../src/client/transactions.ts'
import { LiveClient, type WebSocketLike } from '../../../src/client/live.ts'
import { encodeAddress } from '../../../src/crypto/address.ts'
import { generateSecretKey, publicKeyOf } from '../../../src/crypto/keys.ts'
import { silentLogger } from '../../../src/logger.ts'
import { ChorusNode } from '../../../src/node.ts'
import { waitFor } from '../../support/wait.ts'

/** A single validator making a block every 100 ms, and a WebSocket client. */
let node: ChorusNode
let dir: string
const alice = Signer.generate()
const bob = Signer.generate()

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chorus-ws-'))
  const secretKey = generateSecretKey()
  const genesis = parseGenesis({
    chainId: 'ws-test', genesisTimeMs: Date.now(), params: { blockTimeMs: 100 },
    accounts: [alice, bob].map((s) => ({ address: s.address(), balance: '1000000' })),
    validators: [{ address: encodeAddress(publicKeyOf(secretKey)), power: '1' }]
  })
  node = await ChorusNode.start({
    dataDir: join(dir, 'data'), genesis, rpc: { host: '127.0.0.1', port: 0 }, p2p: null,
    validator: { secretKey, signStatePath: join(dir, 'sign-state.json'), walPath: join(dir, 'consensus.wal') }
  }, { logger: silentLogger })
})
afterAll(async () => {
  await node.stop()
  await rm(dir, { recursive: true, force: true })
})

async function client () {
  const ws = new WebSocket(`ws://127.0.0.1:${node.rpcPort}/ws`)
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
  const inbox: any[] = []
  ws.on('message', (d) => inbox.push(JSON.parse(d.toString())))
  let id = 0
  const call = async (method: string, params: unknown[] = []) => {
    const my = ++id
    ws.send(JSON.stringify({ jsonrpc: '2.0', id: my, method, params }))
    return await waitFor(() => inbox.find((m) => m.id === my), `reply to ${method}`)
  }
  const events = (sub: string) => inbox.filter((m) => m.method === 'subscription' && m.params.subscription === sub).map((m) => m.params.result)
  return { ws, call, events, inbox }
}

describe('WebSocket subscriptions', () => {
  it('streams new heads, posts by author and by followed-by, and tx status; replays from an event id', async () => {
    const c = await client()
    const heads = (await c.call('subscribe', ['newHeads'])).result
    const byAlice = (await c.call('subscribe', ['posts', { author: alice.address() }])).result
    const bobsFeed = (await c.call('subscribe', ['posts', { followedBy: bob.address() }])).result
    await waitFor(() => c.events(heads).length >= 2, 'two heads')
    const [h1, h2] = c.events(heads)
    expect(h2.height).toBe(h1.height + 1)
    expect(h1.eventId).toBe(`${h1.height}:0`)

    const submit = async (s: Signer, nonce: number, body: Parameters<Signer['sign']>[0]['body']) => {
      const tx = s.sign({ chainId: 'ws-test', nonce, body })
      await node.pool.submit(Buffer.from(tx.hex, 'hex'))
      return tx
    }
    await submit(bob, 0, follow(alice.publicKey))
    await waitFor(async () => (await node.chain.txLocation(Buffer.from(bob.sign({ chainId: 'ws-test', nonce: 0, body: follow(alice.publicKey) }).id, 'hex'))) !== null, 'the follow')
    const status = (await c.call('subscribe', ['txStatus', { id: alice.sign({ chainId: 'ws-test', nonce: 0, body: post('live') }).id }])).result
    const p = await submit(alice, 0, post('live'))
    await waitFor(() => c.events(byAlice).length === 1 && c.events(bobsFeed).length === 1 && c.events(status).length === 1, 'the post events')
    expect(c.events(byAlice)[0]).toMatchObject({ eventId: expect.stringMatching(/^\d+:0$/), id: p.id, text: 'live', author: alice.address() })
    expect(c.events(status)[0]).toMatchObject({ txId: p.id, status: 'included' })

    // a second client replays what it missed
    const late = await client()
    const replay = (await late.call('subscribe', ['posts', { fromEventId: `${h1.height}:0` }])).result
    await waitFor(() => late.events(replay).length >= 1, 'the replayed post')
    expect(late.events(replay)[0].eventId).toBe(c.events(byAlice)[0].eventId)
    const already = (await late.call('subscribe', ['txStatus', { id: p.id }])).result
    await waitFor(() => late.events(already).length === 1, 'an already settled txStatus')

    expect((await c.call('unsubscribe', [heads])).result).toBe(true)
    expect((await c.call('unsubscribe', [heads])).result).toBe(false)
    const n = c.events(heads).length
    const h = node.chain.head.height
    await waitFor(() => node.chain.head.height >= h + 2, 'more blocks')
    expect(c.events(heads).length).toBe(n)

    expect((await c.call('subscribe', ['nope'])).error.code).toBe(-32602)
    expect((await c.call('subscribe', ['posts', { fromEventId: 'x' }])).error.code).toBe(-32602)
    expect((await c.call('chain_getHead')).result.height).toBeGreaterThan(0) // every method works over WebSocket too
    c.ws.send('{not json')
    await waitFor(() => c.inbox.some((m) => m.error?.code === -32700), 'a parse error')
    c.ws.close(); late.ws.close()
  })

  it('the SDK\'s LiveClient subscribes and receives events, and surfaces typed errors', async () => {
    const live = await LiveClient.connect(`ws://127.0.0.1:${node.rpcPort}/ws`, { WebSocket: WebSocket as unknown as WebSocketLike })
    const heads: Array<Record<string, unknown>> = []
    const sub = await live.subscribe('newHeads', {}, (e) => heads.push(e))
    await waitFor(() => heads.length >= 2, 'two heads through the SDK')
    expect(heads[0]).toMatchObject({ eventId: expect.stringMatching(/^\d+:0$/) })
    expect(await live.unsubscribe(sub)).toBe(true)
    await expect(live.subscribe('posts', { author: 'not-an-address' }, () => {})).rejects.toMatchObject({ typedCode: 'INVALID_ADDRESS' })
    expect((await live.call<{ height: number }>('chain_getHead')).height).toBeGreaterThan(0)
    live.close()
    await expect(LiveClient.connect('ws://127.0.0.1:1/ws', { WebSocket: WebSocket as unknown as WebSocketLike })).rejects.toMatchObject({ typedCode: 'UNAVAILABLE' })
  })
})
