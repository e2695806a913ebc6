/** Typed readers over a decoded canonical tree; each throws MALFORMED naming the field. */
import { ErrorCode, fail } from '../protocol/errors.ts'
import type { Value } from './canonical.ts'

const MAX_U64 = (1n << 64n) - 1n

export function asArray (v: Value, length: number, what: string): readonly Value[] {
  if (!Array.isArray(v) || v.length !== length) fail(ErrorCode.MALFORMED, `${what}: expected an array of ${length}`)
  return v as readonly Value[]
}

export function asList (v: Value, what: string, max: number): readonly Value[] {
  if (!Array.isArray(v)) fail(ErrorCode.MALFORMED, `${what}: expected an array`)
  if (v.length > max) fail(ErrorCode.TOO_LARGE, `${what}: more than ${max} items`)
  return v as readonly Value[]
}

export function asBytes (v: Value, what: string, length?: number): Uint8Array {
  if (!(v instanceof Uint8Array)) fail(ErrorCode.MALFORMED, `${what}: expected bytes`)
  if (length !== undefined && v.length !== length) fail(ErrorCode.MALFORMED, `${what}: expected ${length} bytes`)
  return v
}

export function asBytesOrNull (v: Value, what: string, length?: number): Uint8Array | null {
  return v === null ? null : asBytes(v, what, length)
}

/** A non-negative safe integer (heights, nonces, rounds, times). */
export function asUint (v: Value, what: string): number {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v
  if (typeof v === 'bigint' && v >= 0n && v <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(v)
  return fail(ErrorCode.MALFORMED, `${what}: expected a non-negative integer`)
}

export function asInt (v: Value, what: string): number {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v
  return fail(ErrorCode.MALFORMED, `${what}: expected an integer`)
}

/** An amount of coins: 0 ≤ n < 2^64, always a bigint. */
export function asAmount (v: Value, what: string): bigint {
  const n = typeof v === 'number' && Number.isSafeInteger(v) ? BigInt(v) : v
  if (typeof n !== 'bigint' || n < 0n || n > MAX_U64) fail(ErrorCode.MALFORMED, `${what}: expected an amount`)
  return n as bigint
}

/** UTF-8 text in Unicode normalization form C, as DESIGN §4 requires. */
export function asString (v: Value, what: string): string {
  if (typeof v !== 'string') fail(ErrorCode.MALFORMED, `${what}: expected text`)
  if (v.normalize('NFC') !== v) fail(ErrorCode.NON_CANONICAL, `${what}: text is not NFC`)
  return v as string
}

export function asStringOrNull (v: Value, what: string): string | null {
  return v === null ? null : asString(v, what)
}
