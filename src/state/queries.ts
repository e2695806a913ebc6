/**
 * Read-only queries for apps: profiles, posts, the graph and likes (feeds: feed/feeds.ts),
 * with cursor pagination. A cursor is the last returned key's suffix within
 * its prefix, base64url: opaque to apps, and a page boundary that stays
 * correct while new posts arrive.
 */
import { base64urlnopad } from '@scure/base'
import { concatBytes, utf8 } from '../crypto/bytes.ts'
import { ErrorCode, fail } from '../protocol/errors.ts'
import type { Hash, PublicKey } from '../protocol/types.ts'
import { Bucket } from './buckets.ts'
import { pairKey } from './keys.ts'
import type { Account, Post } from './records.ts'
import { type Store, type StoreSnapshot, prefixRange } from './store.ts'
import { readAccount, readPost } from './transition.ts'

export interface Page<T> { items: T[], cursor: string | null }

export function encodeCursor (suffix: Uint8Array): string {
  return base64urlnopad.encode(suffix)
}

export function decodeCursor (cursor: string | null | undefined, length: number): Uint8Array | null {
  if (cursor === null || cursor === undefined) return null
  try {
    const b = base64urlnopad.decode(cursor)
    if (b.length === length) return b
  } catch { /* fall through */ }
  return fail(ErrorCode.INVALID_CURSOR, 'cursor is not one this query returned')
}

export interface PostRef { id: Hash, post: Post }
export interface AccountRef { address: PublicKey, account: Account }

export class Queries {
  constructor (private readonly store: Store) {}

  async account (address: PublicKey): Promise<Account> {
    return await readAccount(this.store, address)
  }

  async addressOfUsername (name: string): Promise<PublicKey | null> {
    const b = await this.store.get(Bucket.username, utf8.encode(name))
    return b ?? null
  }

  async post (id: Hash): Promise<Post | null> {
    return await readPost(this.store, id)
  }

  /** An author's posts, newest first. Cursor: height‖index (12 bytes). */
  async postsByAuthor (author: PublicKey, cursor: string | null, limit: number): Promise<Page<PostRef>> {
    const after = decodeCursor(cursor, 12)
    const { gte, lt } = prefixRange(author)
    return await this.store.atOneHeight(async (snap) =>
      await pageOfPosts(snap, await snap.range(Bucket.postByAuthor, { gte, lt: after === null ? lt : concatBytes(author, after), reverse: true, limit: limit + 1 }), limit, 32))
  }

  /** Every post, chain-wide, newest first (the derived postOrder index). Cursor: height‖index (12 bytes). */
  async recentPosts (cursor: string | null, limit: number): Promise<Page<PostRef>> {
    const before = decodeCursor(cursor, 12)
    return await this.store.atOneHeight(async (snap) =>
      await pageOfPosts(snap, await snap.range(Bucket.postOrder, { ...(before === null ? {} : { lt: before }), reverse: true, limit: limit + 1 }), limit, 0))
  }

  /** Whether `follower` follows `target`. */
  async follows (follower: PublicKey, target: PublicKey): Promise<boolean> {
    return await this.store.get(Bucket.following, pairKey(follower, target)) !== undefined
  }

  /** Whether `liker` likes the post `postId`. */
  async likes (liker: PublicKey, postId: Hash): Promise<boolean> {
    return await this.store.get(Bucket.likedBy, pairKey(liker, postId)) !== undefined
  }

  /** Replies to a post, oldest first. Cursor: height‖index (12 bytes). */
  async replies (parent: Hash, cursor: string | null, limit: number): Promise<Page<PostRef>> {
    const after = decodeCursor(cursor, 12)
    const range = prefixRange(parent)
    return await this.store.atOneHeight(async (snap) =>
      await pageOfPosts(snap, await snap.range(Bucket.reply, { ...(after === null ? { gte: range.gte } : { gt: concatBytes(parent, after) }), lt: range.lt, limit: limit + 1 }), limit, 32))
  }

  /** Accounts in a pair bucket under `prefix` (followers, following, likers), in address order, with their records. */
  async pairs (bucket: typeof Bucket.follower | typeof Bucket.following | typeof Bucket.like, prefix: Uint8Array, cursor: string | null, limit: number): Promise<Page<AccountRef>> {
    const after = decodeCursor(cursor, 32)
    const range = prefixRange(prefix)
    return await this.store.atOneHeight(async (snap) => {
      const rows = await snap.range(bucket, { ...(after === null ? { gte: range.gte } : { gt: pairKey(prefix, after) }), lt: range.lt, limit: limit + 1 })
      const items: AccountRef[] = []
      for (const [k] of rows.slice(0, limit)) {
        const address = k.subarray(prefix.length)
        items.push({ address, account: await readAccount(snap, address) })
      }
      return { items, cursor: rows.length > limit ? encodeCursor(items[items.length - 1]!.address) : null }
    })
  }
}

/** A page of the posts whose ids are the rows' values; the cursor is the last row's key past `prefixLength`. */
async function pageOfPosts (snap: StoreSnapshot, rows: Array<[Uint8Array, Uint8Array]>, limit: number, prefixLength: number): Promise<Page<PostRef>> {
  const page = rows.slice(0, limit)
  const items: PostRef[] = []
  for (const [, id] of page) {
    const post = await readPost(snap, id)
    if (post !== null) items.push({ id, post })
  }
  const last = page[page.length - 1]
  return { items, cursor: rows.length > limit && last !== undefined ? encodeCursor(last[0].subarray(prefixLength)) : null }
}
