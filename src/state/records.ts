/** Stored records of the state buckets, as canonical msgpack arrays. */
import { decodeCanonical, encodeCanonical } from '../codec/canonical.ts'
import { asAmount, asArray, asBytes, asBytesOrNull, asString, asStringOrNull, asUint } from '../codec/schema.ts'
import type { Hash, PublicKey } from '../protocol/types.ts'

const MAX_RECORD = 1 << 20

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

export function encodeAccount (a: Account): Uint8Array {
  return encodeCanonical([a.balance, a.nonce, a.stake, a.unbonding, a.username, a.displayName, a.bio, a.avatarUrl, a.postCount, a.followerCount, a.followingCount])
}

export function decodeAccount (b: Uint8Array): Account {
  const f = asArray(decodeCanonical(b, MAX_RECORD), 11, 'account')
  return {
    balance: asAmount(f[0]!, 'balance'),
    nonce: asUint(f[1]!, 'nonce'),
    stake: asAmount(f[2]!, 'stake'),
    unbonding: asAmount(f[3]!, 'unbonding'),
    username: asStringOrNull(f[4]!, 'username'),
    displayName: asString(f[5]!, 'displayName'),
    bio: asString(f[6]!, 'bio'),
    avatarUrl: asString(f[7]!, 'avatarUrl'),
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

export function encodePost (p: Post): Uint8Array {
  return encodeCanonical([p.author, p.text, p.replyTo, p.repostOf, p.height, p.index, p.timeMs, p.likeCount, p.replyCount, p.repostCount])
}

export function decodePost (b: Uint8Array): Post {
  const f = asArray(decodeCanonical(b, MAX_RECORD), 10, 'post')
  return {
    author: asBytes(f[0]!, 'author', 32),
    text: asString(f[1]!, 'text'),
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
  return asAmount(decodeCanonical(b, 16), 'amount')
}
