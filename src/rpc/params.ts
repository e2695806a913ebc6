/** Reading JSON-RPC params: positional or named, each check failing with -32602 and a typed code. */
import { decodeAddress } from '../crypto/address.ts'
import { parseHex } from '../crypto/bytes.ts'
import { ChorusError, ErrorCode } from '../protocol/errors.ts'
import type { PublicKey } from '../protocol/types.ts'
import { MAX_PAGE } from '../state/queries.ts'
import type { RpcContext } from './context.ts'
import { invalidParams } from './errors.ts'

export type Params = Record<string, unknown>

/** Maps positional params onto names; named params pass through. */
export function namedParams (raw: unknown, names: readonly string[]): Params {
  if (raw === undefined || raw === null) return {}
  if (Array.isArray(raw)) {
    if (raw.length > names.length) throw invalidParams(`expected at most ${names.length} params`)
    return Object.fromEntries(raw.map((v, i) => [names[i]!, v]))
  }
  if (typeof raw === 'object') return raw as Params
  throw invalidParams('params must be an array or an object')
}

export function str (p: Params, name: string): string {
  const v = p[name]
  if (typeof v !== 'string') throw invalidParams(`${name} must be a string`)
  return v
}

export function optStr (p: Params, name: string): string | null {
  const v = p[name]
  if (v === undefined || v === null) return null
  if (typeof v !== 'string') throw invalidParams(`${name} must be a string`)
  return v
}

export function hex (p: Params, name: string, length?: number): Uint8Array {
  const b = parseHex(str(p, name))
  if (b === null) throw invalidParams(`${name} is not hex`, ErrorCode.MALFORMED)
  if (length !== undefined && b.length !== length) throw invalidParams(`${name} must be ${length} bytes`, ErrorCode.MALFORMED)
  return b
}

export function limit (p: Params, fallback = 20): number {
  const v = p.limit
  if (v === undefined || v === null) return fallback
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_PAGE) throw invalidParams(`limit must be an integer in 1..${MAX_PAGE}`)
  return v
}

/** An address (bech32m) or @username. */
export async function account (ctx: RpcContext, p: Params, name: string): Promise<PublicKey> {
  const text = str(p, name)
  if (text.startsWith('@')) {
    const a = await ctx.queries.addressOfUsername(text.slice(1))
    if (a === null) throw new ChorusError(ErrorCode.NOT_FOUND, `no account has the username ${text}`)
    return a
  }
  const a = decodeAddress(text, ctx.chain.genesis.addressPrefix)
  if (a === null) throw invalidParams(`${name} is not a ${ctx.chain.genesis.addressPrefix} address or @username`, ErrorCode.INVALID_ADDRESS)
  return a
}
