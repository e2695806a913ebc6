import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { parseGenesis } from '../../../src/chain/genesis.ts'
import { RpcClient, RpcClientError } from '../../../src/client/rpc-client.ts'
import { Signer, post } from '../../../src/client/transactions.ts'
import { encodeAddress } from '../../../src/crypto/address.ts'
import { generateSecretKey, publicKeyOf } from '../../../src/crypto/keys.ts'
import { silentLogger } from '../../../src/logger.ts'
import { ChorusNode } from '../../../src/node.ts'
import { waitFor } from '../../support/wait.ts'

/** A full node (no validator key): it never commits, so waits time out on purpose. */
let node: ChorusNode
let dir: string
let url: string
const user = Signer.generate()
/** Signs the txs of the batch-timeout test, leaving `user`'s nonces to the others. */
const late = Signer.generate()

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chorus-rpc-'))
  const validator = publicKeyOf(generateSecretKey())
  const genesis = parseGenesis({
    chainId: 'rpc-test', genesisTimeMs: Date.now(),
    accounts: [{ address: user.address(), balance: '1000000' }, { address: late.address(), balance: '1000000' }],
    validators: [{ address: encodeAddress(validator), power: '10' }]
  })
  node = await ChorusNode.start({ dataDir: join(dir, 'data'), genesis, validator: null, rpc: { host: '127.0.0.1', port: 0 }, p2p: null, commitWaitMs: 300 }, { logger: silentLogger })
  url = `http://127.0.0.1:${node.rpcPort}/`
})
afterAll(async () => {
  await node.stop()
  await rm(dir, { recursive: true, force: true })
})

async function raw (body: string, headers: Record<string, string> = {}): Promise<{ status: number, json: any }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body })
  const text = await res.text()
  return { status: res.status, json: text === '' ? null : JSON.parse(text) }
}
const rpc = (method: string, params?: unknown, id: unknown = 1) => raw(JSON.stringify({ jsonrpc: '2.0', id, method, params }))

describe('JSON-RPC server', () => {
  it('answers a call', async () => {
    const { json } = await rpc('chain_getHead', [])
    expect(json).toMatchObject({ jsonrpc: '2.0', id: 1, result: { height: 0 } })
    expect(json.result.hash).toMatch(/^[0-9a-f]{64}$/)
  })

  it('gives the standard errors, and keeps serving', async () => {
    expect((await raw('{"jsonrpc":"2.0",')).json.error.code).toBe(-32700)
    expect((await raw('42')).json.error.code).toBe(-32600)
    expect((await raw('[]')).json.error.code).toBe(-32600)
    expect((await raw(JSON.stringify({ id: 1, method: 'chain_getHead' }))).json.error.code).toBe(-32600)
    expect((await raw(JSON.stringify({ jsonrpc: '2.0', id: { x: 1 }, method: 'chain_getHead' }))).json.error.code).toBe(-32600)
    expect((await rpc('no_such_method')).json.error.code).toBe(-32601)
    expect((await rpc('account_get', ['not-an-address'])).json.error).toMatchObject({ code: -32602, data: { code: 'INVALID_ADDRESS' } })
    expect((await rpc('account_get', [1, 2, 3])).json.error.code).toBe(-32602)
    expect((await rpc('post_get', ['zz'])).json.error).toMatchObject({ code: -32602, data: { code: 'MALFORMED' } })
    expect((await rpc('post_get', ['00'.repeat(32)])).json.error).toMatchObject({ code: -32004, data: { code: 'NOT_FOUND' } })
    expect((await rpc('profile_get', ['@nobody'])).json.error).toMatchObject({ code: -32004, data: { code: 'NOT_FOUND' } })
    expect((await rpc('post_listByAuthor', { address: user.address(), cursor: '!!' })).json.error).toMatchObject({ code: -32602, data: { code: 'INVALID_CURSOR' } })
    expect((await rpc('post_listByAuthor', { address: user.address(), limit: 101 })).json.error.code).toBe(-32602)
    expect((await rpc('post_listByAuthor', { address: user.address(), bogus: 1 })).json.error.code).toBe(-32602)
    expect((await rpc('tx_submit', ['c0ffee'])).json.error).toMatchObject({ code: -32602, data: { code: 'MALFORMED' } })
    expect((await rpc('chain_getHead')).json.result.height).toBe(0)
  })

  it('handles batches and notifications, within the batch bound', async () => {
    const batch = [
      { jsonrpc: '2.0', id: 'a', method: 'chain_getHead' },
      { jsonrpc: '2.0', method: 'chain_getHead' }, // notification: no answer
      { jsonrpc: '2.0', id: 'c', method: 'nope' },
      7
    ]
    const { json } = await raw(JSON.stringify(batch))
    expect(json).toHaveLength(3)
    expect(json[0]).toMatchObject({ id: 'a', result: { height: 0 } })
    expect(json[1]).toMatchObject({ id: 'c', error: { code: -32601 } })
    expect(json[2]).toMatchObject({ id: null, error: { code: -32600 } })
    expect((await raw(JSON.stringify({ jsonrpc: '2.0', method: 'chain_getHead' }))).status).toBe(204)
    const tooMany = Array.from({ length: 101 }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'chain_getHead' }))
    expect((await raw(JSON.stringify(tooMany))).json.error).toMatchObject({ code: -32600, data: { code: 'TOO_LARGE' } })
  })

  it('answers a batch\'s tx_submits TIMEOUT past their shared limit, and their admission still ends (and its cost is given back)', async () => {
    const txs = [0, 1].map((nonce) => late.sign({ chainId: 'rpc-test', nonce, body: post(`late ${nonce}`) }))
    const original = node.chain.verifyTxSignatures.bind(node.chain)
    let open!: () => void
    const gate = new Promise<void>((resolve) => { open = resolve })
    const spy = vi.spyOn(node.chain, 'verifyTxSignatures').mockImplementation(async (t) => { await gate; return await original(t) })
    try {
      // commitWaitMs 300: a plain submit's limit is 1.3 s
      const { json } = await raw(JSON.stringify(txs.map((t, id) => ({ jsonrpc: '2.0', id, method: 'tx_submit', params: [t.hex] }))))
      expect((json as any[]).map((a) => [a.id, a.error?.data?.code])).toEqual([[0, 'TIMEOUT'], [1, 'TIMEOUT']])
      expect(node.rpcServer!.admission.inFlight).toBeGreaterThan(0) // the work goes on
    } finally {
      open()
      spy.mockRestore()
    }
    await waitFor(() => node.rpcServer!.admission.inFlight === 0, 'the batch\'s cost given back')
    for (const t of txs) expect((await rpc('tx_get', [t.id])).json.result.status).toBe('pending')
  })

  it('refuses a body over the limit with 413', async () => {
    const huge = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tx_submit', params: ['00'.repeat(600_000)] })
    const res = await raw(huge)
    expect(res.status).toBe(413)
    expect(res.json.error.data.code).toBe('TOO_LARGE')
    expect((await rpc('chain_getHead')).json.result.height).toBe(0)
  })

  it('bounds a wait for inclusion with TIMEOUT, and the tx stays pending', async () => {
    const tx = user.sign({ chainId: 'rpc-test', nonce: 0, body: post('waiting') })
    const { json } = await rpc('tx_submit', [tx.hex, { wait: 'commit' }])
    expect(json.error).toMatchObject({ code: -32003, data: { code: 'TIMEOUT' } })
    expect((await rpc('tx_get', [tx.id])).json.result.status).toBe('pending')
    expect((await rpc('tx_get', ['11'.repeat(32)])).json.result.status).toBe('unknown')
    expect((await rpc('account_get', [user.address()])).json.result).toMatchObject({ nonce: '0', pendingNonce: '1', balance: '1000000' })
  })

  it('serves the OpenRPC document for every method', async () => {
    const { json } = await rpc('rpc.discover')
    const names = json.result.methods.map((m: { name: string }) => m.name)
    expect((await rpc('validator_getEvidence', [])).json.result).toEqual({ items: [], cursor: null })
    for (const m of ['validator_getEvidence', 'chain_getHead', 'chain_getBlock', 'tx_submit', 'tx_get', 'account_get', 'profile_get', 'post_get', 'post_listByAuthor', 'post_listReplies', 'feed_get', 'graph_getFollowers', 'graph_getFollowing', 'like_list', 'validator_list', 'node_getStatus']) {
      expect(names).toContain(m)
    }
  })

  it('the SDK client surfaces typed errors, and UNAVAILABLE when the node is unreachable', async () => {
    const client = new RpcClient(url)
    await expect(client.getPost('00'.repeat(32))).rejects.toMatchObject({ typedCode: 'NOT_FOUND' })
    const status = await client.getStatus()
    expect(status).toMatchObject({ chainId: 'rpc-test', height: 0, syncing: false, peerCount: 0 })
    const dead = new RpcClient('http://127.0.0.1:1/', { timeoutMs: 2000 })
    const err = await dead.getHead().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(RpcClientError)
    expect((err as RpcClientError).typedCode).toBe('UNAVAILABLE')
  })
})

/** One HTTP request with exactly these headers (fetch will not set Host). */
async function http1 (method: string, headers: Record<string, string>, body = ''): Promise<{ status: number, headers: Record<string, string | string[] | undefined>, text: string }> {
  const { request } = await import('node:http')
  return await new Promise((resolve, reject) => {
    const req = request(url, { method, headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = ''
      res.on('data', (d: Buffer) => { text += d.toString() })
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

describe('browsers', () => {
  const call = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'chain_getHead' })

  it('answers a cross-origin preflight, then the POST, as a browser makes them', async () => {
    const pre = await http1('OPTIONS', { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' })
    expect(pre.status).toBe(204)
    expect(pre.headers['access-control-allow-origin']).toBe('*')
    expect(pre.headers['access-control-allow-methods']).toContain('POST')
    expect(pre.headers['access-control-allow-headers']).toContain('content-type')
    const res = await http1('POST', { origin: 'https://app.example', 'content-type': 'application/json' }, call)
    expect(res.status).toBe(200)
    expect(res.headers['access-control-allow-origin']).toBe('*')
    expect(JSON.parse(res.text).result.height).toBeGreaterThanOrEqual(0)
  })

  it('refuses a Host that is not a loopback name while bound to loopback (DNS rebinding)', async () => {
    const res = await http1('POST', { host: 'rebound.example:26657', 'content-type': 'text/plain' }, call)
    expect(res.status).toBe(403)
    expect(JSON.parse(res.text).error.data.code).toBe('FORBIDDEN')
    for (const host of [`localhost:${node.rpcPort}`, `127.0.0.1:${node.rpcPort}`, `[::1]:${node.rpcPort}`]) {
      expect((await http1('POST', { host, 'content-type': 'application/json' }, call)).status, host).toBe(200)
    }
  })
})

describe('GET /health', () => {
  it('is 200 on a node that is not stuck, and 503 with the reason on a validator whose head stands still', async () => {
    const ok = await fetch(`${url}health`)
    expect(ok.status).toBe(200)
    expect(await ok.json()).toMatchObject({ ok: true })
    expect((await rpc('node_getStatus')).json.result.lastBlockAgeMs).toBeGreaterThanOrEqual(0)

    // a validator holding half the power, with nobody to agree with: its head (genesis, a minute old) never moves
    const [mine, theirs] = [generateSecretKey(), generateSecretKey()]
    const genesis = parseGenesis({
      chainId: 'rpc-stuck', genesisTimeMs: Date.now() - 60_000, accounts: [],
      validators: [mine, theirs].map((k) => ({ address: encodeAddress(publicKeyOf(k)), power: '10' }))
    })
    const home = join(dir, 'stuck')
    const stuck = await ChorusNode.start({
      dataDir: join(home, 'data'), genesis, rpc: { host: '127.0.0.1', port: 0 }, p2p: null,
      validator: { secretKey: mine, signStatePath: join(home, 'sign-state.json'), walPath: join(home, 'consensus.wal') }
    }, { logger: silentLogger })
    try {
      const res = await fetch(`http://127.0.0.1:${stuck.rpcPort}/health`)
      expect(res.status).toBe(503)
      expect(((await res.json()) as { reason: string }).reason).toContain('has not advanced')
    } finally {
      await stuck.stop()
    }
  })
})
