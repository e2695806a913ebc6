/**
 * The one mapping from typed errors to JSON-RPC errors. Every ErrorCode has a
 * row, so a new code fails to compile until it is placed here.
 */
import { ChorusError, type ErrorCode } from '../protocol/errors.ts'

export const RpcCode = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL: -32603,
  /** The transaction was refused; `data.code` says why. */
  TX_REJECTED: -32000,
  /** The node cannot serve this now (stopping, overloaded). */
  UNAVAILABLE: -32002,
  /** The request ran past its time limit. */
  TIMEOUT: -32003,
  /** What was asked for does not exist. */
  NOT_FOUND: -32004
} as const

const BY_CODE: Record<ErrorCode, number> = {
  MALFORMED: RpcCode.INVALID_PARAMS,
  NON_CANONICAL: RpcCode.INVALID_PARAMS,
  UNKNOWN_VERSION: RpcCode.INVALID_PARAMS,
  UNKNOWN_KIND: RpcCode.INVALID_PARAMS,
  TOO_LARGE: RpcCode.TX_REJECTED,
  BAD_SIGNATURE: RpcCode.TX_REJECTED,
  WRONG_CHAIN: RpcCode.TX_REJECTED,
  BAD_NONCE: RpcCode.TX_REJECTED,
  FEE_TOO_LOW: RpcCode.TX_REJECTED,
  INSUFFICIENT_FUNDS: RpcCode.TX_REJECTED,
  INSUFFICIENT_STAKE: RpcCode.TX_REJECTED,
  INVALID_AMOUNT: RpcCode.TX_REJECTED,
  INVALID_FIELD: RpcCode.TX_REJECTED,
  INVALID_USERNAME: RpcCode.TX_REJECTED,
  USERNAME_TAKEN: RpcCode.TX_REJECTED,
  NOT_FOUND: RpcCode.NOT_FOUND,
  SELF_FOLLOW: RpcCode.TX_REJECTED,
  ALREADY_FOLLOWING: RpcCode.TX_REJECTED,
  NOT_FOLLOWING: RpcCode.TX_REJECTED,
  ALREADY_LIKED: RpcCode.TX_REJECTED,
  NOT_LIKED: RpcCode.TX_REJECTED,
  ALREADY_KNOWN: RpcCode.TX_REJECTED,
  MEMPOOL_FULL: RpcCode.TX_REJECTED,
  BAD_BLOCK: RpcCode.INVALID_PARAMS,
  // gossip verdicts: never an RPC answer, mapped for completeness
  STALE: RpcCode.INVALID_PARAMS,
  FUTURE: RpcCode.INVALID_PARAMS,
  NOT_VALIDATOR: RpcCode.INVALID_PARAMS,
  WRONG_PROPOSER: RpcCode.INVALID_PARAMS,
  INVALID_ADDRESS: RpcCode.INVALID_PARAMS,
  INVALID_CURSOR: RpcCode.INVALID_PARAMS,
  TIMEOUT: RpcCode.TIMEOUT,
  FORBIDDEN: RpcCode.INVALID_REQUEST,
  UNAVAILABLE: RpcCode.UNAVAILABLE,
  RATE_LIMITED: RpcCode.UNAVAILABLE,
  BUSY: RpcCode.UNAVAILABLE
}

export interface RpcError { code: number, message: string, data?: { code?: string, [k: string]: unknown } }

/** A JSON-RPC error raised by the server itself (bad envelope, unknown method, bad params). */
export class RpcFailure extends Error {
  constructor (readonly rpc: RpcError) { super(rpc.message) }
}

export const invalidParams = (message: string, code = 'INVALID_PARAMS'): RpcFailure =>
  new RpcFailure({ code: RpcCode.INVALID_PARAMS, message, data: { code } })

export function toRpcError (e: unknown): RpcError {
  if (e instanceof RpcFailure) return e.rpc
  if (e instanceof ChorusError) {
    return { code: BY_CODE[e.code], message: e.detail, data: { code: e.code, ...jsonSafe(e.meta) } }
  }
  return { code: RpcCode.INTERNAL, message: 'internal error' }
}

function jsonSafe (meta: Record<string, unknown> | undefined): Record<string, unknown> {
  if (meta === undefined) return {}
  return Object.fromEntries(Object.entries(meta).map(([k, v]) => [k, typeof v === 'bigint' ? v.toString() : v]))
}
