/**
 * Every failure a caller can act on has a code from this table. The same codes
 * come out of the codec, the mempool, block execution and the RPC (`error.data.code`),
 * so an app handles `USERNAME_TAKEN` once, wherever it was detected.
 */
export const ErrorCode = {
  // codec: bytes that are not a canonical encoding of a known thing
  MALFORMED: 'MALFORMED',
  NON_CANONICAL: 'NON_CANONICAL',
  UNKNOWN_VERSION: 'UNKNOWN_VERSION',
  UNKNOWN_KIND: 'UNKNOWN_KIND',
  TOO_LARGE: 'TOO_LARGE',
  // transaction validity
  BAD_SIGNATURE: 'BAD_SIGNATURE',
  WRONG_CHAIN: 'WRONG_CHAIN',
  BAD_NONCE: 'BAD_NONCE',
  FEE_TOO_LOW: 'FEE_TOO_LOW',
  INSUFFICIENT_FUNDS: 'INSUFFICIENT_FUNDS',
  INSUFFICIENT_STAKE: 'INSUFFICIENT_STAKE',
  INVALID_AMOUNT: 'INVALID_AMOUNT',
  INVALID_FIELD: 'INVALID_FIELD',
  INVALID_USERNAME: 'INVALID_USERNAME',
  USERNAME_TAKEN: 'USERNAME_TAKEN',
  NOT_FOUND: 'NOT_FOUND',
  SELF_FOLLOW: 'SELF_FOLLOW',
  ALREADY_FOLLOWING: 'ALREADY_FOLLOWING',
  NOT_FOLLOWING: 'NOT_FOLLOWING',
  ALREADY_LIKED: 'ALREADY_LIKED',
  NOT_LIKED: 'NOT_LIKED',
  // mempool admission
  ALREADY_KNOWN: 'ALREADY_KNOWN',
  MEMPOOL_FULL: 'MEMPOOL_FULL',
  // blocks
  BAD_BLOCK: 'BAD_BLOCK',
  // gossip and sync: messages that are not for now, or not from whom they claim
  STALE: 'STALE',
  FUTURE: 'FUTURE',
  NOT_VALIDATOR: 'NOT_VALIDATOR',
  WRONG_PROPOSER: 'WRONG_PROPOSER',
  // node and RPC
  INVALID_ADDRESS: 'INVALID_ADDRESS',
  INVALID_CURSOR: 'INVALID_CURSOR',
  TIMEOUT: 'TIMEOUT',
  UNAVAILABLE: 'UNAVAILABLE',
  /** A caller (connection or IP) is over its share of the node's RPC work: slow down. */
  RATE_LIMITED: 'RATE_LIMITED',
  /** The node as a whole is at its limit of RPC work: retry shortly. */
  BUSY: 'BUSY',
  /** A request the node's policy refuses (a Host not on the allowlist). */
  FORBIDDEN: 'FORBIDDEN'
} as const

export type ErrorCode = typeof ErrorCode[keyof typeof ErrorCode]

/** Why a block was refused; carried as `detail` on a BAD_BLOCK error. */
export type BlockFault =
  | 'height' | 'chain' | 'version' | 'prevHash' | 'time' | 'proposer' | 'validators'
  | 'txRoot' | 'stateRoot' | 'lastCommit' | 'commit' | 'tooManyTxs' | 'tooLarge' | 'badTx' | 'duplicateTx'

/** A typed failure. `detail` is for people; `code` is for programs. */
export class ChorusError extends Error {
  override readonly name = 'ChorusError'
  constructor (
    readonly code: ErrorCode,
    readonly detail: string,
    readonly meta?: Record<string, unknown>
  ) {
    super(`${code}: ${detail}`)
  }
}

export function fail (code: ErrorCode, detail: string, meta?: Record<string, unknown>): never {
  throw new ChorusError(code, detail, meta)
}

export function isChorusError (e: unknown): e is ChorusError {
  return e instanceof ChorusError
}
