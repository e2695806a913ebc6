/**
 * Live answers against the OpenRPC document (#8, point 4): a validator making
 * 100 ms blocks holds the example world (profiles, a post, a follow, a like, a
 * reply); every example in the document runs against it, by position and by name,
 * and every answer, of every method, is validated with ajv against the document's
 * schema for it (closed objects: a field added, lost or retyped fails). A full node
 * (no validator: its txs stay pending) answers for the mempool. Over the
 * WebSocket, subscribe's examples run and every notification, a drop notice
 * included, matches its schema.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { parseGenesis } from '../../../src/chain/genesis.ts'
import { encodeAddress } from '../../../src/crypto/address.ts'
import { parseHex } from '../../../src/crypto/bytes.ts'
import { generateSecretKey, publicKeyOf } from '../../../src/crypto/keys.ts'
import { silentLogger } from '../../../src/logger.ts'
import { ChorusNode } from '../../../src/node.ts'
import { exampleWorld } from '../../../src/rpc/schema/examples.ts'
import type { WsRpc } from '../../../src/rpc/websocket.ts'
import { type DocumentSchemas, documentSchemas, explain, metaSchemaErrors } from '../../support/openrpc.ts'
import { waitFor } from '../../support/wait.ts'

const w = exampleWorld()
let dir: string
let validator: ChorusNode
let full: ChorusNode
let doc: any
let schemas: DocumentSchemas
/** Methods whose live answer was validated. */
const checked = new Set<string>()

const url = (node: ChorusNode) => `http://127.0.0.1:${node.rpcPort}/`

async function call (node: ChorusNode, method: string, params?: unknown): Promise<{ result?: any, error?: any }> {
  const res = await fetch(url(node), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) })
  return await res.json() as { result?: any, error?: any }
}

/** Calls, expects a result, and validates it against the method's schema in the document. */
async function valid (node: ChorusNode, method: string, params?: unknown): Promise<any> {
  const answer = await call(node, method, params)
  expect(answer.error, `${method} ${JSON.stringify(params)}`).toBeUndefined()
  const v = schemas.result(method)
  expect(v(answer.result), `${method} ${JSON.stringify(params)} answered ${JSON.stringify(answer.result)}: ${explain(v)}`).toBe(true)
  checked.add(method)
  return answer.result
}

const included = async (node: ChorusNode, id: string) => await node.chain.txLocation(parseHex(id)!) !== null

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chorus-openrpc-'))
  const secretKey = generateSecretKey()
  const genesis = parseGenesis({
    chainId: w.chainId, genesisTimeMs: Date.now(), params: { blockTimeMs: 100 },
    accounts: w.accounts,
    validators: [{ address: encodeAddress(publicKeyOf(secretKey)), power: '100' }]
  })
  validator = await ChorusNode.start({
    dataDir: join(dir, 'validator'), genesis, rpc: { host: '127.0.0.1', port: 0 }, p2p: null,
    validator: { secretKey, signStatePath: join(dir, 'sign-state.json'), walPath: join(dir, 'consensus.wal') }
  }, { logger: silentLogger })
  full = await ChorusNode.start({ dataDir: join(dir, 'full'), genesis, rpc: { host: '127.0.0.1', port: 0 }, p2p: null, validator: null }, { logger: silentLogger })
  for (const stage of w.setup) {
    for (const t of stage) await validator.pool.submit(t.tx.bytes)
    await waitFor(async () => (await Promise.all(stage.map(async (t) => await included(validator, t.id)))).every(Boolean), 'the example world in blocks')
  }
  doc = (await call(validator, 'rpc.discover')).result
  schemas = documentSchemas(doc)
})
afterAll(async () => {
  await validator?.stop()
  await full?.stop()
  await rm(dir, { recursive: true, force: true })
})

describe('the OpenRPC document, live', () => {
  it('is served at GET /openrpc.json, GET / and by rpc.discover, and is valid OpenRPC', async () => {
    const byGet = await (await fetch(`${url(validator)}openrpc.json`)).json()
    expect(byGet).toEqual(doc)
    expect(await (await fetch(url(validator))).json()).toEqual(doc)
    expect(metaSchemaErrors(doc)).toEqual([])
  })

  it('runs every example against the example world, by position and by name; every answer matches its schema', async () => {
    const httpMethods = doc.methods.filter((m: { servers?: unknown }) => m.servers === undefined)
    for (const m of httpMethods) {
      for (const ex of m.examples) {
        if (m.name === 'dev_faucet') { // this node was started without the dev key (test/e2e/dev-node.test.ts checks a faucet's answer against this schema)
          expect((await call(validator, m.name, ex.params.map((p: { value: unknown }) => p.value))).error.data.code).toBe('UNAVAILABLE')
          checked.add(m.name)
          continue
        }
        await valid(validator, m.name, ex.params.map((p: { value: unknown }) => p.value))
        if (m.name === 'tx_submit') continue // once only: it is in the mempool now
        await valid(validator, m.name, Object.fromEntries(ex.params.map((p: { name: string, value: unknown }) => [p.name, p.value])))
      }
    }
    // the examples that are exact, are
    const submit = httpMethods.find((m: { name: string }) => m.name === 'tx_submit').examples[0]
    expect((await call(validator, 'tx_get', [w.next.id])).result.tx.id).toBe(submit.result.value.id)
    const post = (await call(validator, 'post_get', [w.post.id])).result
    expect(post).toMatchObject({ id: w.post.id, text: 'Hello, Chorus!', likeCount: 1, replyCount: 1, authorProfile: { username: 'alice' } })
    expect(checked).toEqual(new Set(httpMethods.map((m: { name: string }) => m.name)))
  })

  it('every other shape an answer takes matches its schema too', async () => {
    const alice = w.alice.address()
    await waitFor(async () => await included(validator, w.next.id), 'the submitted example tx in a block')
    const at = (await valid(validator, 'tx_get', [w.post.id]))
    expect(at.status).toBe('included')
    const block = await valid(validator, 'chain_getBlock', [at.height, { full: true }])
    expect(block.txs[at.index]).toMatchObject({ id: w.post.id, kind: 'post', body: { kind: 'post', text: 'Hello, Chorus!' } })
    for (const t of w.setup.flat()) {
      const loc = await validator.chain.txLocation(parseHex(t.id)!)
      expect((await valid(validator, 'chain_getBlock', [loc!.height, { full: true }])).txs.length).toBeGreaterThan(0) // profile, follow, like and reply bodies
    }
    expect((await valid(validator, 'chain_getBlock', [block.hash])).height).toBe(at.height)
    expect((await valid(validator, 'chain_getBlock', [String(at.height)])).hash).toBe(block.hash)
    expect((await valid(validator, 'tx_get', ['11'.repeat(32)]))).toEqual({ status: 'unknown', id: '11'.repeat(32) })
    const first = await valid(validator, 'post_listByAuthor', [alice, null, 1])
    expect(first.cursor).toEqual(expect.any(String))
    const second = await valid(validator, 'post_listByAuthor', { address: alice, cursor: first.cursor, limit: 1 })
    expect(second.items[0].id).not.toBe(first.items[0].id)
    const stranger = encodeAddress(publicKeyOf(generateSecretKey()))
    expect(await valid(validator, 'profile_get', [stranger])).toMatchObject({ username: null, postCount: 0 })
    expect(await valid(validator, 'account_get', [stranger])).toMatchObject({ balance: '0', nonce: '0' })
    expect((await valid(validator, 'feed_get', ['@bob'])).items.length).toBe(2)
    expect((await valid(validator, 'node_getStatus')).validator).toEqual(expect.any(String))
    expect((await valid(full, 'node_getStatus')).validator).toBeNull()
    expect((await valid(validator, 'mempool_status')).count).toBeGreaterThanOrEqual(0)

    // on the full node nothing is included: the world's first stage stays pending
    const pending = w.setup[0]!
    for (const t of pending) await full.pool.submit(t.tx.bytes)
    expect(await valid(full, 'tx_get', [w.post.id])).toMatchObject({ status: 'pending', tx: { id: w.post.id } })
    const status = await valid(full, 'mempool_status')
    expect(status).toEqual({ count: 4, bytes: pending.reduce((n, t) => n + t.tx.bytes.length, 0), feePerByte: { min: '1', median: '1', max: expect.any(String) } })
    const page1 = await valid(full, 'mempool_list', [null, 3])
    const page2 = await valid(full, 'mempool_list', { cursor: page1.cursor, limit: 3 })
    expect(page1.items).toHaveLength(3)
    expect(page2).toMatchObject({ cursor: null })
    expect(new Set([...page1.items, ...page2.items].map((t: { id: string }) => t.id))).toEqual(new Set(pending.map((t) => t.id)))
    expect((await call(full, 'account_get', ['@alice'])).error.data.code).toBe('NOT_FOUND') // no @alice until her profile is in a block
  })

  it('a node refuses to start a faucet on any chain but the dev chain', async () => {
    const genesis = parseGenesis({ chainId: 'chorus-not-dev', genesisTimeMs: Date.now(), accounts: w.accounts, validators: [{ address: w.alice.address(), power: '1' }] })
    const start = ChorusNode.start({ dataDir: join(dir, 'faucet'), genesis, rpc: null, p2p: null, validator: null, faucet: { secretKey: generateSecretKey() } }, { logger: silentLogger })
    await expect(start).rejects.toMatchObject({ code: 'INVALID_FIELD' })
  })

  it('errors carry the JSON-RPC code the document gives their typed code', async () => {
    const bad: Array<[string, unknown[], string]> = [
      ['account_get', ['chorus1nope'], 'INVALID_ADDRESS'],
      ['post_get', ['zz'], 'MALFORMED'],
      ['post_get', ['00'.repeat(32)], 'NOT_FOUND'],
      ['post_listReplies', [w.post.id, '!!'], 'INVALID_CURSOR'],
      ['post_listReplies', [w.post.id, 'AAAA'], 'INVALID_CURSOR'],
      ['mempool_list', ['AAAA'], 'INVALID_CURSOR'],
      ['post_listRecent', ['!!'], 'INVALID_CURSOR'],
      ['post_get', [w.post.id, 'chorus1nope'], 'INVALID_ADDRESS'],
      ['profile_get', ['@alice', '@nobody_here'], 'NOT_FOUND'],
      ['dev_faucet', ['chorus1nope'], 'INVALID_ADDRESS'],
      ['tx_submit', [w.setup[0]![0]!.hex], 'ALREADY_KNOWN'],
      ['account_get', [], 'INVALID_PARAMS']
    ]
    const error = schemas.named('RpcError')
    for (const [method, params, code] of bad) {
      const answer = await call(validator, method, params)
      expect(answer.error?.data?.code, `${method} ${JSON.stringify(params)}`).toBe(code)
      expect(error(answer.error), explain(error)).toBe(true)
      expect(answer.error.code).toBe(doc.components.errors[code].code)
    }
  })
})

type Message = Record<string, any>

async function socket (node: ChorusNode) {
  const ws = new WebSocket(`ws://127.0.0.1:${node.rpcPort}/ws`)
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
  const inbox: Message[] = []
  ws.on('message', (d) => inbox.push(JSON.parse(d.toString())))
  let id = 0
  const send = async (method: string, params: unknown[]): Promise<Message> => {
    const my = ++id
    ws.send(JSON.stringify({ jsonrpc: '2.0', id: my, method, params }))
    return await waitFor(() => inbox.find((m) => m.id === my), `reply to ${method}`)
  }
  return { ws, inbox, send }
}

describe('the WebSocket methods, live', () => {
  it('subscribe\'s examples run; their events, and unsubscribe\'s answer, match their schemas', async () => {
    const c = await socket(validator)
    const subscribe = doc.methods.find((m: { name: string }) => m.name === 'subscribe')
    const result = schemas.result('subscribe')
    const ids: string[] = []
    for (const ex of subscribe.examples) {
      const reply = await c.send('subscribe', ex.params.map((p: { value: unknown }) => p.value))
      expect(reply.error, ex.name).toBeUndefined()
      expect(result(reply.result), explain(result)).toBe(true)
      ids.push(reply.result)
    }
    const [heads, posts, status] = ids as [string, string, string]
    const events = (sub: string) => c.inbox.filter((m) => m.method === 'subscription' && m.params.subscription === sub)
    await waitFor(() => events(heads).length >= 2 && events(posts).length >= 2 && events(status).length === 1, 'events of every topic')
    const notification = schemas.named('SubscriptionNotification')
    for (const m of c.inbox.filter((m) => m.method !== undefined)) expect(notification(m), `${JSON.stringify(m)}: ${explain(notification)}`).toBe(true)
    expect(events(posts).map((m) => m.params.result.id)).toEqual([w.post.id, w.next.id])
    expect(events(status)[0].params.result).toMatchObject({ txId: w.post.id, status: 'included' })

    const unsubscribe = doc.methods.find((m: { name: string }) => m.name === 'unsubscribe')
    expect(unsubscribe.examples[0].params[0].value).toMatch(/^0x/)
    const gone = await c.send('unsubscribe', [heads])
    expect(schemas.result('unsubscribe')(gone.result)).toBe(true)
    expect(gone.result).toBe(true)
    c.ws.close()
  })

  it('a dropped connection\'s notices match SubscriptionDropped', async () => {
    const c = await socket(validator)
    const posts = (await c.send('subscribe', ['posts', { fromEventId: '1:0' }])).result
    const waiting = (await c.send('subscribe', ['txStatus', { id: '22'.repeat(32) }])).result
    await waitFor(() => c.inbox.filter((m) => m.params?.subscription === posts).length >= 2, 'the replayed posts')
    // drop it as the outbox does past a bound (reading it out of the node, to not fill 4 MiB)
    const ws = validator.rpcServer!.ws as unknown as { connections: Set<{ caller: { id: number }, subs: Map<string, unknown> }>, drop: (conn: unknown, reason: string) => void }
    const conn = [...ws.connections].find((k) => k.subs.has(posts) && k.subs.has(waiting))
    ws.drop.call(validator.rpcServer!.ws as WsRpc, conn, 'SLOW_READER')
    const dropped = await waitFor(() => { const d = c.inbox.filter((m) => m.method === 'subscriptionDropped'); return d.length === 2 ? d : undefined }, 'two drop notices')
    const v = schemas.named('SubscriptionDropped')
    for (const m of dropped) expect(v(m), `${JSON.stringify(m)}: ${explain(v)}`).toBe(true)
    expect(dropped.find((m) => m.params.subscription === posts)!.params).toMatchObject({ reason: 'SLOW_READER', lastEventId: expect.stringMatching(/^\d+:\d+$/) })
    expect(dropped.find((m) => m.params.subscription === waiting)!.params).toMatchObject({ lastEventId: null, fromEventId: null })
  })
})
