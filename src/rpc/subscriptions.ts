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
 */
import { toHex } from '../crypto/bytes.ts'
import { ErrorCode } from '../protocol/errors.ts'
import type { Block, PublicKey } from '../protocol/types.ts'
import { blockHash } from '../codec/block.ts'
import { Bucket } from '../state/buckets.ts'
import { pairKey } from '../state/keys.ts'
import type { RpcContext } from './context.ts'
import { invalidParams } from './errors.ts'
import { account, type Params } from './params.ts'
import type { Json } from './views.ts'

export const TOPICS = ['newHeads', 'posts', 'txStatus'] as const
export type Topic = typeof TOPICS[number]
export const MAX_REPLAY_BLOCKS = 1000

type Filter =
  | { topic: 'newHeads' }
  | { topic: 'posts', author: PublicKey | null, followedBy: PublicKey | null }
  | { topic: 'txStatus', id: string }

export interface Subscription { id: string, filter: Filter, after: [number, number] | null, send: (event: Json) => void }

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

/** Fans each committed block out to the matching subscriptions. */
export class SubscriptionHub {
  private readonly subs = new Map<string, Subscription>()
  private next = 1
  /** Catch-ups and new blocks are delivered one after another, so each subscriber sees events in order. */
  private queue: Promise<void> = Promise.resolve()

  private serial (task: () => Promise<void>): Promise<void> {
    this.queue = this.queue.then(task).catch(() => undefined)
    return this.queue
  }

  /** Stops following the chain's commits. */
  readonly close: () => void

  constructor (private readonly ctx: RpcContext) {
    this.close = ctx.chain.events.onCommitted(({ checked }) => { void this.onBlock(checked.block) })
  }

  add (filter: Filter, after: [number, number] | null, send: (event: Json) => void): Subscription {
    const sub: Subscription = { id: `0x${(this.next++).toString(16)}`, filter, after, send }
    this.subs.set(sub.id, sub)
    return sub
  }

  remove (id: string): boolean { return this.subs.delete(id) }

  /** Replays what a new subscription missed (fromEventId), and a txStatus already settled. */
  async catchUp (sub: Subscription): Promise<void> { await this.serial(async () => await this.replay(sub)) }

  private async replay (sub: Subscription): Promise<void> {
    const head = this.ctx.chain.head.height
    if (sub.filter.topic === 'txStatus') {
      const at = await this.ctx.chain.txLocation(Buffer.from(sub.filter.id, 'hex'))
      if (at !== null) await this.deliver(sub, (await this.ctx.chain.getBlock(at.height))!, at.height)
      return
    }
    if (sub.after === null) return
    for (let h = Math.max(sub.after[0], head - MAX_REPLAY_BLOCKS, 1); h <= head; h++) {
      const block = await this.ctx.chain.getBlock(h)
      if (block !== null) await this.deliver(sub, block, h)
    }
  }

  private async onBlock (block: Block): Promise<void> {
    await this.serial(async () => { for (const sub of [...this.subs.values()]) await this.deliver(sub, block, block.header.height) })
  }

  private async deliver (sub: Subscription, block: Block, height: number): Promise<void> {
    const isAfter = (index: number) => sub.after === null || height > sub.after[0] || (height === sub.after[0] && index > sub.after[1])
    const f = sub.filter
    if (f.topic === 'newHeads') {
      if (isAfter(0)) {
        const h = block.header
        sub.send({ eventId: `${height}:0`, height, hash: toHex(blockHash(h)), timeMs: h.timeMs, stateRoot: toHex(h.stateRoot), txs: block.txs.length })
      }
    } else if (f.topic === 'txStatus') {
      const index = block.txs.findIndex((t) => toHex(t.id) === f.id)
      if (index >= 0) {
        sub.send({ eventId: `${height}:${index}`, txId: f.id, status: 'included', height, index })
        this.remove(sub.id)
      }
    } else {
      for (const [index, tx] of block.txs.entries()) {
        if (tx.unsigned.body.kind !== 'post' || !isAfter(index)) continue
        const author = tx.unsigned.sender
        if (f.author !== null && toHex(f.author) !== toHex(author)) continue
        if (f.followedBy !== null && await this.ctx.chain.store.get(Bucket.following, pairKey(f.followedBy, author)) === undefined) continue
        const post = await this.ctx.queries.post(tx.id)
        if (post !== null) sub.send({ ...this.ctx.views.post(tx.id, post), eventId: `${height}:${index}` })
      }
    }
    if (sub.after !== null && height >= sub.after[0]) sub.after = null // caught up: live from here
  }
}
