/**
 * One schema for the API (#8, point 4): the OpenRPC document generated from the
 * method table is valid OpenRPC, complete (every method with params, result and an
 * example; every error code; the WebSocket methods and their notifications), its
 * examples match their schemas, and params are checked against the same schemas,
 * with the codes the RPC has always given. (Live answers: openrpc-live.test.ts.)
 */
import { describe, expect, it } from 'vitest'
import { ErrorCode } from '../../../src/protocol/errors.ts'
import { methods } from '../../../src/rpc/methods.ts'
import { OPENRPC_VERSION, openRpcDocument } from '../../../src/rpc/openrpc.ts'
import { checkParams } from '../../../src/rpc/params.ts'
import { RpcFailure } from '../../../src/rpc/errors.ts'
import { rpcCodeOf } from '../../../src/rpc/schema/errors.ts'
import { exampleWorld } from '../../../src/rpc/schema/examples.ts'
import { NAMED_SCHEMAS, TOPIC_NAMES } from '../../../src/api/results.ts'
import { wsMethods } from '../../../src/rpc/schema/websocket.ts'
import type { RpcContext } from '../../../src/rpc/context.ts'
import { TOPICS, parseSubscription } from '../../../src/rpc/subscriptions.ts'
import { compileStrict, documentSchemas, explain, metaSchemaErrors } from '../../support/openrpc.ts'

const doc = openRpcDocument(methods, '0.0.0-test') as any
const schemas = documentSchemas(doc)

describe('the OpenRPC document', () => {
  it('is valid against the OpenRPC meta-schema, in a version the @open-rpc tools accept, with servers', () => {
    expect(metaSchemaErrors(doc)).toEqual([])
    expect(doc.openrpc).toBe(OPENRPC_VERSION)
    expect(OPENRPC_VERSION).toBe('1.2.6')
    expect(doc.servers.map((s: { url: string }) => s.url)).toEqual(['http://127.0.0.1:26657', 'ws://127.0.0.1:26657/ws'])
    // a copy that is not a document is refused: the check has teeth
    expect(metaSchemaErrors({ ...doc, openrpc: '9.9.9' })).not.toEqual([])
    expect(metaSchemaErrors({ ...doc, methods: [{ ...doc.methods[0], params: [{ name: 'x' }] }] })).not.toEqual([])
  })

  it('lists every method, HTTP and WebSocket, each with its params, result schema and an example', () => {
    expect(doc.methods.map((m: { name: string }) => m.name)).toEqual([...Object.keys(methods), ...Object.keys(wsMethods)])
    for (const m of doc.methods) {
      expect(m.result.schema, m.name).not.toEqual({})
      for (const p of m.params) expect(p.schema, `${m.name}(${p.name})`).not.toEqual({})
      expect(m.examples.length, m.name).toBeGreaterThan(0)
    }
    for (const name of ['mempool_status', 'mempool_list', 'subscribe', 'unsubscribe']) expect(doc.methods.some((m: { name: string }) => m.name === name)).toBe(true)
    const subscribe = doc.methods.find((m: { name: string }) => m.name === 'subscribe')
    expect(subscribe.servers).toEqual([doc.servers[1]])
    expect(subscribe['x-notifications'].map((n: { method: string }) => n.method)).toEqual(['subscription', 'subscriptionDropped'])
    expect(TOPIC_NAMES).toEqual(TOPICS)
  })

  it('every schema is strict JSON Schema: no unknown keyword, every pattern a regex', () => {
    for (const [name, s] of Object.entries(NAMED_SCHEMAS)) expect(() => compileStrict(s), name).not.toThrow()
    for (const [name, m] of Object.entries({ ...methods, ...wsMethods })) {
      expect(() => compileStrict(m.result), name).not.toThrow()
      for (const p of m.params) expect(() => compileStrict(p.schema), `${name}(${p.name})`).not.toThrow()
    }
  })

  it('every example\'s params and result match their schemas', () => {
    for (const m of doc.methods) {
      for (const ex of m.examples) {
        for (const p of ex.params) {
          const v = schemas.param(m.name, p.name)
          expect(v(p.value), `${m.name} example "${ex.name}" param ${p.name}: ${explain(v)}`).toBe(true)
        }
        const v = schemas.result(m.name)
        expect(v(ex.result.value), `${m.name} example "${ex.name}" result: ${explain(v)}`).toBe(true)
      }
    }
  })

  it('a result with a field its schema does not name, or without one it requires, fails its schema', () => {
    const post = doc.methods.find((m: { name: string }) => m.name === 'post_get').examples[0].result.value
    const v = schemas.result('post_get')
    expect(v(post)).toBe(true)
    expect(v({ ...post, extra: 1 })).toBe(false)
    const { likeCount: _, ...missing } = post
    expect(v(missing)).toBe(false)
    expect(v({ ...post, authorProfile: { ...post.authorProfile, bio: '' } })).toBe(false)
    expect(v({ ...post, height: '2' })).toBe(false)
  })

  it('defines every error code with the JSON-RPC code the RPC gives it', () => {
    for (const code of Object.values(ErrorCode)) {
      expect(doc.components.errors[code], code).toEqual({ code: rpcCodeOf(code), message: expect.any(String), data: { code } })
    }
    expect(doc.components.errors.INVALID_ADDRESS.code).toBe(-32602)
    expect(doc.components.errors.BAD_NONCE.code).toBe(-32000)
    expect(doc.components.errors.NOT_FOUND.code).toBe(-32004)
    expect(doc.components.errors.RATE_LIMITED.code).toBe(-32002)
    for (const [name, code] of [['PARSE_ERROR', -32700], ['INVALID_REQUEST', -32600], ['METHOD_NOT_FOUND', -32601], ['INVALID_PARAMS', -32602], ['INTERNAL', -32603], ['RESPONSE_TOO_LARGE', -32600]] as const) {
      expect(doc.components.errors[name].code).toBe(code)
    }
    // every method's errors are defined
    for (const m of doc.methods) for (const e of m.errors) expect(doc.components.errors[e.$ref.split('/').pop()], `${m.name} ${e.$ref}`).toBeDefined()
  })

  it('its examples are drawn from a world that can be made: the example txs are signed for the example chain', () => {
    const w = exampleWorld()
    expect(w.setup.flat().every((t) => t.tx.unsigned.chainId === w.chainId)).toBe(true)
    const submit = doc.methods.find((m: { name: string }) => m.name === 'tx_submit').examples[0]
    expect(submit.params[0].value).toBe(w.next.hex)
    expect(submit.result.value).toEqual({ id: w.next.id })
  })
})

/** The -32602 error a call's params get, or null when they pass. */
function paramError (method: string, params: unknown): { message: string, code: string } | null {
  try {
    checkParams(methods[method]!.params, params)
    return null
  } catch (e) {
    expect(e).toBeInstanceOf(RpcFailure)
    const rpc = (e as RpcFailure).rpc
    expect(rpc.code).toBe(-32602)
    return { message: rpc.message, code: rpc.data!.code! }
  }
}

describe('params checked against the schema', () => {
  const w = exampleWorld()
  const alice = w.alice.address()
  const id = w.post.id

  it('takes positional and named params, an optional one omitted or null', () => {
    expect(checkParams(methods.post_listByAuthor!.params, [alice, null, 5])).toEqual({ address: alice, limit: 5 })
    expect(checkParams(methods.post_listByAuthor!.params, { address: '@alice', cursor: null })).toEqual({ address: '@alice' })
    expect(checkParams(methods.chain_getHead!.params, undefined)).toEqual({})
    expect(checkParams(methods.chain_getHead!.params, null)).toEqual({})
    expect(checkParams(methods.chain_getBlock!.params, ['12'])).toEqual({ heightOrHash: '12' })
    expect(checkParams(methods.chain_getBlock!.params, [`0x${id.toUpperCase()}`, { full: true }])).toMatchObject({ options: { full: true } })
    expect(checkParams(methods.tx_submit!.params, [w.next.hex, { wait: 'commit' }])).toMatchObject({ options: { wait: 'commit' } })
  })

  it('names the param at fault, with the codes the RPC has always given', () => {
    expect(paramError('account_get', ['not-an-address'])).toEqual({ code: 'INVALID_ADDRESS', message: 'address must be a bech32m address or @username' })
    expect(paramError('account_get', [7])).toEqual({ code: 'INVALID_PARAMS', message: 'address must be a bech32m address or @username' })
    expect(paramError('account_get', [])).toEqual({ code: 'INVALID_PARAMS', message: 'missing param address' })
    expect(paramError('account_get', [null])).toMatchObject({ code: 'INVALID_PARAMS' })
    expect(paramError('account_get', [1, 2, 3])).toEqual({ code: 'INVALID_PARAMS', message: 'expected at most 1 params' })
    expect(paramError('account_get', 5)).toEqual({ code: 'INVALID_PARAMS', message: 'params must be an array or an object' })
    expect(paramError('post_get', ['zz'])).toEqual({ code: 'MALFORMED', message: 'id must be 32 bytes in hex (64 hex digits)' })
    expect(paramError('post_get', ['00'.repeat(31)])).toMatchObject({ code: 'MALFORMED' })
    expect(paramError('post_get', [{}])).toMatchObject({ code: 'INVALID_PARAMS' })
    expect(paramError('tx_submit', ['c0ffe'])).toMatchObject({ code: 'MALFORMED', message: 'signedTxHex must be bytes in hex (an even number of hex digits)' })
    expect(paramError('post_listByAuthor', { address: alice, cursor: '!!' })).toMatchObject({ code: 'INVALID_CURSOR' })
    expect(paramError('post_listByAuthor', { address: alice, cursor: 5 })).toMatchObject({ code: 'INVALID_PARAMS' })
    for (const limit of [0, 101, 1.5, '5', true]) {
      expect(paramError('post_listByAuthor', { address: alice, limit }), String(limit)).toEqual({ code: 'INVALID_PARAMS', message: 'limit must be an integer in 1..100' })
    }
    expect(paramError('post_listByAuthor', { address: alice, bogus: 1 })).toEqual({ code: 'INVALID_PARAMS', message: 'unknown param bogus' })
    expect(paramError('chain_getBlock', [-1])).toEqual({ code: 'INVALID_PARAMS', message: 'heightOrHash must be a height (a number, or digits in a string) or a block hash in hex' })
    expect(paramError('chain_getBlock', ['abc'])).toMatchObject({ code: 'MALFORMED' })
    expect(paramError('chain_getBlock', ['1234567890123456'])).toMatchObject({ code: 'MALFORMED' })
    expect(paramError('chain_getBlock', [1, { full: 'yes' }])).toEqual({ code: 'INVALID_PARAMS', message: 'options.full must be true or false' })
    expect(paramError('tx_submit', [w.next.hex, { wait: 'later' }])).toEqual({ code: 'INVALID_PARAMS', message: 'options.wait must be "commit" or "mempool"' })
    expect(paramError('tx_submit', [w.next.hex, 5])).toEqual({ code: 'INVALID_PARAMS', message: 'options must be an object {wait?: "commit" | "mempool"}' })
    expect(paramError('mempool_list', [null, 500])).toMatchObject({ code: 'INVALID_PARAMS', message: 'limit must be an integer in 1..100' })
  })
})

describe('subscribe\'s params in the document', () => {
  // subscriptions.ts reads them by hand; the document's schemas must say what it accepts
  const ctx = { chain: { genesis: { addressPrefix: 'chorus' } }, queries: { addressOfUsername: async () => new Uint8Array(32) } } as unknown as RpcContext
  const topic = schemas.param('subscribe', 'topic')
  const filter = schemas.param('subscribe', 'filter')
  const w = exampleWorld()
  const cases: Array<[unknown, unknown]> = [
    ['newHeads', undefined], ['newHeads', {}], ['newHeads', null], ['newHeads', { fromEventId: '12:0' }], ['newHeads', { fromEventId: '12' }],
    ['posts', {}], ['posts', { author: w.alice.address() }], ['posts', { followedBy: '@bob', fromEventId: '1:0' }], ['posts', { author: 'chorus1nope' }],
    ['posts', { author: 7 }], ['posts', 'all'], ['posts', { fromEventId: 5 }],
    ['txStatus', { id: w.post.id }], ['txStatus', { id: w.post.id.toUpperCase() }], ['txStatus', { id: 5 }],
    ['nope', {}], [7, {}], [undefined, {}]
  ]

  it('accepts what the node accepts, and refuses what it refuses', async () => {
    for (const [t, f] of cases) {
      const node = await parseSubscription(ctx, t, f).then(() => true, () => false)
      const byDoc = topic(t) && (f === undefined || filter(f)) && (t !== 'txStatus' || (typeof f === 'object' && f !== null && 'id' in f))
      expect(byDoc, `subscribe(${JSON.stringify(t)}, ${JSON.stringify(f)})`).toBe(node)
    }
  })
})
