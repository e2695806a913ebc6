/**
 * Stored records of the state buckets, as canonical msgpack arrays.
 *
 * Every decoder here reads bytes this node wrote to its own store (or to a state view on
 * the way there), never bytes from the wire: they use the TRUSTED `decodeStored` (no
 * re-encoding to check the form, text not checked for NFC again). The wire's decoders
 * (codec/tx.ts, codec/block.ts, codec/gossip.ts) keep `decodeCanonical` and its checks.
 */
import { assertEncodable, decodeStored, encodeCanonical } from '../codec/canonical.ts'
import { asAmount, asArray, asBytes, asBytesOrNull, asUint } from '../codec/schema.ts'
import type { Value } from '../codec/canonical.ts'
import { ErrorCode, fail } from '../protocol/errors.ts'
import type { Hash, PublicKey } from '../protocol/types.ts'

/** Text of a stored record: checked NFC when it was a tx's, on admission. */
function storedString (v: Value, what: string): string {
  return typeof v === 'string' ? v : fail(ErrorCode.MALFORMED, `${what}: expected text`)
}

const storedStringOrNull = (v: Value, what: string): string | null => v === null ? null : storedString(v, what)

export interface Account {
  balance: bigint
  /** The nonce the account's next transaction must carry. */
  nonce: number
  stake: bigint
  /** Coins unstaked and waiting out the unbonding period. */
  unbonding: bigint
  username: string | null
  displayName: string
  bio: string
  avatarUrl: string
  postCount: number
  followerCount: number
  followingCount: number
}

export const emptyAccount = (): Account => ({
  balance: 0n, nonce: 0, stake: 0n, unbonding: 0n, username: null, displayName: '', bio: '', avatarUrl: '',
  postCount: 0, followerCount: 0, followingCount: 0
})

const accountFields = (a: Account): Value[] => [a.balance, a.nonce, a.stake, a.unbonding, a.username, a.displayName, a.bio, a.avatarUrl, a.postCount, a.followerCount, a.followingCount]

export function encodeAccount (a: Account): Uint8Array {
  return encodeCanonical(accountFields(a))
}

/** Throws what encodeAccount(a) would (an amount past 64 bits), without encoding. */
export function checkAccount (a: Account): void {
  assertEncodable(accountFields(a))
}

export function decodeAccount (b: Uint8Array): Account {
  const f = asArray(decodeStored(b), 11, 'account')
  return {
    balance: asAmount(f[0]!, 'balance'),
    nonce: asUint(f[1]!, 'nonce'),
    stake: asAmount(f[2]!, 'stake'),
    unbonding: asAmount(f[3]!, 'unbonding'),
    username: storedStringOrNull(f[4]!, 'username'),
    displayName: storedString(f[5]!, 'displayName'),
    bio: storedString(f[6]!, 'bio'),
    avatarUrl: storedString(f[7]!, 'avatarUrl'),
    postCount: asUint(f[8]!, 'postCount'),
    followerCount: asUint(f[9]!, 'followerCount'),
    followingCount: asUint(f[10]!, 'followingCount')
  }
}

export interface Post {
  author: PublicKey
  text: string
  replyTo: Hash | null
  repostOf: Hash | null
  height: number
  /** Position of the creating tx in its block. */
  index: number
  timeMs: number
  likeCount: number
  replyCount: number
  repostCount: number
}

const postFields = (p: Post): Value[] => [p.author, p.text, p.replyTo, p.repostOf, p.height, p.index, p.timeMs, p.likeCount, p.replyCount, p.repostCount]

export function encodePost (p: Post): Uint8Array {
  return encodeCanonical(postFields(p))
}

/** Throws what encodePost(p) would, without encoding. */
export function checkPost (p: Post): void {
  assertEncodable(postFields(p))
}

export function decodePost (b: Uint8Array): Post {
  const f = asArray(decodeStored(b), 10, 'post')
  return {
    author: asBytes(f[0]!, 'author', 32),
    text: storedString(f[1]!, 'text'),
    replyTo: asBytesOrNull(f[2]!, 'replyTo', 32),
    repostOf: asBytesOrNull(f[3]!, 'repostOf', 32),
    height: asUint(f[4]!, 'height'),
    index: asUint(f[5]!, 'index'),
    timeMs: asUint(f[6]!, 'timeMs'),
    likeCount: asUint(f[7]!, 'likeCount'),
    replyCount: asUint(f[8]!, 'replyCount'),
    repostCount: asUint(f[9]!, 'repostCount')
  }
}

export function encodeAmount (n: bigint): Uint8Array {
  return encodeCanonical(n)
}

export function decodeAmount (b: Uint8Array): bigint {
  return asAmount(decodeStored(b), 'amount')
}
