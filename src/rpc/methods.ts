/**
 * Every JSON-RPC method (DESIGN §9): its params in positional order, a line
 * for the OpenRPC document, and its handler. Names and fields are a public
 * contract: add, never rename.
 */
import { blockHash } from '../codec/block.ts'
import { toHex } from '../crypto/bytes.ts'
import { ChorusError, ErrorCode } from '../protocol/errors.ts'
import { Bucket } from '../state/buckets.ts'
import type { PostRef } from '../state/queries.ts'
import type { RpcContext } from './context.ts'
import { invalidParams } from './errors.ts'
import { type Params, account, hex, limit, namedParams, optStr } from './params.ts'
import type { Json } from './views.ts'

export interface Method {
  params: readonly string[]
  summary: string
  /** `signal` aborts when the caller has gone or the call's time is up: long work checks it and stops. */
  run: (ctx: RpcContext, p: Params, signal: AbortSignal) => Promise<Json>
}

/** Throws once the call is abandoned (its caller gone, or its time up), so its work stops there. */
export function stopIfAbandoned (signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw new ChorusError(ErrorCode.TIMEOUT, 'the call was abandoned: its caller left or its time ran out')
}

const notFound = (what: string): ChorusError => new ChorusError(ErrorCode.NOT_FOUND, `${what} not found`)

async function postsPage (ctx: RpcContext, page: { items: PostRef[], cursor: string | null }): Promise<Json> {
  return { items: page.items.map((r) => ctx.views.post(r.id, r.post)), cursor: page.cursor }
}

async function accountsPage (ctx: RpcContext, page: { items: Uint8Array[], cursor: string | null }): Promise<Json> {
  const items: Json[] = []
  for (const a of page.items) items.push(ctx.views.profileSummary(a, await ctx.queries.account(a)))
  return { items, cursor: page.cursor }
}

async function blockRef (ctx: RpcContext, p: Params): Promise<number> {
  const v = p.heightOrHash
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v
  if (typeof v === 'string' && /^[0-9]{1,15}$/.test(v)) return Number(v)
  if (typeof v === 'string') {
    const h = await ctx.chain.heightOfHash(hex(p, 'heightOrHash', 32))
    if (h === null) throw notFound('block')
    return h
  }
  throw invalidParams('heightOrHash must be a height or a block hash')
}

export const methods: Record<string, Method> = {
  chain_getHead: {
    params: [],
    summary: 'The latest committed block: height, hash, timeMs, stateRoot.',
    run: async (ctx) => ctx.views.head(ctx.chain.head)
  },
  chain_getBlock: {
    params: ['heightOrHash', 'options'],
    summary: 'A block by height or hash: header, tx ids (full txs with {full: true}), its parent\'s commit and its own.',
    run: async (ctx, p, signal) => {
      const height = await blockRef(ctx, p)
      const block = height === 0 ? null : await ctx.chain.getBlock(height)
      if (block === null) throw notFound(`block ${height}`)
      stopIfAbandoned(signal) // rendering a full block is the costly part
      const full = typeof p.options === 'object' && p.options !== null && (p.options as { full?: unknown }).full === true
      return ctx.views.block(blockHash(block.header), block, await ctx.chain.getCommit(height), full)
    }
  },
  chain_getParams: {
    params: [],
    summary: 'The chain id, address prefix and genesis parameters (what a client needs to build and price a tx).',
    run: async (ctx) => {
      const g = ctx.chain.genesis
      const params = Object.fromEntries(Object.entries(g.params).map(([k, v]) => [k, typeof v === 'bigint' ? v.toString() : v])) as Json
      return { chainId: g.chainId, addressPrefix: g.addressPrefix, genesisTimeMs: g.genesisTimeMs, params }
    }
  },
  tx_submit: {
    params: ['signedTxHex', 'options'],
    summary: 'Submits a signed tx. Returns {id} once in the mempool, or with {wait: "commit"} {id, height, index} once included.',
    run: async (ctx, p): Promise<Json> => {
      const bytes = hex(p, 'signedTxHex')
      const opts = (p.options ?? {}) as { wait?: unknown }
      if (typeof opts !== 'object' || (opts.wait !== undefined && opts.wait !== 'commit' && opts.wait !== 'mempool')) throw invalidParams('options.wait must be "commit" or "mempool"')
      const tx = await ctx.pool.submit(bytes)
      const id = toHex(tx.id)
      if (opts.wait !== 'commit') return { id }
      const at = await ctx.waitForInclusion(tx.id, ctx.commitWaitMs)
      return { id, height: at.height, index: at.index }
    }
  },
  tx_get: {
    params: ['id'],
    summary: 'A tx and its status: pending, included (height, index) or unknown.',
    run: async (ctx, p): Promise<Json> => {
      const id = hex(p, 'id', 32)
      const pending = ctx.pool.mempool.get(id)
      if (pending !== undefined) return { status: 'pending', tx: ctx.views.tx(pending) }
      const at = await ctx.chain.txLocation(id)
      if (at === null) return { status: 'unknown', id: toHex(id) }
      // one tx read out of the stored block, not the whole block decoded (a block may be 2 MiB)
      const tx = await ctx.chain.getTx(at.height, at.index)
      return { status: 'included', height: at.height, index: at.index, tx: ctx.views.tx(tx!) }
    }
  },
  account_get: {
    params: ['address'],
    summary: 'Balance, next nonce, stake (and unbonding, and pendingNonce counting the mempool).',
    run: async (ctx, p) => {
      const a = await account(ctx, p, 'address')
      return ctx.views.account(a, await ctx.queries.account(a), ctx.pool.mempool.pendingFor(a).length)
    }
  },
  profile_get: {
    params: ['addressOrUsername'],
    summary: 'Profile fields, username and counters.',
    run: async (ctx, p) => {
      const a = await account(ctx, p, 'addressOrUsername')
      return ctx.views.profile(a, await ctx.queries.account(a))
    }
  },
  post_get: {
    params: ['id'],
    summary: 'A post with its author\'s profile summary and like, reply and repost counts.',
    run: async (ctx, p) => {
      const id = hex(p, 'id', 32)
      const post = await ctx.queries.post(id)
      if (post === null) throw notFound('post')
      return { ...ctx.views.post(id, post), authorProfile: ctx.views.profileSummary(post.author, await ctx.queries.account(post.author)) }
    }
  },
  post_listByAuthor: {
    params: ['address', 'cursor', 'limit'],
    summary: 'An author\'s posts, newest first.',
    run: async (ctx, p) => await postsPage(ctx, await ctx.queries.postsByAuthor(await account(ctx, p, 'address'), optStr(p, 'cursor'), limit(p)))
  },
  post_listReplies: {
    params: ['id', 'cursor', 'limit'],
    summary: 'Replies to a post, oldest first.',
    run: async (ctx, p) => await postsPage(ctx, await ctx.queries.replies(hex(p, 'id', 32), optStr(p, 'cursor'), limit(p)))
  },
  feed_get: {
    params: ['address', 'cursor', 'limit'],
    summary: 'Posts by the accounts an address follows, newest first.',
    run: async (ctx, p, signal) => await postsPage(ctx, await ctx.queries.feed(await account(ctx, p, 'address'), optStr(p, 'cursor'), limit(p), signal))
  },
  graph_getFollowers: {
    params: ['address', 'cursor', 'limit'],
    summary: 'Accounts following an address, with profile summaries.',
    run: async (ctx, p) => await accountsPage(ctx, await ctx.queries.pairs(Bucket.follower, await account(ctx, p, 'address'), optStr(p, 'cursor'), limit(p)))
  },
  graph_getFollowing: {
    params: ['address', 'cursor', 'limit'],
    summary: 'Accounts an address follows, with profile summaries.',
    run: async (ctx, p) => await accountsPage(ctx, await ctx.queries.pairs(Bucket.following, await account(ctx, p, 'address'), optStr(p, 'cursor'), limit(p)))
  },
  like_list: {
    params: ['postId', 'cursor', 'limit'],
    summary: 'Accounts that like a post, with profile summaries.',
    run: async (ctx, p) => await accountsPage(ctx, await ctx.queries.pairs(Bucket.like, hex(p, 'postId', 32), optStr(p, 'cursor'), limit(p)))
  },
  validator_list: {
    params: [],
    summary: 'The validators of the next height: address, stake, voting power and proposer priority.',
    run: async (ctx) => ctx.views.validators(ctx.chain.validators)
  },
  validator_getEvidence: {
    params: ['cursor', 'limit'],
    summary: 'Equivocations seen: two signed, conflicting proposals or votes by one validator at one height/round/step, in height order.',
    run: async (ctx, p) => {
      const page = await ctx.evidence.list(optStr(p, 'cursor'), limit(p))
      return { items: page.items.map((e) => ctx.views.evidence(e)), cursor: page.cursor }
    }
  },
  node_getStatus: {
    params: [],
    summary: 'version, chainId, height, syncing (and syncTarget while syncing), peerCount, peerId, listenAddrs (full multiaddrs ending in /p2p/<peerId>), this node\'s validator address, if any, and lastBlockAgeMs (how long ago the head block was made).',
    run: async (ctx) => ({ ...ctx.status() })
  },
  net_peers: {
    params: [],
    summary: 'Connected peers: {items: [{peerId, remoteAddr, direction (inbound or outbound), score (gossipsub score)}]}.',
    run: async (ctx) => ({ items: ctx.peers().map((p) => ({ peerId: p.peerId, remoteAddr: p.remoteAddr, direction: p.direction, score: p.score })) })
  }
}

/** Runs one call; params are checked here so handlers see names. */
export async function call (ctx: RpcContext, name: string, rawParams: unknown, signal: AbortSignal = new AbortController().signal): Promise<Json> {
  const m = methods[name]!
  const p = namedParams(rawParams, m.params)
  for (const k of Object.keys(p)) if (!m.params.includes(k)) throw invalidParams(`unknown param ${k}`)
  return await m.run(ctx, p, signal)
}
