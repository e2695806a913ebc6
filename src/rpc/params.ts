/**
 * Reading JSON-RPC params. Each method declares its params (name, JSON Schema,
 * required or not, in positional order); `checkParams` maps positional params
 * onto names and validates them all with one compiled TypeBox validator, built
 * once per method from those schemas, the same ones the OpenRPC document shows.
 * A bad param is -32602 with a message naming it, and `data.code`
 * INVALID_PARAMS, or the param's own code (MALFORMED for bad hex, INVALID_ADDRESS,
 * INVALID_CURSOR) when it is a string of the wrong form. What a schema cannot say
 * (a bech32m checksum, an @username's owner) is checked by the small functions below.
 */
import Type, { type TSchema } from 'typebox'
import { Compile, type Validator } from 'typebox/compile'
import { decodeAddress } from '../crypto/address.ts'
import { parseHex } from '../crypto/bytes.ts'
import { ChorusError, ErrorCode } from '../protocol/errors.ts'
import type { PublicKey } from '../protocol/types.ts'
import type { RpcContext } from './context.ts'
import { invalidParams } from './errors.ts'
import { INVALID_PARAMS } from './schema/errors.ts'

export type Params = Record<string, unknown>

/** One param of a method. An optional param may be omitted, or given as null (which means omitted). */
export interface Param {
  name: string
  schema: TSchema
  required: boolean
  /** `data.code` for a string that does not match `schema` (default INVALID_PARAMS). */
  code?: ErrorCode
  description?: string
}

export const param = (name: string, schema: TSchema, opts: { code?: ErrorCode, description?: string } = {}): Param =>
  ({ name, schema, required: true, ...opts })
export const optional = (name: string, schema: TSchema, opts: { code?: ErrorCode, description?: string } = {}): Param =>
  ({ name, schema, required: false, ...opts })

/** The params as one closed object schema: what a named call must match. */
export function paramsSchema (params: readonly Param[]): TSchema {
  return Type.Object(Object.fromEntries(params.map((p) => [p.name, p.required ? p.schema : Type.Optional(p.schema)])), { additionalProperties: false })
}

const validators = new WeakMap<readonly Param[], Validator>()

function validatorOf (params: readonly Param[]): Validator {
  let v = validators.get(params)
  if (v === undefined) {
    v = Compile(paramsSchema(params))
    validators.set(params, v)
  }
  return v
}

/** Maps positional params onto names (named ones pass through), drops optional nulls, and validates them against `params`. */
export function checkParams (params: readonly Param[], raw: unknown): Params {
  let named: Params
  if (raw === undefined || raw === null) named = {}
  else if (Array.isArray(raw)) {
    if (raw.length > params.length) throw invalidParams(`expected at most ${params.length} params`)
    named = Object.fromEntries(raw.map((v, i) => [params[i]!.name, v]))
  } else if (typeof raw === 'object') named = { ...raw as Params }
  else throw invalidParams('params must be an array or an object')
  for (const k of Object.keys(named)) {
    const spec = params.find((p) => p.name === k)
    if (spec === undefined) throw invalidParams(`unknown param ${k.slice(0, 64)}`)
    if (named[k] === null && !spec.required) delete named[k]
  }
  const v = validatorOf(params)
  if (!v.Check(named)) throw explain(params, v, named)
  return named
}

/** The one error a failed check is answered with: the first param at fault, in words from its schema. */
function explain (params: readonly Param[], v: Validator, value: Params): Error {
  const errors = v.Errors(value)
  const missing = errors.find((e) => e.keyword === 'required' && e.instancePath === '')
  if (missing !== undefined) {
    const names = (missing.params as { requiredProperties?: string[] }).requiredProperties ?? []
    return invalidParams(`missing param ${names[0] ?? ''}`.trim())
  }
  const first = errors[0]
  const name = first?.instancePath.split('/')[1]
  const spec = params.find((p) => p.name === name)
  if (first === undefined || spec === undefined) return invalidParams('invalid params')
  // of this param's errors, the one highest in its schema: a union's own, not one of its branches'
  const mine = errors.filter((e) => e.instancePath.split('/')[1] === name)
  const top = mine.reduce((a, b) => (b.schemaPath.length < a.schemaPath.length ? b : a))
  const at = top.instancePath.slice(1).split('/').map(unescapePointer).join('.')
  const described = schemaAt(v.Type(), top.schemaPath)?.description
  const message = typeof described === 'string' ? `${at} must be ${described}` : `${at} ${top.message}`
  const code = spec.code !== undefined && typeof value[spec.name] === 'string' ? spec.code : INVALID_PARAMS
  return invalidParams(message, code)
}

const unescapePointer = (s: string): string => s.replace(/~1/g, '/').replace(/~0/g, '~')

function schemaAt (root: unknown, pointer: string): { description?: unknown } | undefined {
  let node = root as Record<string, unknown> | undefined
  for (const part of pointer.replace(/^#\/?/, '').split('/').filter((s) => s !== '')) {
    if (typeof node !== 'object' || node === null) return undefined
    node = node[unescapePointer(part)] as Record<string, unknown> | undefined
  }
  return node
}

// ---- what a schema cannot say

/** A checked hex param's bytes. */
export function hex (p: Params, name: string): Uint8Array {
  const b = typeof p[name] === 'string' ? parseHex(p[name]) : null
  if (b === null) throw invalidParams(`${name} is not hex`, ErrorCode.MALFORMED)
  return b
}

/** A checked optional string param, or null. */
export const optStr = (p: Params, name: string): string | null => typeof p[name] === 'string' ? p[name] : null

/** A checked page size, or the default. */
export const limit = (p: Params, fallback = 20): number => typeof p.limit === 'number' ? p.limit : fallback

/** An address (bech32m, of this chain) or @username, which must exist. */
export async function account (ctx: RpcContext, p: Params, name: string): Promise<PublicKey> {
  const text = p[name]
  if (typeof text !== 'string') throw invalidParams(`${name} must be a bech32m address or @username`)
  if (text.startsWith('@')) {
    const a = await ctx.queries.addressOfUsername(text.slice(1))
    if (a === null) throw new ChorusError(ErrorCode.NOT_FOUND, `no account has the username ${text}`)
    return a
  }
  const a = decodeAddress(text, ctx.chain.genesis.addressPrefix)
  if (a === null) throw invalidParams(`${name} is not a ${ctx.chain.genesis.addressPrefix} address or @username`, ErrorCode.INVALID_ADDRESS)
  return a
}
