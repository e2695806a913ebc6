/** Key builders for the buckets in buckets.ts; one helper per layout. */
import { concatBytes, heightIndexKey, u64be, utf8 } from '../crypto/bytes.ts'
import type { Hash, PublicKey } from '../protocol/types.ts'

export const accountKey = (address: PublicKey): Uint8Array => address
export const usernameKey = (name: string): Uint8Array => utf8.encode(name)
export const postKey = (id: Hash): Uint8Array => id
export const postByAuthorKey = (author: PublicKey, height: number, index: number): Uint8Array => heightIndexKey(author, height, index)
export const replyKey = (parent: Hash, height: number, index: number): Uint8Array => heightIndexKey(parent, height, index)
export const pairKey = (a: Uint8Array, b: Uint8Array): Uint8Array => concatBytes(a, b)
export const unbondingKey = (releaseHeight: number, address: PublicKey): Uint8Array => concatBytes(u64be(releaseHeight), address)
export const heightKey = (height: number): Uint8Array => u64be(height)
