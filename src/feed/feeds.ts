/**
 * Home feeds for the RPC: from the timeline index (home-feed.ts) while it is close to the
 * head, else merged from each followed account's posts (merged-feed.ts); either way read
 * from one database snapshot, with the same cursors.
 */
import type { PublicKey } from '../protocol/types.ts'
import { type Page, type PostRef, decodeCursor, encodeCursor } from '../state/queries.ts'
import type { Store } from '../state/store.ts'
import { readHomeFeed } from './home-feed.ts'
import { readMergedFeed } from './merged-feed.ts'
import { PostIds } from './post-ids.ts'
import type { TimelineState } from './timeline-indexer.ts'
import { positionKey, positionOf } from './timeline-rows.ts'

/** The timeline index is read while it is at most this many blocks behind the head (else the merge, exact but dearer). */
export const MAX_TIMELINE_LAG = 30

/** The timeline index as feeds read it. */
export interface FeedIndex extends TimelineState {
  /** Blocks committed but not yet indexed. */
  readonly lag: number
}

export class Feeds {
  /**
   * `timeline` null: the node runs without the index, and every feed is merged. `postIds`: the
   * post ids of the positions timeline pages name, kept (post-ids.ts); null reads each from the store.
   */
  constructor (
    private readonly store: Store,
    private readonly timeline: FeedIndex | null,
    readonly postIds: PostIds | null = timeline === null ? null : new PostIds()
  ) {}

  /** Posts by the accounts `reader` follows, newest first. Cursor: height‖index of the last item. */
  async home (reader: PublicKey, cursor: string | null, limit: number, signal?: AbortSignal): Promise<Page<PostRef>> {
    const after = decodeCursor(cursor, 12)
    const before = after === null ? null : positionOf(after)
    const timeline = this.timeline
    const { items, next } = await this.store.atOneHeight(async (snap) => timeline !== null && timeline.lag <= MAX_TIMELINE_LAG
      ? await readHomeFeed(snap, timeline, this.postIds, reader, before, limit, signal)
      : await readMergedFeed(snap, reader, before, limit, signal))
    return { items, cursor: next === null ? null : encodeCursor(positionKey(next)) }
  }
}
