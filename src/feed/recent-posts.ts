/**
 * Authors' newest posts, held for the timeline indexer's backfill: a follow merges the
 * author's newest earlier posts into the follower's timeline, and reading them from the
 * store (a reverse range over postByAuthor per follow) cost more of the indexer's time than
 * its fan-out on a busy chain. Authors who are followed are mostly the ones followed again.
 *
 * A list is read from the store as of a block (the posts below its height) and then kept up
 * by each block the indexer indexes (`append`), so it is the author's newest posts before the
 * block being indexed. At most `maxAuthors` lists (least recently used go first).
 */
import { BoundedMap } from '../util/bounded-map.ts'
import type { ChainPosition } from './timeline-rows.ts'

export const DEFAULT_MAX_RECENT_AUTHORS = 10_000

interface RecentList {
  /** Heights and indices of the newest posts, oldest first: [h0, i0, h1, i1, …]. */
  flat: number[]
  /** The list holds every post below this height, and each later block's as it was indexed. */
  from: number
}

export class RecentPosts {
  private readonly lists: BoundedMap<string, RecentList>

  constructor (private readonly keep: number, maxAuthors = DEFAULT_MAX_RECENT_AUTHORS) {
    this.lists = new BoundedMap(maxAuthors)
  }

  /** The author's newest `keep` posts below `height` (newest first), if held as of `height`. */
  before (author: string, height: number): ChainPosition[] | undefined {
    const list = this.lists.get(author)
    if (list === undefined || list.from > height) return undefined
    this.lists.use(author)
    const out: ChainPosition[] = []
    for (let k = list.flat.length - 2; k >= 0 && out.length < this.keep; k -= 2) {
      if (list.flat[k]! < height) out.push({ height: list.flat[k]!, index: list.flat[k + 1]! })
    }
    return out
  }

  /** Holds an author's posts below `from` as read from the store (any order), evicting the least recently used past the bound. */
  set (author: string, from: number, posts: readonly ChainPosition[]): void {
    const sorted = [...posts].sort((a, b) => a.height - b.height || a.index - b.index).slice(-this.keep)
    this.lists.delete(author) // a list read again goes at the newest end
    this.lists.set(author, { flat: sorted.flatMap((p) => [p.height, p.index]), from })
  }

  /** Block `height`'s posts by `author` (ascending indices), for a list held from before it. */
  append (author: string, height: number, indices: readonly number[]): void {
    const list = this.lists.get(author)
    // (a block indexed again after a failed batch is in the list already)
    if (list === undefined || height < list.from || (list.flat.length > 0 && list.flat[list.flat.length - 2]! >= height)) return
    for (const index of indices) list.flat.push(height, index)
    if (list.flat.length > 2 * this.keep) list.flat.splice(0, list.flat.length - 2 * this.keep)
  }
}
