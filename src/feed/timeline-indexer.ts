/**
 * Keeps the home-timeline index (timeline-rows.ts) up with the chain: fan-out on write,
 * with merge on read for celebrities (the hybrid of Twitter's timeline service), as a
 * node-local index that follows committed blocks instead of being one of their writes.
 *
 * - A block's posts are appended to the timelines of their authors' followers, one row
 *   per follower and block; a follow merges in the author's newest `backfill` earlier
 *   posts (as Mastodon merges a followee's recent posts into a home feed).
 * - An author with more than `celebrityFollowers` followers is not fanned out: it is
 *   marked a celebrity (for good, so the rule never changes under a feed already paged)
 *   and feeds read its posts from postByAuthor when they are asked for (home-feed.ts).
 * - Unfollows write nothing: a feed shows an entry only while its reader follows the author.
 *
 * It runs after each commit, off the chain's lock and in its own batches, so consensus
 * never waits on it; feeds are read up to `indexedHeight`, so a page is exact whether the
 * index is a block behind or not. Its progress is stored with its rows: after a crash or a
 * run with the index off it catches up from the blocks, and when TIMELINE_VERSION changes
 * it is cleared and rebuilt from the blocks (fanning out to the follows as they stand).
 */
import { binaryKey, readU64be, u64be, utf8 } from '../crypto/bytes.ts'
import type { Logger } from '../logger.ts'
import type { Block, PublicKey, SignedTx } from '../protocol/types.ts'
import { Bucket } from '../state/buckets.ts'
import { pairKey } from '../state/keys.ts'
import { prefixRange, type Store } from '../state/store.ts'
import { readAccount } from '../state/transition.ts'
import type { Write } from '../state/view.ts'
import { clearBucket } from '../chain/derived-indexes.ts'
import type { BlockCommitted } from '../chain/events.ts'
import { DEFAULT_MAX_FOLLOWER_ENTRIES, type FollowerList, FollowerLists, ReaderIds } from './follower-lists.ts'
import { FanOut, type FannedPost } from './fan-out.ts'
import { RecentPosts } from './recent-posts.ts'
import { type ChainPosition, FANOUT_TAG, backfillRows, positionOf, timelineKey } from './timeline-rows.ts'

/** Bumped when the rows' layout or meaning changes: the index is then cleared and rebuilt from the blocks. */
export const TIMELINE_VERSION = 2
const META_VERSION = utf8.encode('timelineVersion')
const META_HEIGHT = utf8.encode('timelineHeight')
/** Committed blocks' activity held for the indexer; past this it reads blocks from the store instead. */
const HELD_BLOCKS = 64

export interface TimelineOptions {
  /** An author with more followers than this is merged on read instead of fanned out. */
  celebrityFollowers: number
  /** How many of an author's newest earlier posts a follow merges into the follower's timeline. */
  backfill: number
  /** Followers held in memory for fan-out, all authors together (follower-lists.ts; 8 bytes each). */
  maxFollowerEntries?: number
}

export const DEFAULT_TIMELINE_OPTIONS: TimelineOptions = { celebrityFollowers: 10_000, backfill: 50, maxFollowerEntries: DEFAULT_MAX_FOLLOWER_ENTRIES }

/** What the indexer needs of the chain. */
export interface IndexedChain {
  readonly head: { height: number }
  readonly events: { onCommitted: (fn: (e: BlockCommitted) => void) => () => void }
  getBlock: (height: number) => Promise<Block | null>
}

/** What a feed read needs: the height the index is complete to and the celebrities as of then. */
export interface TimelineState {
  readonly indexedHeight: number
  /** By binaryKey. Replaced, never changed in place: a read holds the map it started with. */
  readonly celebrities: ReadonlyMap<string, PublicKey>
}

export class TimelineIndexer implements TimelineState {
  private _indexedHeight: number
  private _celebrities: ReadonlyMap<string, PublicKey>
  private readonly held = new Map<number, BlockActivity>()
  private readonly readers = new ReaderIds()
  private readonly followers: FollowerLists
  private readonly fanOut = new FanOut()
  private readonly recent: RecentPosts
  private running: Promise<void> | null = null
  private unsubscribe: (() => void) | null = null
  private closed = false

  private constructor (
    private readonly store: Store,
    private readonly chain: IndexedChain,
    private readonly opts: TimelineOptions,
    private readonly log: Logger,
    indexed: number,
    celebrities: Map<string, PublicKey>
  ) {
    this._indexedHeight = indexed
    this._celebrities = celebrities
    this.followers = new FollowerLists(opts.maxFollowerEntries)
    this.recent = new RecentPosts(opts.backfill)
  }

  /** Opens the index in `store`, clearing it first when it was made by another TIMELINE_VERSION. */
  static async open (store: Store, chain: IndexedChain, opts: TimelineOptions, log: Logger): Promise<TimelineIndexer> {
    const version = await store.get(Bucket.meta, META_VERSION)
    if (version === undefined || version.length !== 1 || version[0] !== TIMELINE_VERSION) {
      await clearBucket(store, Bucket.timeline)
      await clearBucket(store, Bucket.celebrity)
      await store.commit([
        { bucket: Bucket.meta, key: META_HEIGHT, value: u64be(0) },
        { bucket: Bucket.meta, key: META_VERSION, value: Uint8Array.of(TIMELINE_VERSION) }
      ], true)
    }
    const height = await store.get(Bucket.meta, META_HEIGHT)
    const celebrities = new Map((await store.range(Bucket.celebrity, {})).map(([k]) => [binaryKey(k), k]))
    return new TimelineIndexer(store, chain, opts, log, height === undefined ? 0 : readU64be(height), celebrities)
  }

  get indexedHeight (): number { return this._indexedHeight }
  get celebrities (): ReadonlyMap<string, PublicKey> { return this._celebrities }
  /** Blocks committed but not yet indexed. */
  get lag (): number { return Math.max(0, this.chain.head.height - this._indexedHeight) }

  /** Indexes what the chain has and then each block as it commits. */
  start (): void {
    this.unsubscribe = this.chain.events.onCommitted(({ checked }) => {
      const h = checked.block.header.height
      if (h > this._indexedHeight && this.held.size < HELD_BLOCKS) this.held.set(h, activityOf(checked.block.txs))
      this.kick()
    })
    this.kick()
  }

  /** Resolves once every block committed so far is indexed (tests, and `chorus` tools that wait for it). */
  async caughtUp (): Promise<void> {
    while (!this.closed && this._indexedHeight < this.chain.head.height) {
      this.kick()
      await this.running
    }
  }

  async close (): Promise<void> {
    this.closed = true
    this.unsubscribe?.()
    await this.running
  }

  private kick (): void {
    if (this.running !== null || this.closed) return
    this.running = this.catchUp()
      .catch((e: unknown) => { this.log.error('Indexing home timelines failed; it is retried at the next block', { error: (e as Error).message }) })
      .finally(() => { this.running = null })
  }

  /** An author's followers: held, or read from the store (the state at the head, which later blocks then update). */
  private async followersOf (key: string, author: PublicKey): Promise<FollowerList> {
    const held = this.followers.get(key)
    if (held !== undefined) return held
    const loadedAt = this.chain.head.height
    const rows = await this.store.range(Bucket.follower, prefixRange(author))
    const list: FollowerList = { readers: new Uint32Array(rows.length), since: new Uint32Array(rows.length), length: rows.length, loadedAt }
    rows.forEach(([k, since], i) => {
      list.readers[i] = this.readers.idOf(k.subarray(32))
      list.since[i] = readU64be(since)
    })
    this.followers.set(key, list)
    return list
  }

  /** The author's newest `backfill` posts below `height`: held, or read from the store. */
  private async postsBefore (author: PublicKey, height: number): Promise<ChainPosition[]> {
    const key = binaryKey(author)
    const held = this.recent.before(key, height)
    if (held !== undefined) return held
    const { gte } = prefixRange(author)
    const rows = await this.store.range(Bucket.postByAuthor, { gte, lt: pairKey(author, u64be(height)), reverse: true, limit: this.opts.backfill })
    const posts = rows.map(([k]) => positionOf(k, 32))
    this.recent.set(key, height, posts)
    return posts
  }

  private async catchUp (): Promise<void> {
    while (!this.closed && this._indexedHeight < this.chain.head.height) {
      const h = this._indexedHeight + 1
      let activity = this.held.get(h)
      if (activity === undefined) {
        const block = await this.chain.getBlock(h)
        if (block === null) throw new Error(`block ${h} is missing from the store`)
        activity = activityOf(block.txs)
      }
      await this.indexBlock(h, activity)
      this.held.delete(h)
    }
  }

  /** One block's rows and the new progress marker, in one batch. */
  private async indexBlock (height: number, { posts, graph }: BlockActivity): Promise<void> {
    const writes: Write[] = []
    // the block's follows and unfollows first: its posts go to the followers as the block leaves them
    for (const g of graph) this.followers.apply(binaryKey(g.target), this.readers.idOf(g.follower), height, g.follows)
    const marked = new Map<string, PublicKey>() // celebrities from this block on
    const isCelebrity = (key: string): boolean => this._celebrities.has(key) || marked.has(key)
    const fanned = new Map<string, FollowerList>() // the authors fanned out, with their followers
    for (const [key, { author }] of posts.byAuthor) {
      if (isCelebrity(key)) continue
      if ((await readAccount(this.store, author)).followerCount > this.opts.celebrityFollowers) {
        marked.set(key, author)
        writes.push({ bucket: Bucket.celebrity, key: author, value: u64be(height) })
        continue
      }
      fanned.set(key, await this.followersOf(key, author))
    }
    const fannedPosts: FannedPost[] = []
    posts.order.forEach((key, index) => {
      const followers = key === null ? undefined : fanned.get(key)
      if (followers !== undefined) fannedPosts.push({ index, followers })
    })
    for (const { reader, value } of this.fanOut.rows(height, fannedPosts, this.readers.size)) {
      writes.push({ bucket: Bucket.timeline, key: timelineKey(this.readers.address(reader), height, FANOUT_TAG), value })
    }
    for (const { follower, target, follows } of graph) {
      if (!follows) continue
      if (isCelebrity(binaryKey(target))) continue
      // only the follow that still stands (not one undone or made again since)
      const since = await this.store.get(Bucket.following, pairKey(follower, target))
      if (since === undefined || readU64be(since) !== height) continue
      for (const { key, value } of backfillRows(follower, await this.postsBefore(target, height))) writes.push({ bucket: Bucket.timeline, key, value })
    }
    writes.push({ bucket: Bucket.meta, key: META_HEIGHT, value: u64be(height) })
    await this.store.commit(writes)
    for (const [key, { indices }] of posts.byAuthor) this.recent.append(key, height, indices)
    this._indexedHeight = height
    if (marked.size > 0) this._celebrities = new Map([...this._celebrities, ...marked])
  }
}

/** What a block did that timelines follow: its posts and their authors, and its follows and unfollows. */
interface BlockActivity {
  posts: {
    /** The authors of the block's posts (by binaryKey), with their posts' tx indices, ascending. */
    byAuthor: Map<string, { author: PublicKey, indices: number[] }>
    /** By tx index: the author (binaryKey) of a post, null for any other tx. */
    order: Array<string | null>
  }
  /** Follows and unfollows, in tx order. */
  graph: Array<{ follower: PublicKey, target: PublicKey, follows: boolean }>
}

/** A block's activity, holding copies of the addresses (not views that would keep the block's buffer alive). */
function activityOf (txs: readonly SignedTx[]): BlockActivity {
  const byAuthor: BlockActivity['posts']['byAuthor'] = new Map()
  const graph: BlockActivity['graph'] = []
  const order = txs.map((tx, index): string | null => {
    const { sender, body } = tx.unsigned
    if (body.kind === 'post') {
      const key = binaryKey(sender)
      const e = byAuthor.get(key)
      if (e === undefined) byAuthor.set(key, { author: sender.slice(), indices: [index] })
      else e.indices.push(index)
      return key
    }
    if (body.kind === 'follow' || body.kind === 'unfollow') graph.push({ follower: sender.slice(), target: body.target.slice(), follows: body.kind === 'follow' })
    return null
  })
  return { posts: { byAuthor, order }, graph }
}
