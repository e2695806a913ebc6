/**
 * Live subscriptions over WebSocket (DESIGN §9): `subscribe(topic, filter)`
 * returns a subscription id; events arrive as JSON-RPC notifications
 *   {"jsonrpc":"2.0","method":"subscription","params":{"subscription":ID,"result":EVENT}}
 * Every event has an `eventId` "height:index" (index 0 for a head; named so as not to
 * clash with a post's own `id`); `filter.fromEventId`
 * first replays committed events after that id (at most MAX_REPLAY_BLOCKS back).
 *
 *   newHeads   {}                                   one event per block
 *   posts      {} | {author} | {followedBy}          each post tx in a block
 *   txStatus   {id}                                 once, when the tx is included
 *
 * How a committed block reaches its subscribers, at a cost that does not grow
 * with subscribers × txs, and without delaying the next block:
 * - The chain's commit callback (inside its commit lock) only notes the block.
 *   One worker delivers blocks in height order (a block is read back from the store
 *   when more than MAX_HELD_BLOCKS wait), giving the event loop back after every
 *   SLICE_MS of work. A connection's messages of one slice leave in one write
 *   (outbox.ts corks its socket).
 * - Subscriptions are indexed by filter (newHeads; all posts; posts by author; posts
 *   followed by an address, through FollowIndex, in memory; txStatus by tx id). A
 *   block's txs are looked up in the indexes; no subscription is scanned that does
 *   not match. A post is read from the store once a block, not once a subscriber.
 * - Each event is rendered to JSON once and shared: a notification is the
 *   subscription's envelope around that text (see Subscription.envelope).
 * - A replay (fromEventId) runs per subscription: blocks read from the store, at
 *   most REPLAY_READERS at a time in the node, each event queued once the
 *   subscriber's outbox has drained to its pause mark. It never holds up the
 *   worker, and nothing is buffered for it meanwhile: it reads on from the store
 *   until it reaches the worker's height, and becomes live there in one synchronous
 *   step. The worker only delivers it blocks above that height, and every delivery
 *   checks that the event comes after the last one it was sent: no gap, no duplicate.
 * - A subscription without fromEventId starts at the head when it was made: its
 *   first events are those of the next block. A txStatus without one takes its tx
 *   wherever it is (told at once if already included).
 * - A followedBy replay matches against the follower's follow set as it is now.
 */
import { setImmediate as nextTurn } from 'node:timers/promises'
import { toHex } from '../crypto/bytes.ts'
import { ErrorCode } from '../protocol/errors.ts'
import type { Block, Hash, PublicKey } from '../protocol/types.ts'
import { blockHash } from '../codec/block.ts'
import type { Logger } from '../logger.ts'
import { Bucket } from '../state/buckets.ts'
import { prefixRange } from '../state/store.ts'
import { Lock } from '../util/lock.ts'
import type { RpcContext } from './context.ts'
import { invalidParams } from './errors.ts'
import { FollowIndex } from './follow-index.ts'
import { account, type Params } from './params.ts'
import type { Json } from './views.ts'

export const TOPICS = ['newHeads', 'posts', 'txStatus'] as const
export type Topic = typeof TOPICS[number]
export const MAX_REPLAY_BLOCKS = 1000
/** Committed blocks the worker keeps in memory while it catches up; past it, it reads them back. */
export const MAX_HELD_BLOCKS = 8
/** Replay block reads in flight in the node. */
export const REPLAY_READERS = 2
/** Longest the worker queues notifications before it gives the event loop a turn. */
export const SLICE_MS = 1
/** Notifications between two looks at the clock. */
const CHECK_EVERY = 64
/** The largest index an eventId carries: "H:999999999" is after every event of block H. */
export const MAX_EVENT_INDEX = 999_999_999

export type Filter =
  | { topic: 'newHeads' }
  | { topic: 'posts', author: PublicKey | null, followedBy: PublicKey | null }
  | { topic: 'txStatus', id: string }

/** An event's place: (height, index). */
export type Position = readonly [number, number]

function parseEventId (v: unknown): [number, number] {
  if (typeof v !== 'string' || !/^[0-9]{1,15}:[0-9]{1,9}$/.test(v)) throw invalidParams('fromEventId is "height:index"', ErrorCode.MALFORMED)
  const [h, i] = v.split(':').map(Number)
  return [h!, i!]
}

/** Reads `subscribe` params into a filter; throws -32602 on anything unknown. */
export async function parseSubscription (ctx: RpcContext, topic: unknown, raw: unknown): Promise<{ filter: Filter, after: [number, number] | null }> {
  if (typeof topic !== 'string' || !(TOPICS as readonly string[]).includes(topic)) throw invalidParams(`topic must be one of ${TOPICS.join(', ')}`)
  const p = (raw ?? {}) as Params
  if (typeof p !== 'object' || Array.isArray(p)) throw invalidParams('filter must be an object')
  const after = p.fromEventId === undefined ? null : parseEventId(p.fromEventId)
  switch (topic as Topic) {
    case 'newHeads': return { filter: { topic: 'newHeads' }, after }
    case 'posts': {
      if (p.author !== undefined && p.followedBy !== undefined) throw invalidParams('filter by author or by followedBy, not both')
      const author = p.author === undefined ? null : await account(ctx, p, 'author')
      const followedBy = p.followedBy === undefined ? null : await account(ctx, p, 'followedBy')
      return { filter: { topic: 'posts', author, followedBy }, after }
    }
    case 'txStatus': {
      if (typeof p.id !== 'string' || !/^[0-9a-f]{64}$/.test(p.id)) throw invalidParams('txStatus needs filter.id, a tx id in hex', ErrorCode.MALFORMED)
      return { filter: { topic: 'txStatus', id: p.id }, after }
    }
  }
}

/** Where a subscription's notifications go: its connection's outbox. */
export interface SubscriptionSink {
  /** Queues one notification, `text` (`bytes` long in UTF-8), carrying event `eventId`. */
  notify: (sub: Subscription, text: string, bytes: number, eventId: string) => void
  /** Resolves when the connection can take more; a replay waits for it before each block. */
  ready: () => Promise<void>
  /** The hub ended `sub` itself (a txStatus, once delivered). */
  ended: (sub: Subscription) => void
}

/** The worker's share of the event loop: notifications until the next look at the clock, and until when it may go on. */
interface Slice { left: number, until: number }

/** An event rendered once for all its subscribers. */
interface Rendered { eventId: string, json: string, bytes: number }

function render (eventId: string, event: Json): Rendered {
  const json = JSON.stringify(event)
  return { eventId, json, bytes: Buffer.byteLength(json) }
}

export class Subscription {
  /** The notification's text before its event: `{"jsonrpc":"2.0","method":"subscription","params":{"subscription":ID,"result":` */
  readonly envelope: string
  /** The last event queued for it: (lastHeight, lastIndex). */
  lastHeight: number
  lastIndex: number
  /** What to pass as fromEventId to resume after nothing was sent: where it began (null: subscribe afresh). */
  readonly start: string | null
  /** The last event its connection handed to the socket (set by the connection). */
  written: string | null = null
  /** Heights up to this are done: replayed, or before the subscription. */
  covered: number
  /** Whether the worker delivers to it, blocks above `liveFrom` only. */
  live = false
  liveFrom = 0
  closed = false
  /** The filter's author or follower, in hex. */
  readonly key: string | null

  constructor (readonly id: string, readonly filter: Filter, readonly sink: SubscriptionSink, after: Position | null, head: number) {
    this.envelope = `{"jsonrpc":"2.0","method":"subscription","params":{"subscription":${JSON.stringify(id)},"result":`
    const txStatus = filter.topic === 'txStatus'
    // without fromEventId: a stream starts after the head; a txStatus takes its tx wherever it is
    const [height, index] = after ?? (txStatus ? [-1, -1] : [head, MAX_EVENT_INDEX])
    this.lastHeight = height
    this.lastIndex = index
    this.start = txStatus && after === null ? null : `${height}:${index}`
    this.covered = after === null || txStatus ? head : Math.max(after[0], head - MAX_REPLAY_BLOCKS, 1) - 1
    this.key = filter.topic !== 'posts' ? null : filter.author !== null ? toHex(filter.author) : filter.followedBy !== null ? toHex(filter.followedBy) : null
  }

  /** Whether it still awaits event (height, index): one after the last queued for it. */
  awaits (height: number, index: number): boolean {
    return height > this.lastHeight || (height === this.lastHeight && index > this.lastIndex)
  }

  /** The eventId a client passes as fromEventId to resume with nothing missed nor repeated. */
  get resumeFrom (): string | null { return this.written ?? this.start }
}

/** Counts slots: at most `n` holders at once, the rest wait in order. */
class Slots {
  private waiting: Array<() => void> = []
  constructor (private free: number) {}

  async take (): Promise<() => void> {
    if (this.free > 0) this.free--
    else await new Promise<void>((resolve) => this.waiting.push(resolve))
    let done = false
    return () => {
      if (done) return
      done = true
      const next = this.waiting.shift()
      if (next !== undefined) next()
      else this.free++
    }
  }
}

/** Fans each committed block out to the matching subscriptions; see the header. */
export class SubscriptionHub {
  private readonly subs = new Map<string, Subscription>()
  private next = 1
  private readonly newHeads = new Set<Subscription>()
  private readonly allPosts = new Set<Subscription>()
  private readonly byAuthor = new Map<string, Set<Subscription>>()
  private readonly byFollower = new Map<string, Set<Subscription>>()
  private readonly byTx = new Map<string, Set<Subscription>>()
  readonly follows = new FollowIndex()
  /** Follow sets load one at a time (each holds the chain's lock for one bounded read). */
  private readonly loads = new Lock()
  private readonly readers = new Slots(REPLAY_READERS)

  /** The highest height committed, as announced. */
  private committed: number
  /** The highest height the worker has begun to deliver. */
  private frontier: number
  /** The highest height the worker has finished delivering. */
  private delivered: number
  private readonly held = new Map<number, { block: Block, hash: Hash }>()
  private working = false
  private closed = false
  private readonly unsubscribe: () => void

  constructor (private readonly ctx: RpcContext, private readonly log: Logger) {
    this.committed = this.frontier = this.delivered = ctx.chain.head.height
    this.unsubscribe = ctx.chain.events.onCommitted(({ checked }) => this.onCommitted(checked.block, checked.hash))
  }

  /** Stops following the chain; every subscription ends. */
  close (): void {
    this.closed = true
    this.unsubscribe()
    this.held.clear()
    for (const sub of [...this.subs.values()]) this.remove(sub)
  }

  /** What the hub holds, and how many committed blocks it has still to deliver, for stats and tests. */
  stats (): { subscriptions: number, followers: number, followEntries: number, heldBlocks: number, behind: number } {
    return { subscriptions: this.subs.size, followers: this.follows.size, followEntries: this.follows.entryCount, heldBlocks: this.held.size, behind: this.committed - this.delivered }
  }

  /**
   * Registers a subscription, not yet delivering: send its id, then `start` it.
   * A followedBy subscription whose follower is not tracked yet loads its follow set
   * first, under the chain's lock (so it is the state at one height); a load past the
   * index's bound throws BUSY.
   */
  async add (filter: Filter, after: Position | null, sink: SubscriptionSink): Promise<Subscription> {
    if (this.closed) throw new Error('the subscription hub is closed')
    const follower = filter.topic === 'posts' && filter.followedBy !== null ? filter.followedBy : null
    if (follower === null || this.follows.tracks(toHex(follower))) return this.register(filter, after, sink)
    return await this.loads.run(async () => await this.ctx.chain.lock.run(async () => {
      const key = toHex(follower)
      if (!this.follows.tracks(key)) {
        const rows = await this.ctx.chain.store.range(Bucket.following, { ...prefixRange(follower), limit: this.follows.perFollower })
        this.follows.load(key, rows.map(([k]) => toHex(k.subarray(follower.length))), this.ctx.chain.head.height)
      }
      return this.register(filter, after, sink)
    }))
  }

  private register (filter: Filter, after: Position | null, sink: SubscriptionSink): Subscription {
    const sub = new Subscription(`0x${(this.next++).toString(16)}`, filter, sink, after, this.ctx.chain.head.height)
    this.subs.set(sub.id, sub)
    if (filter.topic === 'newHeads') this.newHeads.add(sub)
    else if (filter.topic === 'txStatus') addTo(this.byTx, filter.id, sub)
    else if (filter.author !== null) addTo(this.byAuthor, sub.key!, sub)
    else if (filter.followedBy !== null) {
      addTo(this.byFollower, sub.key!, sub)
      this.follows.retain(sub.key!)
    } else this.allPosts.add(sub)
    return sub
  }

  /** Begins delivery to `sub`: its replay, if any, then live events. Returns at once. */
  start (sub: Subscription): void {
    const run = sub.filter.topic === 'txStatus' ? this.settled(sub, sub.filter.id) : this.catchUp(sub)
    run.catch((e: unknown) => {
      if (!this.closed) this.log.error('A subscription replay failed', { subscription: sub.id, error: (e as Error).message })
    })
  }

  /** Ends `sub`; false if it had already ended. */
  remove (sub: Subscription): boolean {
    if (sub.closed) return false
    sub.closed = true
    this.subs.delete(sub.id)
    const f = sub.filter
    if (f.topic === 'newHeads') this.newHeads.delete(sub)
    else if (f.topic === 'txStatus') removeFrom(this.byTx, f.id, sub)
    else if (f.author !== null) removeFrom(this.byAuthor, sub.key!, sub)
    else if (f.followedBy !== null) {
      removeFrom(this.byFollower, sub.key!, sub)
      this.follows.release(sub.key!)
    } else this.allPosts.delete(sub)
    return true
  }

  // --- live delivery -------------------------------------------------------

  /** Inside the chain's commit lock: O(1), no await. */
  private onCommitted (block: Block, hash: Hash): void {
    if (this.closed) return
    const height = block.header.height
    this.committed = height
    if (this.subs.size > 0 && this.held.size < MAX_HELD_BLOCKS) this.held.set(height, { block, hash })
    if (!this.working) {
      this.working = true
      setImmediate(() => { void this.work() }) // not in the commit's turn: the lock holder returns at once
    }
  }

  private async work (): Promise<void> {
    try {
      while (!this.closed && this.frontier < this.committed) {
        if (this.subs.size === 0) { // nobody to tell: nothing to read
          this.frontier = this.delivered = this.committed
          this.held.clear()
          break
        }
        const height = ++this.frontier
        const held = this.held.get(height)
        this.held.delete(height)
        try {
          const block = held?.block ?? await this.ctx.chain.getBlock(height)
          if (block !== null) await this.deliverBlock(block, held?.hash ?? blockHash(block.header), height)
        } catch (e) {
          if (!this.closed) this.log.error('Delivering a block to subscribers failed', { height, error: (e as Error).message })
        }
        this.delivered = height
      }
    } finally {
      this.working = false
    }
  }

  private async deliverBlock (block: Block, hash: Hash, height: number): Promise<void> {
    const budget = { left: CHECK_EVERY, until: performance.now() + SLICE_MS }
    if (this.newHeads.size > 0) await this.fanOut([this.newHeads], height, 0, headEvent(block, hash, height), budget)
    const watchTxs = this.byTx.size > 0
    const watchPosts = this.allPosts.size > 0 || this.byAuthor.size > 0 || this.byFollower.size > 0
    if (!watchTxs && !watchPosts) return
    // one pass over the txs, in order: follow changes apply before the posts after them
    const due: Array<{ index: number, groups: Array<ReadonlySet<Subscription>>, post: Hash | null, event: Rendered | null }> = []
    for (const [index, tx] of block.txs.entries()) {
      if (watchTxs) {
        const id = toHex(tx.id)
        const subs = this.byTx.get(id)
        if (subs !== undefined) due.push({ index, groups: [subs], post: null, event: txEvent(id, height, index) })
      }
      if (!watchPosts) continue
      const body = tx.unsigned.body
      if (body.kind === 'post') {
        const groups = this.postGroups(toHex(tx.unsigned.sender))
        if (groups.length > 0) due.push({ index, groups, post: tx.id, event: null })
      } else if ((body.kind === 'follow' || body.kind === 'unfollow') && this.follows.size > 0) {
        this.follows.apply(toHex(tx.unsigned.sender), body.kind === 'follow', toHex(body.target), height)
      }
    }
    const posts = await Promise.all(due.map(async (d) => d.post === null ? null : await this.ctx.queries.post(d.post)))
    for (const [k, d] of due.entries()) {
      const post = posts[k]
      const event = d.event ?? (post === null || post === undefined ? null : render(`${height}:${d.index}`, { ...this.ctx.views.post(d.post!, post), eventId: `${height}:${d.index}` }))
      if (event === null) continue
      const delivered: Subscription[] = []
      await this.fanOut(d.groups, height, d.index, event, budget, d.post === null ? delivered : undefined)
      for (const sub of delivered) this.end(sub) // a txStatus is told once
    }
  }

  /** The subscriber groups a post by `author` goes to: all posts, by author, by each tracked follower of the author. */
  private postGroups (author: string): Array<ReadonlySet<Subscription>> {
    const groups: Array<ReadonlySet<Subscription>> = []
    if (this.allPosts.size > 0) groups.push(this.allPosts)
    const byAuthor = this.byAuthor.get(author)
    if (byAuthor !== undefined) groups.push(byAuthor)
    for (const follower of this.follows.followersOf(author) ?? []) {
      const subs = this.byFollower.get(follower)
      if (subs !== undefined) groups.push(subs)
    }
    return groups
  }

  /** Delivers `event` to the live subscriptions in `groups` (adding them to `delivered`, if given). */
  private async fanOut (groups: Array<ReadonlySet<Subscription>>, height: number, index: number, event: Rendered, budget: Slice, delivered?: Subscription[]): Promise<void> {
    for (const group of groups) {
      for (const sub of group) {
        if (!sub.live || height <= sub.liveFrom || !this.deliver(sub, height, index, event)) continue
        delivered?.push(sub)
        if (--budget.left <= 0) {
          budget.left = CHECK_EVERY
          if (performance.now() > budget.until) {
            await nextTurn()
            budget.until = performance.now() + SLICE_MS
          }
        }
      }
    }
  }

  /** Queues `event` for `sub` if it comes after the last one it was sent. */
  private deliver (sub: Subscription, height: number, index: number, event: Rendered): boolean {
    if (sub.closed || !sub.awaits(height, index)) return false
    sub.lastHeight = height
    sub.lastIndex = index
    sub.sink.notify(sub, sub.envelope + event.json + '}}', sub.envelope.length + event.bytes + 2, event.eventId)
    return true
  }

  private end (sub: Subscription): void {
    if (this.remove(sub)) sub.sink.ended(sub)
  }

  // --- replay --------------------------------------------------------------

  /** Replays blocks from the store until it reaches the worker, then goes live (one synchronous step). */
  private async catchUp (sub: Subscription): Promise<void> {
    for (;;) {
      if (sub.closed || this.closed) return
      if (sub.covered >= this.frontier) {
        sub.live = true
        sub.liveFrom = this.frontier
        return
      }
      const height = sub.covered + 1
      const release = await this.readers.take()
      let events: Array<[number, Rendered]>
      try {
        const block = sub.closed ? null : await this.ctx.chain.getBlock(height)
        events = block === null ? [] : await this.eventsFor(sub, block, height)
      } finally {
        release()
      }
      for (const [index, event] of events) {
        await sub.sink.ready() // a block's events can outweigh the connection's bound: one at a time
        if (sub.closed) return
        this.deliver(sub, height, index, event)
      }
      sub.covered = height
    }
  }

  /** `sub`'s events in a stored block (a followedBy matches against its follow set as it is now). */
  private async eventsFor (sub: Subscription, block: Block, height: number): Promise<Array<[number, Rendered]>> {
    const f = sub.filter
    if (f.topic === 'newHeads') return [[0, headEvent(block, blockHash(block.header), height)]]
    if (f.topic !== 'posts') return []
    const out: Array<[number, Rendered]> = []
    for (const [index, tx] of block.txs.entries()) {
      if (tx.unsigned.body.kind !== 'post' || !sub.awaits(height, index)) continue
      if (sub.key !== null) {
        const author = toHex(tx.unsigned.sender)
        if (f.author !== null ? author !== sub.key : !this.follows.has(sub.key, author)) continue
      }
      const post = await this.ctx.queries.post(tx.id)
      if (post !== null) out.push([index, render(`${height}:${index}`, { ...this.ctx.views.post(tx.id, post), eventId: `${height}:${index}` })])
    }
    return out
  }

  /** A txStatus: live from now; if the tx is already in a block the worker has passed, told at once. */
  private async settled (sub: Subscription, id: string): Promise<void> {
    sub.live = true
    sub.liveFrom = this.frontier
    const at = await this.ctx.chain.txLocation(Buffer.from(id, 'hex'))
    if (at === null || sub.closed || at.height > sub.liveFrom) return // still to come: the worker tells it
    if (this.deliver(sub, at.height, at.index, txEvent(id, at.height, at.index))) this.end(sub)
  }
}

function headEvent (block: Block, hash: Hash, height: number): Rendered {
  const h = block.header
  return render(`${height}:0`, { eventId: `${height}:0`, height, hash: toHex(hash), timeMs: h.timeMs, stateRoot: toHex(h.stateRoot), txs: block.txs.length })
}

function txEvent (id: string, height: number, index: number): Rendered {
  return render(`${height}:${index}`, { eventId: `${height}:${index}`, txId: id, status: 'included', height, index })
}

function addTo<K> (index: Map<K, Set<Subscription>>, key: K, sub: Subscription): void {
  let set = index.get(key)
  if (set === undefined) {
    set = new Set()
    index.set(key, set)
  }
  set.add(sub)
}

function removeFrom<K> (index: Map<K, Set<Subscription>>, key: K, sub: Subscription): void {
  const set = index.get(key)
  if (set === undefined) return
  set.delete(sub)
  if (set.size === 0) index.delete(key)
}
