/**
 * Every error the RPC gives, as the OpenRPC document lists it: the JSON-RPC
 * errors of the envelope, and each typed code (`error.data.code`) with the
 * JSON-RPC code the one mapping (../errors.ts) gives it. A new ErrorCode fails
 * to compile until it has a line here.
 */
import Type from 'typebox'
import { ChorusError, ErrorCode } from '../../protocol/errors.ts'
import { RpcCode, toRpcError } from '../errors.ts'

/** `data.code` of a bad param with no more specific code (a wrong type, a missing or unknown param). */
export const INVALID_PARAMS = 'INVALID_PARAMS'

/** A request, batch or answer over its size limit: TOO_LARGE, but as -32600 (a tx too large is -32000). */
export const RESPONSE_TOO_LARGE = 'RESPONSE_TOO_LARGE'

/** What each typed code means, to a client. */
const MEANING: Record<ErrorCode, string> = {
  MALFORMED: 'bytes or hex that do not decode (a tx, an id, a hash)',
  NON_CANONICAL: 'a tx not in its one canonical encoding',
  UNKNOWN_VERSION: 'a tx of an unknown encoding version',
  UNKNOWN_KIND: 'a tx of an unknown kind',
  TOO_LARGE: 'a tx over maxTxBytes (a request, batch or answer over its limit is RESPONSE_TOO_LARGE)',
  BAD_SIGNATURE: 'the tx signature does not verify',
  WRONG_CHAIN: 'the tx is for another chain id',
  BAD_NONCE: 'the tx nonce is not the next one (data.expected says which is)',
  FEE_TOO_LOW: 'the fee is below minFeePerByte × size (data.minFee says what is enough)',
  INSUFFICIENT_FUNDS: 'the balance cannot pay the fee and amount',
  INSUFFICIENT_STAKE: 'unstaking more than is staked',
  INVALID_AMOUNT: 'an amount of zero, or one out of range',
  INVALID_FIELD: 'a profile or post field too long or not allowed',
  INVALID_USERNAME: 'a username not matching ^[a-z0-9_]{3,20}$',
  USERNAME_TAKEN: 'another account has that username',
  NOT_FOUND: 'no such post, block or @username (or a post a tx refers to)',
  SELF_FOLLOW: 'an account cannot follow itself',
  ALREADY_FOLLOWING: 'already following that account',
  NOT_FOLLOWING: 'not following that account',
  ALREADY_LIKED: 'already liking that post',
  NOT_LIKED: 'not liking that post',
  ALREADY_KNOWN: 'the tx is already pending or in a block',
  MEMPOOL_FULL: 'the mempool is full and the tx pays too little per byte to replace another',
  BAD_BLOCK: 'a block that breaks the rules (not an RPC answer)',
  STALE: 'a consensus message for a past height (not an RPC answer)',
  FUTURE: 'a consensus message for a future height (not an RPC answer)',
  NOT_VALIDATOR: 'a consensus message from a non-validator (not an RPC answer)',
  WRONG_PROPOSER: 'a proposal from the wrong proposer (not an RPC answer)',
  INVALID_ADDRESS: 'not a bech32m address of this chain, nor @username',
  INVALID_CURSOR: 'a cursor that no page of this list returned',
  TIMEOUT: 'the call ran out of time (a submitted tx may still be included)',
  UNAVAILABLE: 'the node is stopping, or cannot be reached',
  RATE_LIMITED: 'this client or its address is over its share of the node\'s work: retry after a moment',
  BUSY: 'the node is at its limit of work: retry after a moment',
  FORBIDDEN: 'a Host not on the node\'s allowlist (HTTP 403)'
}

/** The JSON-RPC code a typed code is answered with (the one mapping, ../errors.ts). */
export const rpcCodeOf = (code: ErrorCode): number => toRpcError(new ChorusError(code, '')).code

export interface ErrorDefinition { code: number, message: string, data?: { code: string } }

/** Every error, by name: the envelope's, INVALID_PARAMS, then each typed code. */
export function errorDefinitions (): Record<string, ErrorDefinition> {
  const out: Record<string, ErrorDefinition> = {
    PARSE_ERROR: { code: RpcCode.PARSE_ERROR, message: 'the body is not JSON' },
    INVALID_REQUEST: { code: RpcCode.INVALID_REQUEST, message: 'not a valid JSON-RPC request, or an empty or oversized batch' },
    METHOD_NOT_FOUND: { code: RpcCode.METHOD_NOT_FOUND, message: 'no such method' },
    INTERNAL: { code: RpcCode.INTERNAL, message: 'internal error' },
    [INVALID_PARAMS]: { code: RpcCode.INVALID_PARAMS, message: 'a param of the wrong type or out of range, missing, or unknown', data: { code: INVALID_PARAMS } },
    [RESPONSE_TOO_LARGE]: { code: RpcCode.INVALID_REQUEST, message: 'a batch over 100 calls, an answer past the response limit, or a subscription past 100 a connection', data: { code: ErrorCode.TOO_LARGE } }
  }
  for (const code of Object.values(ErrorCode)) out[code] = { code: rpcCodeOf(code), message: MEANING[code], data: { code } }
  return out
}

/** `error` of a JSON-RPC answer. */
export const RpcErrorSchema = Type.Object({
  code: Type.Integer(),
  message: Type.String(),
  data: Type.Optional(Type.Object({
    code: Type.Optional(Type.Union([...Object.values(ErrorCode), INVALID_PARAMS].map((c) => Type.Literal(c)))),
    expected: Type.Optional(Type.Union([Type.String(), Type.Integer()])),
    minFee: Type.Optional(Type.String())
  }))
})
