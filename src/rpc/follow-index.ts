/**
 * Whom each follower named by a `posts {followedBy}` subscription follows, held in
 * memory so that delivering a block reads no follow state: a post by A goes to the
 * subscriptions of followersOf(A).
 *
 * A follower's set is loaded from the store (following(follower‖target)) when its
 * first subscription arrives — by the hub, under the chain's lock, so it is the
 * state as of one committed height, `loadedAt` — and is then kept by `apply` from
 * each later block's follow and unfollow txs, in tx order (blocks up to loadedAt are
 * already in it). It is forgotten when the follower's last subscription goes.
 *
 * Bounds: at most MAX_FOLLOWING_PER_FOLLOWER accounts a follower (the first in
 * address order when loaded; a follow made past it while subscribed is not added),
 * and MAX_FOLLOW_INDEX_ENTRIES pairs in all: a load past that is refused BUSY.
 */
import { ChorusError, ErrorCode } from '../protocol/errors.ts'

/** The same cap as a merged feed's sources (feed/merged-feed.ts MAX_FEED_SOURCES). */
export const MAX_FOLLOWING_PER_FOLLOWER = 5_000
export const MAX_FOLLOW_INDEX_ENTRIES = 200_000

interface Follower { authors: Set<string>, loadedAt: number, refs: number }

export class FollowIndex {
  /** follower (hex) → whom it follows (hex) */
  private readonly follows = new Map<string, Follower>()
  /** author (hex) → its tracked followers (hex) */
  private readonly followers = new Map<string, Set<string>>()
  private entries = 0

  constructor (readonly perFollower = MAX_FOLLOWING_PER_FOLLOWER, readonly maxEntries = MAX_FOLLOW_INDEX_ENTRIES) {}

  /** Followers tracked. */
  get size (): number { return this.follows.size }
  /** (follower, author) pairs held. */
  get entryCount (): number { return this.entries }

  tracks (follower: string): boolean { return this.follows.has(follower) }

  /**
   * Starts tracking `follower`, following `authors` as of committed height `height`
   * (only the first perFollower are kept). Its count of subscriptions starts at 0:
   * `retain` it at once. Throws BUSY when the index is full.
   */
  load (follower: string, authors: readonly string[], height: number): void {
    if (this.follows.has(follower)) return
    const kept = authors.slice(0, this.perFollower)
    if (this.entries + kept.length > this.maxEntries) {
      throw new ChorusError(ErrorCode.BUSY, 'the node holds its limit of follow sets for followedBy subscriptions: retry later')
    }
    this.follows.set(follower, { authors: new Set(), loadedAt: height, refs: 0 })
    for (const a of kept) this.link(follower, a)
  }

  retain (follower: string): void {
    this.follows.get(follower)!.refs++
  }

  /** One subscription for `follower` went; the last one takes its set with it. */
  release (follower: string): void {
    const f = this.follows.get(follower)
    if (f === undefined || --f.refs > 0) return
    for (const a of f.authors) this.unlinkAuthor(follower, a)
    this.entries -= f.authors.size
    this.follows.delete(follower)
  }

  has (follower: string, author: string): boolean {
    return this.follows.get(follower)?.authors.has(author) ?? false
  }

  /** The tracked followers of `author`. */
  followersOf (author: string): ReadonlySet<string> | undefined {
    return this.followers.get(author)
  }

  /** A follow (or unfollow) of `author` by `follower` committed at `height`. */
  apply (follower: string, follow: boolean, author: string, height: number): void {
    const f = this.follows.get(follower)
    if (f === undefined || height <= f.loadedAt) return
    if (follow) {
      if (f.authors.has(author) || f.authors.size >= this.perFollower || this.entries >= this.maxEntries) return
      this.link(follower, author)
    } else if (f.authors.delete(author)) {
      this.entries--
      this.unlinkAuthor(follower, author)
    }
  }

  private link (follower: string, author: string): void {
    const f = this.follows.get(follower)!
    if (f.authors.has(author)) return
    f.authors.add(author)
    this.entries++
    let set = this.followers.get(author)
    if (set === undefined) {
      set = new Set()
      this.followers.set(author, set)
    }
    set.add(follower)
  }

  private unlinkAuthor (follower: string, author: string): void {
    const set = this.followers.get(author)
    if (set === undefined) return
    set.delete(follower)
    if (set.size === 0) this.followers.delete(author)
  }
}
