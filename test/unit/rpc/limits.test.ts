/**
 * The RPC's bounds over real HTTP and WebSocket on loopback: work admitted per
 * connection, per IP and in total; answers under a size cap; connections capped;
 * abandoned work stopped. Several source addresses in 127.0.0.0/8 stand for
 * several clients.
 */
import { request } from 'node:http'
import { connect, type Socket } from 'node:net'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { WebSocket } from 'ws'
import { parseGenesis } from '../../../src/chain/genesis.ts'
import { RpcClient } from '../../../src/client/rpc-client.ts'
import { Signer, post } from '../../../src/client/transactions.ts'
import { encodeAddress } from '../../../src/crypto/address.ts'
import { generateSecretKey, publicKeyOf } from '../../../src/crypto/keys.ts'
import { silentLogger } from '../../../src/logger.ts'
import { ChorusNode } from '../../../src/node.ts'
import { submitGroupCost } from '../../../src/rpc/admission.ts'
import { waitFor } from '../../support/wait.ts'

const MAX_RESPONSE = 64 * 1024
let node: ChorusNode
let dir: string
let bigHeight: number
const alice = Signer.generate()

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chorus-limits-'))
  const secretKey = generateSecretKey()
  const genesis = parseGenesis({
    chainId: 'limits-test', genesisTimeMs: Date.now(), params: { blockTimeMs: 100 },
    accounts: [{ address: alice.address(), balance: '100000000' }],
    validators: [{ address: encodeAddress(publicKeyOf(secretKey)), power: '1' }]
  })
  node = await ChorusNode.start({
    dataDir: join(dir, 'data'), genesis, p2p: null,
    rpc: {
      host: '127.0.0.1', port: 0, maxConnections: 16, maxConnectionsPerIp: 8, maxResponseBytes: MAX_RESPONSE,
      admission: { perConnection: 16, queuedPerConnection: 8, perIp: 32, total: 64 }
    },
    validator: { secretKey, signStatePath: join(dir, 'sign-state.json'), walPath: join(dir, 'consensus.wal') }
  }, { logger: silentLogger })
  // blocks of posts of 2 KB (up to 20 in one, under the response cap); the test reads the fullest
  const rpc = new RpcClient(`http://127.0.0.1:${node.rpcPort}`)
  const ids: string[] = []
  for (let nonce = 0; nonce < 20; nonce++) ids.push((await rpc.submitTx(alice.sign({ chainId: 'limits-test', nonce, body: post('x'.repeat(2000)) }).hex)).id)
  const heights: number[] = [] // one at a time: one keep-alive connection, under the per-IP cap the tests count on
  for (const id of ids) heights.push(await waitFor(async () => (await rpc.getTx(id)).height, 'the posts to be included'))
  const counts = new Map<number, number>()
  for (const h of heights) counts.set(h, (counts.get(h) ?? 0) + 1)
  bigHeight = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]![0]
})
afterAll(async () => {
  await node.stop()
  await rm(dir, { recursive: true, force: true })
})
afterEach(() => { vi.restoreAllMocks() })

const admission = () => node.rpcServer!.admission
const fullBlock = (id: number, height = bigHeight) => ({ jsonrpc: '2.0', id, method: 'chain_getBlock', params: [height, { full: true }] })

/** A POST from `localAddress` (a loopback address), on its own connection. */
async function post$ (body: unknown, localAddress = '127.0.0.1', signal?: AbortSignal): Promise<{ status: number, headers: Record<string, unknown>, text: string }> {
  return await new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: node.rpcPort, method: 'POST', path: '/', localAddress, agent: false, headers: { 'content-type': 'application/json' }, signal }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => { text += d })
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text }))
    })
    req.on('error', reject)
    req.end(JSON.stringify(body))
  })
}

/** Holds every chain.getBlock call at a gate until `open()`: calls in flight stay in flight. */
function gateBlocks () {
  const original = node.chain.getBlock.bind(node.chain)
  let open!: () => void
  const gate = new Promise<void>((resolve) => { open = resolve })
  const spy = vi.spyOn(node.chain, 'getBlock').mockImplementation(async (h) => { if (h === bigHeight) await gate; return await original(h) })
  /** Reads of the test's block (the subscription hub may read others meanwhile). */
  const reads = () => spy.mock.calls.filter(([h]) => h === bigHeight).length
  return { reads, open }
}

describe('RPC limits', () => {
  it('answers a batch past the response cap with TOO_LARGE for the calls that do not fit', async () => {
    const one = Buffer.byteLength((await post$(fullBlock(0))).text)
    expect(one).toBeLessThan(MAX_RESPONSE)
    const n = Math.floor(MAX_RESPONSE / one) + 2 // two more than fit
    const spy = vi.spyOn(node.chain, 'getBlock')
    const { status, text } = await post$(Array.from({ length: n }, (_, i) => fullBlock(i)))
    expect(status).toBe(200)
    const answers = JSON.parse(text) as any[]
    expect(answers).toHaveLength(n)
    const fitted = answers.filter((a) => a.result !== undefined)
    const refused = answers.filter((a) => a.error?.data?.code === 'TOO_LARGE')
    expect(fitted.length).toBeGreaterThanOrEqual(1)
    expect(refused.length).toBeGreaterThanOrEqual(1)
    expect(fitted.length + refused.length).toBe(n)
    expect(spy.mock.calls.filter(([h]) => h === bigHeight).length).toBeLessThanOrEqual(fitted.length + 1) // once the budget is spent, calls are refused unread
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(MAX_RESPONSE + 2)
    expect(fitted[0].result.txs[0].body.text).toHaveLength(2000)
  })

  it("runs one connection's calls in turn, and refuses past its queue with RATE_LIMITED — over WebSocket too", async () => {
    const { reads, open } = gateBlocks()
    const ws = new WebSocket(`ws://127.0.0.1:${node.rpcPort}/ws`)
    try {
      await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
      const answers: any[] = []
      ws.on('message', (d) => answers.push(JSON.parse(d.toString())))
      // a full block costs the connection's whole share: one runs (held at the gate), 8 wait, the rest are refused at once
      for (let i = 0; i < 60; i++) ws.send(JSON.stringify(fullBlock(i, bigHeight)))
      await waitFor(() => answers.length === 60 - 1 - 8, 'the refusals', 30_000)
      expect(reads()).toBe(1)
      expect(answers.every((a) => a.error?.data?.code === 'RATE_LIMITED' && a.error.code === -32002)).toBe(true)
      open()
      await waitFor(() => answers.length === 60, 'an answer to each call', 30_000)
      expect(answers.filter((a) => a.result !== undefined)).toHaveLength(1 + 8)
    } finally {
      open()
      ws.close()
    }
    await waitFor(() => admission().inFlight === 0, 'nothing left in flight')
  })

  it('refuses a client over its IP\'s share with HTTP 429 and RATE_LIMITED, and every client past the total with BUSY', async () => {
    const { reads, open } = gateBlocks()
    // two connections from .1 hold 32 (the IP's share); .2 holds 32 more (the node's total)
    const held = [post$(fullBlock(1)), post$(fullBlock(2)), post$(fullBlock(3), '127.0.0.2'), post$(fullBlock(4), '127.0.0.2')]
    await waitFor(() => reads() === 4, 'four calls in flight')
    const overIp = await post$(fullBlock(5))
    expect(overIp.status).toBe(429)
    expect(overIp.headers['retry-after']).toBe('1')
    expect(JSON.parse(overIp.text).error.data.code).toBe('RATE_LIMITED')
    const overTotal = await post$({ jsonrpc: '2.0', id: 6, method: 'chain_getHead' }, '127.0.0.3')
    expect(overTotal.status).toBe(429)
    expect(JSON.parse(overTotal.text).error.data.code).toBe('BUSY')
    open()
    for (const r of await Promise.all(held)) expect(JSON.parse(r.text).result.header.height).toBe(bigHeight)
    expect((await post$({ jsonrpc: '2.0', id: 7, method: 'chain_getHead' }, '127.0.0.3')).status).toBe(200)
  })

  it('admits a batch\'s tx_submits as one piece of work, at a cost by their count, held until the last of them ends', async () => {
    // 60 calls at tx_submit's cost of 2 would be 120 units, far past the IP's share of 32
    const from = Number((await new RpcClient(`http://127.0.0.1:${node.rpcPort}`).getAccount(alice.address())).pendingNonce)
    const txs = Array.from({ length: 60 }, (_, i) => alice.sign({ chainId: 'limits-test', nonce: from + i, body: post(`batched ${i}`) }))
    const original = node.chain.verifyTxSignatures.bind(node.chain)
    let open!: () => void
    const gate = new Promise<void>((resolve) => { open = resolve })
    const spy = vi.spyOn(node.chain, 'verifyTxSignatures').mockImplementation(async (t) => { await gate; return await original(t) })
    const batch = post$([...txs.map((t, id) => ({ jsonrpc: '2.0', id, method: 'tx_submit', params: [t.hex] })), { jsonrpc: '2.0', id: 60, method: 'chain_getHead' }], '127.0.0.5')
    await waitFor(() => spy.mock.calls.length === 1, 'the batch\'s txs at the signature check')
    expect(spy.mock.calls[0]![0]).toHaveLength(60) // all of them together
    expect(admission().inFlight).toBe(submitGroupCost(60)) // chain_getHead has answered meanwhile
    open()
    const answers = JSON.parse((await batch).text) as any[]
    expect(answers.map((a) => a.result?.id ?? a.error?.data?.code)).toEqual([...txs.map((t) => t.id), undefined])
    expect(answers[60].result.height).toBeGreaterThan(0)
    await waitFor(() => admission().inFlight === 0, 'the batch\'s cost given back')
  })

  it('answers each of a batch\'s tx_submits in its place (its own refusal, none for a notification), and all of them RATE_LIMITED when the IP\'s share is taken', async () => {
    const from = Number((await new RpcClient(`http://127.0.0.1:${node.rpcPort}`).getAccount(alice.address())).pendingNonce)
    const signed = (nonce: number) => alice.sign({ chainId: 'limits-test', nonce, body: post(`grouped ${nonce}`) })
    const submit = (id: number | undefined, hex: string) => ({ jsonrpc: '2.0', ...(id === undefined ? {} : { id }), method: 'tx_submit', params: [hex] })
    const [first, notified, third, gap] = [signed(from), signed(from + 1), signed(from + 2), signed(from + 10)]
    const mixed = await post$([submit(0, first.hex), submit(1, 'c0ffee'), submit(undefined, notified.hex), submit(3, third.hex), submit(4, gap.hex)], '127.0.0.6')
    expect(mixed.status).toBe(200)
    const answers = JSON.parse(mixed.text) as any[]
    expect(answers.map((a) => [a.id, a.result?.id ?? a.error?.data?.code])).toEqual([[0, first.id], [1, 'MALFORMED'], [3, third.id], [4, 'BAD_NONCE']])
    expect(Number((await new RpcClient(`http://127.0.0.1:${node.rpcPort}`).getAccount(alice.address())).pendingNonce)).toBe(from + 3) // the notification's tx too

    const { reads, open } = gateBlocks()
    const held = [post$(fullBlock(1), '127.0.0.7'), post$(fullBlock(2), '127.0.0.7')] // the IP's whole share
    await waitFor(() => reads() === 2, 'two calls in flight')
    const refused = await post$([submit(0, signed(from + 3).hex), submit(1, signed(from + 4).hex)], '127.0.0.7')
    open()
    expect(refused.status).toBe(429)
    expect((JSON.parse(refused.text) as any[]).map((a) => [a.id, a.error?.data?.code])).toEqual([[0, 'RATE_LIMITED'], [1, 'RATE_LIMITED']])
    await Promise.all(held)
    await waitFor(() => admission().inFlight === 0, 'nothing left in flight')
  })

  it('stops the work of a batch whose client went away', async () => {
    // only the batch's connection open, so the node's count shows when it has seen it close
    await waitFor(() => node.rpcServer!.connections.count === 0, 'no connection left open')
    const { reads, open } = gateBlocks()
    const gone = new AbortController()
    const batch = post$(Array.from({ length: 8 }, (_, i) => fullBlock(i)), '127.0.0.1', gone.signal).catch((e: Error) => e)
    await waitFor(() => reads() === 1, 'the first call in flight')
    gone.abort()
    expect(await batch).toBeInstanceOf(Error)
    await waitFor(() => node.rpcServer!.connections.count === 0, 'the node to see the client go')
    open()
    await waitFor(() => admission().inFlight === 0, 'the held call to end')
    expect(reads()).toBe(1) // the seven waiting behind it never ran
  })

  it('caps connections per IP (429) and in total (503), and a closed one frees its place', async () => {
    const sockets: Socket[] = []
    const open = async (localAddress: string) => {
      const s = connect({ host: '127.0.0.1', port: node.rpcPort, localAddress })
      await new Promise((resolve, reject) => { s.once('connect', resolve); s.once('error', reject) })
      sockets.push(s)
      return s
    }
    const refusal = async (s: Socket) => await new Promise<string>((resolve) => {
      let text = ''
      s.on('data', (d) => { text += d.toString() })
      s.on('close', () => resolve(text))
      s.on('error', () => {})
    })
    // the earlier tests' keep-alive connections close within the server's keep-alive timeout
    await waitFor(() => node.rpcServer!.connections.count === 0, 'no connection left open')
    try {
      for (let i = 0; i < 8; i++) await open('127.0.0.1')
      await waitFor(() => node.rpcServer!.connections.count === 8, 'eight connections counted')
      expect(await refusal(await open('127.0.0.1'))).toMatch(/^HTTP\/1.1 429 [\s\S]*RATE_LIMITED/)
      for (let i = 0; i < 8; i++) await open(`127.0.0.${2 + (i % 2)}`)
      await waitFor(() => node.rpcServer!.connections.count === 16, 'sixteen connections counted')
      expect(await refusal(await open('127.0.0.4'))).toMatch(/^HTTP\/1.1 503 [\s\S]*BUSY/)
      sockets[0]!.destroy()
      await waitFor(() => node.rpcServer!.connections.count === 15, 'a place given back')
      expect((await post$({ jsonrpc: '2.0', id: 1, method: 'chain_getHead' }, '127.0.0.4')).status).toBe(200)
    } finally {
      for (const s of sockets) s.destroy()
    }
    await waitFor(() => node.rpcServer!.connections.count === 0, 'every connection closed')
  })
})
