/**
 * Stateless validity of a signed transaction: everything that can be checked
 * without reading state. The mempool, block execution and the RPC submit path
 * all call this one predicate; the signature check is injected so the node
 * uses OpenSSL and a browser uses noble.
 */
import { signingBytes } from '../crypto/hash.ts'
import { utf8, equalBytes } from '../crypto/bytes.ts'
import { ErrorCode, fail } from './errors.ts'
import { type ChainParams, USERNAME_PATTERN } from './params.ts'
import type { SignedTx, TxBody } from './types.ts'

export type VerifyFn = (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array) => boolean

export interface ChainRules {
  chainId: string
  params: ChainParams
}

/** The minimum fee for a signed tx of `size` bytes. */
export const minFee = (params: ChainParams, size: number): bigint => params.minFeePerByte * BigInt(size)

const URL_PATTERN = /^https?:\/\/[^\s]+$/

function checkText (value: string | null, max: number, field: string): void {
  if (value !== null && utf8.byteLength(value) > max) fail(ErrorCode.TOO_LARGE, `${field} is over ${max} bytes`)
}

/** Field rules for each kind. */
export function checkBody (body: TxBody, sender: Uint8Array, params: ChainParams): void {
  switch (body.kind) {
    case 'transfer':
    case 'stake':
    case 'unstake':
      if (body.amount <= 0n) fail(ErrorCode.INVALID_AMOUNT, 'amount must be positive')
      return
    case 'profile':
      if (body.username !== null && body.username !== '' && !USERNAME_PATTERN.test(body.username)) {
        fail(ErrorCode.INVALID_USERNAME, 'a username is 3-20 of [a-z0-9_]')
      }
      checkText(body.displayName, params.maxDisplayNameBytes, 'displayName')
      checkText(body.bio, params.maxBioBytes, 'bio')
      checkText(body.avatarUrl, params.maxUrlBytes, 'avatarUrl')
      if (body.avatarUrl !== null && body.avatarUrl !== '' && !URL_PATTERN.test(body.avatarUrl)) {
        fail(ErrorCode.INVALID_FIELD, 'avatarUrl must be an http(s) URL')
      }
      return
    case 'post':
      checkText(body.text, params.maxPostBytes, 'text')
      if (body.replyTo !== null && body.repostOf !== null) fail(ErrorCode.INVALID_FIELD, 'a post is a reply or a repost, not both')
      if (body.text === '' && body.repostOf === null) fail(ErrorCode.INVALID_FIELD, 'an empty post must be a repost')
      return
    case 'follow':
    case 'unfollow':
      if (equalBytes(body.target, sender)) fail(ErrorCode.SELF_FOLLOW, 'an account cannot follow itself')
      return
    case 'like':
    case 'unlike':
      return
  }
}

/** The verifier for a signature this node already checked (a cache of id ‖ signature said so). */
export const alreadyVerified: VerifyFn = () => true

/** Throws the typed error of the first rule `tx` breaks; the signature is checked last (it is the dearest). */
export function validateTxStateless (tx: SignedTx, rules: ChainRules, verify: VerifyFn): void {
  checkTxRules(tx, rules)
  const c = txSignatureCheck(tx)
  if (!verify(c.publicKey, c.message, c.signature)) failSignature()
}

/** Every stateless rule but the signature, in order: for callers that verify signatures in batches (then failSignature). */
export function checkTxRules (tx: SignedTx, rules: ChainRules): void {
  const { params } = rules
  if (tx.bytes.length > params.maxTxBytes) fail(ErrorCode.TOO_LARGE, `tx is ${tx.bytes.length} bytes, limit ${params.maxTxBytes}`)
  if (tx.unsigned.chainId !== rules.chainId) fail(ErrorCode.WRONG_CHAIN, `tx is for chain ${JSON.stringify(tx.unsigned.chainId)}`)
  const need = minFee(params, tx.bytes.length)
  if (tx.unsigned.fee < need) fail(ErrorCode.FEE_TOO_LOW, `fee ${tx.unsigned.fee} is below ${need}`, { minFee: need.toString() })
  checkBody(tx.unsigned.body, tx.unsigned.sender, params)
}

/** What a tx's signature must verify over: the sender's key, the domain-tagged unsigned bytes. */
export function txSignatureCheck (tx: SignedTx): { publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array } {
  return { publicKey: tx.unsigned.sender, message: signingBytes('tx', tx.unsignedBytes), signature: tx.signature }
}

export function failSignature (): never {
  return fail(ErrorCode.BAD_SIGNATURE, 'signature does not verify')
}
