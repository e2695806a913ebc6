/**
 * A home feed page without the timeline index (turned off, or still being rebuilt):
 * the newest posts of every followed account merged. Exact, but its cost follows the
 * follow count (up to MAX_FEED_SOURCES range reads a page), which is why the index exists.
 */
import { ErrorCode, fail } from '../protocol/errors.ts'
import type { PublicKey } from '../protocol/types.ts'
import { Bucket } from '../state/buckets.ts'
import { pairKey } from '../state/keys.ts'
import { prefixRange, type StoreSnapshot } from '../state/store.ts'
import { readPost } from '../state/transition.ts'
import type { FeedItem, FeedPage } from './home-feed.ts'
import { type ChainPosition, newestFirst, positionKey, positionOf } from './timeline-rows.ts'

/** A feed reads at most this many followed accounts; past it, the newest follows are left out. */
export const MAX_FEED_SOURCES = 5_000

export async function readMergedFeed (snap: StoreSnapshot, reader: PublicKey, before: ChainPosition | null, limit: number, signal?: AbortSignal): Promise<FeedPage> {
  const follows = await snap.range(Bucket.following, { ...prefixRange(reader), limit: MAX_FEED_SOURCES })
  // newest `limit + 1` of each author below the cursor, merged; (height, index) orders posts chain-wide
  const candidates: Array<{ position: ChainPosition, id: Uint8Array }> = []
  for (const [key] of follows) {
    if (signal?.aborted === true) fail(ErrorCode.TIMEOUT, 'the feed read was abandoned')
    const author = key.subarray(32)
    const { gte, lt } = prefixRange(author)
    const rows = await snap.range(Bucket.postByAuthor, { gte, lt: before === null ? lt : pairKey(author, positionKey(before)), reverse: true, limit: limit + 1 })
    for (const [k, id] of rows) candidates.push({ position: positionOf(k, 32), id })
  }
  candidates.sort((a, b) => newestFirst(a.position, b.position))
  const page = candidates.slice(0, limit)
  const items: FeedItem[] = []
  for (const { position, id } of page) {
    const post = await readPost(snap, id)
    if (post !== null) items.push({ position, id, post })
  }
  return { items, next: candidates.length > limit ? page[page.length - 1]!.position : null }
}
