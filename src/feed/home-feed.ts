/**
 * A home feed page from the timeline index (timeline-indexer.ts): the reader's timeline
 * rows newest first, merged with the posts of the celebrities the reader follows, all
 * read from one store snapshot and up to the height the index is complete to. Its cost
 * follows the page, not the follow count: rows are read until the page is full, and the
 * entries that no longer count (an author unfollowed since, or a celebrity whose posts
 * come from the merge) are skipped, at most `scanLimit` of them a page.
 *
 * Exact pagination: the cursor is a chain position; the next page holds only posts
 * strictly older, and a page is cut where its reading stopped, so nothing is shown
 * twice or skipped however the chain grows between pages.
 */
import { binaryKey } from '../crypto/bytes.ts'
import { ErrorCode, fail } from '../protocol/errors.ts'
import type { Hash, PublicKey } from '../protocol/types.ts'
import { Bucket } from '../state/buckets.ts'
import { pairKey } from '../state/keys.ts'
import type { Post } from '../state/records.ts'
import { prefixRange, type StoreSnapshot } from '../state/store.ts'
import { readAccount, readPost } from '../state/transition.ts'
import type { PostIds } from './post-ids.ts'
import type { TimelineState } from './timeline-indexer.ts'
import { type ChainPosition, isBefore, newestFirst, positionKey, positionOf, rowHeight, rowIndices, timelineHeightStart } from './timeline-rows.ts'

export interface FeedItem { position: ChainPosition, id: Hash, post: Post }
export interface FeedPage { items: FeedItem[], next: ChainPosition | null }

/** Timeline rows fetched by the first read of a page, doubling at each further read up to MAX_ROWS_PER_READ: a reader reached by most blocks fills a page from one row (a row can hold hundreds of entries), a sparse one needs many. */
const FIRST_ROWS_PER_READ = 4
const MAX_ROWS_PER_READ = 256

/** `ids`: positions already turned into post ids (null: each read from postOrder). */
export async function readHomeFeed (
  snap: StoreSnapshot, timeline: TimelineState, ids: PostIds | null, reader: PublicKey, before: ChainPosition | null, limit: number, signal?: AbortSignal
): Promise<FeedPage> {
  const top = timeline.indexedHeight
  const celebrities = timeline.celebrities
  const scanLimit = Math.max(500, 10 * limit)
  // everything at or below `ceiling` (exclusive) and at most `top`
  const ceiling: ChainPosition = before !== null && before.height <= top ? before : { height: top + 1, index: 0 }
  const followed = new Map<string, boolean>()
  const follows = async (author: PublicKey, key: string): Promise<boolean> => {
    let f = followed.get(key)
    if (f === undefined) followed.set(key, f = await snap.lookup(Bucket.following, pairKey(reader, author)) !== undefined)
    return f
  }

  // 1. the reader's timeline: a height's rows are gathered, then its entries taken newest first
  const found: FeedItem[] = []
  let scanned = 0
  let last: ChainPosition | null = null // the oldest entry looked at
  let stop: 'full' | 'cut' | null = null // 'cut': the scan limit ended the page before it filled
  const takeGroup = async (g: { height: number, indices: number[], rows: number }): Promise<void> => {
    // one row (the usual case) is ascending already; several (backfill) are merged
    const ascending = g.rows === 1 ? g.indices : g.indices.sort((x, y) => x - y)
    for (let k = ascending.length - 1; k >= 0; k--) {
      const index = ascending[k]!
      if (k + 1 < ascending.length && ascending[k + 1] === index) continue
      const position = { height: g.height, index }
      if (!isBefore(position, ceiling)) continue
      if (found.length > limit) { stop = 'full'; return }
      if (scanned >= scanLimit) { stop = 'cut'; return }
      scanned++
      last = position
      const id = ids?.get(position) ?? await snap.lookup(Bucket.postOrder, positionKey(position))
      if (id === undefined) continue
      // at or below `top`: committed, and never to change
      ids?.set(position, id)
      const post = await readPost(snap, id)
      if (post === null) continue
      const key = binaryKey(post.author)
      if (celebrities.has(key) || !await follows(post.author, key)) continue
      found.push({ position, id, post })
    }
    if (found.length > limit) stop = 'full'
  }
  let lt = timelineHeightStart(reader, ceiling.height + 1)
  let group: { height: number, indices: number[], rows: number } | null = null
  let rowsPerRead = FIRST_ROWS_PER_READ
  scan: for (;; rowsPerRead = Math.min(2 * rowsPerRead, MAX_ROWS_PER_READ)) {
    if (signal?.aborted === true) fail(ErrorCode.TIMEOUT, 'the feed read was abandoned')
    const rows = await snap.range(Bucket.timeline, { gte: reader, lt, reverse: true, limit: rowsPerRead })
    for (const [key, value] of rows) {
      const height = rowHeight(key)
      if (group !== null && group.height !== height) {
        await takeGroup(group)
        if (stop !== null) break scan
        group = null
      }
      group ??= { height, indices: [], rows: 0 }
      const indices = rowIndices(key, value)
      if (group.rows++ === 0) group.indices = indices
      else group.indices.push(...indices)
    }
    if (rows.length < rowsPerRead) {
      if (group !== null) await takeGroup(group)
      break
    }
    lt = rows[rows.length - 1]![0]
  }
  // nothing older than `floor` was looked at: the page ends there
  const floor: ChainPosition | null = stop === 'cut' ? last : null

  // 2. the followed celebrities' own posts, as many as the page could take of each
  const merged = found
  for (const author of await followedCelebrities(snap, reader, celebrities, follows)) {
    const rows = await snap.range(Bucket.postByAuthor, { gte: author, lt: pairKey(author, positionKey(ceiling)), reverse: true, limit: limit + 1 })
    for (const [key, id] of rows) {
      const position = positionOf(key, 32)
      if (floor !== null && isBefore(position, floor)) break
      const post = await readPost(snap, id)
      if (post !== null) merged.push({ position, id, post })
    }
  }
  merged.sort((a, b) => newestFirst(a.position, b.position))
  const items = merged.slice(0, limit)
  const next = merged.length > limit ? items[items.length - 1]!.position : floor
  return { items, next }
}

/** The celebrities `reader` follows: by the shorter of the two lists. */
async function followedCelebrities (
  snap: StoreSnapshot, reader: PublicKey, celebrities: ReadonlyMap<string, PublicKey>, follows: (author: PublicKey, key: string) => Promise<boolean>
): Promise<PublicKey[]> {
  if (celebrities.size === 0) return []
  const out: PublicKey[] = []
  const { followingCount } = await readAccount(snap, reader)
  if (celebrities.size <= followingCount) {
    for (const [key, author] of celebrities) if (await follows(author, key)) out.push(author)
  } else {
    for (const [key] of await snap.range(Bucket.following, prefixRange(reader))) {
      const author = key.subarray(32)
      if (celebrities.has(binaryKey(author))) out.push(author)
    }
  }
  return out
}
