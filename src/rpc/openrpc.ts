/**
 * The OpenRPC document, generated from the method table (methods.ts), the
 * WebSocket methods (schema/websocket.ts) and the schemas they use, so it can
 * never drift from what the RPC checks and answers. OpenRPC 1.2.6: the version
 * the @open-rpc tools (test-coverage, schema-utils, playground) accept. Schemas
 * named in components.schemas are referred to by `$ref` wherever they occur.
 */
import type { TSchema } from 'typebox'
import type { Method } from './methods.ts'
import type { Param } from './params.ts'
import { errorDefinitions, INVALID_PARAMS, RESPONSE_TOO_LARGE, RpcErrorSchema } from './schema/errors.ts'
import { exampleWorld } from './schema/examples.ts'
import { type MethodExample, methodExamples, subscriptionExamples } from './schema/method-examples.ts'
import { NAMED_SCHEMAS } from '../api/results.ts'
import { NOTIFICATIONS, wsMethods } from './schema/websocket.ts'

export const OPENRPC_VERSION = '1.2.6'

export const HTTP_SERVER = { name: 'HTTP', url: 'http://127.0.0.1:26657', summary: 'a node\'s JSON-RPC over HTTP POST / (the default --rpc-host and --rpc-port)' }
export const WS_SERVER = { name: 'WebSocket', url: 'ws://127.0.0.1:26657/ws', summary: 'the same methods, plus subscribe and unsubscribe' }

/** Errors any call may get: a bad param, its time run out, the node's load, an answer past the response limit. */
const COMMON_ERRORS = [INVALID_PARAMS, 'TIMEOUT', 'RATE_LIMITED', 'BUSY', RESPONSE_TOO_LARGE]

const DESCRIPTION = 'JSON-RPC 2.0 over HTTP POST / (batches of up to 100 calls) and over the WebSocket at /ws, which also serves subscribe and unsubscribe. ' +
  'Amounts and nonces are decimal strings, bytes are hex, addresses bech32m; wherever an address is taken, @username works too. ' +
  'Params may be positional or named; an optional param may be left out or given as null. ' +
  'Lists take an opaque cursor and a limit (1..100, default 20) and return {items, cursor}; cursor is null on the last page. ' +
  'A refused call carries its typed code in error.data.code (components.errors lists each with its JSON-RPC code). ' +
  'This document is served at GET /openrpc.json, GET / and by the method rpc.discover.'

type Json = null | boolean | number | string | Json[] | { [k: string]: Json }

export function openRpcDocument (methods: Record<string, Method>, version: string): Record<string, unknown> {
  const world = exampleWorld()
  const examples = methodExamples(world)
  const wsExamples = subscriptionExamples(world)
  const named = { ...NAMED_SCHEMAS, RpcError: RpcErrorSchema }
  const refs = new Map(Object.entries(named).map(([name, s]) => [JSON.stringify(s), name]))
  const ref = (s: TSchema): Json => withRefs(s, refs)
  const errorRefs = (codes: readonly string[]) => [...new Set([...codes, ...COMMON_ERRORS])].map((c) => ({ $ref: `#/components/errors/${c}` }))
  const params = (ps: readonly Param[]) => ps.map((p) => ({
    name: p.name,
    ...(p.description === undefined ? {} : { description: p.description }),
    required: p.required,
    schema: p.required ? ref(p.schema) : { anyOf: [ref(p.schema), { type: 'null' }] }
  }))
  const example = (ps: readonly Param[], e: MethodExample) => ({
    name: e.name,
    params: e.params.map((value, i) => ({ name: ps[i]!.name, value })),
    result: { name: 'result', value: e.result }
  })
  const http = Object.entries(methods).map(([name, m]) => ({
    name,
    summary: m.summary,
    paramStructure: 'either',
    params: params(m.params),
    result: { name: 'result', schema: ref(m.result) },
    errors: errorRefs(m.errors),
    examples: examples[name] === undefined ? [] : [example(m.params, examples[name])] // the schema test requires one
  }))
  const ws = Object.entries(wsMethods).map(([name, m]) => ({
    name,
    summary: m.summary,
    description: m.description,
    servers: [WS_SERVER],
    paramStructure: 'by-position',
    params: params(m.params),
    result: { name: name === 'subscribe' ? 'subscription' : 'active', schema: ref(m.result) },
    errors: errorRefs(m.errors),
    examples: (wsExamples[name] ?? []).map((e) => example(m.params, e)),
    ...(name === 'subscribe' ? { 'x-notifications': NOTIFICATIONS.map((n) => ({ method: n.method, schema: ref(n.schema) })) } : {})
  }))
  return {
    openrpc: OPENRPC_VERSION,
    info: { title: 'Chorus JSON-RPC', version, description: DESCRIPTION, license: { name: 'MIT' } },
    servers: [HTTP_SERVER, WS_SERVER],
    methods: [...http, ...ws],
    components: {
      schemas: Object.fromEntries(Object.entries(named).map(([name, s]) => [name, withRefs(s, refs, true)])),
      errors: errorDefinitions()
    }
  }
}

/**
 * A plain JSON copy of `schema` in which every subschema equal to a named one is
 * `{$ref: "#/components/schemas/Name"}` (the root too, unless `keepRoot`).
 */
function withRefs (schema: unknown, refs: Map<string, string>, keepRoot = false): Json {
  const walk = (node: unknown, root: boolean): Json => {
    if (Array.isArray(node)) return node.map((n) => walk(n, false))
    if (typeof node !== 'object' || node === null) return node as Json
    if (!root) {
      const name = refs.get(JSON.stringify(node))
      if (name !== undefined) return { $ref: `#/components/schemas/${name}` }
    }
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v, false)]))
  }
  return walk(schema, keepRoot)
}
