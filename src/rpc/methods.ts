/**
 * Every JSON-RPC method (DESIGN §9): its params in positional order, each with
 * its JSON Schema (checked by params.ts before the handler runs), its result's
 * schema, a line for the OpenRPC document, and its handler. Names and fields are
 * a public contract: add, never rename. The schemas live in ./schema/; the
 * document (openrpc.ts) is generated from this table.
 */
import Type, { type TSchema } from 'typebox'
import { blockHash } from '../codec/block.ts'
import { toHex } from '../crypto/bytes.ts'
import { ChorusError, ErrorCode } from '../protocol/errors.ts'
import { Bucket } from '../state/buckets.ts'
import type { AccountRef, PostRef } from '../state/queries.ts'
import type { RpcContext } from './context.ts'
import { DEV_CHAIN_ID } from '../protocol/params.ts'
import { FAUCET_AMOUNT } from './faucet.ts'
import { mempoolPage, mempoolStatus } from './mempool-view.ts'
import { type Param, type Params, account, checkParams, hex, limit, optStr, optional, param } from './params.ts'
import * as R from '../api/results.ts'
import { AccountParam, BytesParam, Cursor, Hash32Param, Height, Limit } from '../api/values.ts'
import type { Json } from './views.ts'

export interface Method {
  params: readonly Param[]
  summary: string
  /** The result's schema (closed objects: a field it does not name fails the schema test). */
  result: TSchema
  /** Typed codes the method answers with beyond INVALID_PARAMS and the load codes (for the document). */
  errors: readonly ErrorCode[]
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

async function accountsPage (ctx: RpcContext, page: { items: AccountRef[], cursor: string | null }): Promise<Json> {
  return { items: page.items.map((r) => ctx.views.profileSummary(r.address, r.account)), cursor: page.cursor }
}

/** The viewer param's account, or null when none was given. */
async function viewerOf (ctx: RpcContext, p: Params): Promise<Uint8Array | null> {
  return p.viewer === undefined ? null : await account(ctx, p, 'viewer')
}

async function blockRef (ctx: RpcContext, p: Params): Promise<number> {
  const v = p.heightOrHash
  if (typeof v === 'number') return v
  if (typeof v === 'string' && /^[0-9]{1,15}$/.test(v)) return Number(v)
  const h = await ctx.chain.heightOfHash(hex(p, 'heightOrHash'))
  if (h === null) throw notFound('block')
  return h
}

// ---- params shared by several methods

const address = param('address', AccountParam, { code: ErrorCode.INVALID_ADDRESS })
const cursor = optional('cursor', Cursor, { code: ErrorCode.INVALID_CURSOR })
const pageSize = optional('limit', Limit, { description: 'default 20' })
const hash32 = (name: string) => param(name, Hash32Param, { code: ErrorCode.MALFORMED })
const HeightOrHash = Type.Union([
  Height,
  Type.String({ pattern: '^[0-9]{1,15}$' }),
  Hash32Param
], { description: 'a height (a number, or digits in a string) or a block hash in hex' })
const viewer = optional('viewer', AccountParam, { code: ErrorCode.INVALID_ADDRESS, description: 'an address or @username to answer for (what it follows or likes)' })
const lists: readonly ErrorCode[] = [ErrorCode.INVALID_CURSOR]
const byAccount: readonly ErrorCode[] = [ErrorCode.INVALID_ADDRESS, ErrorCode.NOT_FOUND]

export const methods: Record<string, Method> = {
  chain_getHead: {
    params: [],
    summary: 'The latest committed block: height, hash, timeMs, stateRoot.',
    result: R.Head,
    errors: [],
    run: async (ctx) => ctx.views.head(ctx.chain.head)
  },
  chain_getBlock: {
    params: [
      param('heightOrHash', HeightOrHash, { code: ErrorCode.MALFORMED }),
      optional('options', Type.Object({ full: Type.Optional(Type.Boolean({ description: 'true or false' })) }, { description: 'an object {full?: boolean}' }))
    ],
    summary: 'A block by height or hash: header, tx ids (full txs with {full: true}), its parent\'s commit and its own.',
    result: R.Block,
    errors: [ErrorCode.MALFORMED, ErrorCode.NOT_FOUND],
    run: async (ctx, p, signal) => {
      const height = await blockRef(ctx, p)
      const full = (p.options as { full?: boolean } | undefined)?.full === true
      // without full, the txs' ids are hashed from their bytes and nothing else is decoded
      const block = height === 0 ? null : full ? await ctx.chain.getBlock(height) : await ctx.chain.getBlockTxIds(height)
      if (block === null) throw notFound(`block ${height}`)
      stopIfAbandoned(signal) // rendering a full block is the costly part
      return ctx.views.block(blockHash(block.header), block, await ctx.chain.getCommit(height))
    }
  },
  chain_getParams: {
    params: [],
    summary: 'The chain id, address prefix and genesis parameters (what a client needs to build and price a tx).',
    result: R.ChainParams,
    errors: [],
    run: async (ctx) => {
      const g = ctx.chain.genesis
      const params = Object.fromEntries(Object.entries(g.params).map(([k, v]) => [k, typeof v === 'bigint' ? v.toString() : v])) as Json
      return { chainId: g.chainId, addressPrefix: g.addressPrefix, genesisTimeMs: g.genesisTimeMs, params }
    }
  },
  tx_submit: {
    params: [
      param('signedTxHex', BytesParam, { code: ErrorCode.MALFORMED }),
      optional('options', Type.Object({
        wait: Type.Optional(Type.Union([Type.Literal('commit'), Type.Literal('mempool')], { description: '"commit" or "mempool"' }))
      }, { description: 'an object {wait?: "commit" | "mempool"}' }))
    ],
    summary: 'Submits a signed tx. Returns {id} once in the mempool, or with {wait: "commit"} {id, height, index} once included.',
    result: R.TxSubmitted,
    errors: [
      ErrorCode.MALFORMED, ErrorCode.NON_CANONICAL, ErrorCode.UNKNOWN_VERSION, ErrorCode.UNKNOWN_KIND, ErrorCode.TOO_LARGE,
      ErrorCode.BAD_SIGNATURE, ErrorCode.WRONG_CHAIN, ErrorCode.BAD_NONCE, ErrorCode.FEE_TOO_LOW, ErrorCode.INSUFFICIENT_FUNDS,
      ErrorCode.INSUFFICIENT_STAKE, ErrorCode.INVALID_AMOUNT, ErrorCode.INVALID_FIELD, ErrorCode.INVALID_USERNAME,
      ErrorCode.USERNAME_TAKEN, ErrorCode.NOT_FOUND, ErrorCode.SELF_FOLLOW, ErrorCode.ALREADY_FOLLOWING, ErrorCode.NOT_FOLLOWING,
      ErrorCode.ALREADY_LIKED, ErrorCode.NOT_LIKED, ErrorCode.ALREADY_KNOWN, ErrorCode.MEMPOOL_FULL
    ],
    run: async (ctx, p): Promise<Json> => {
      const tx = await ctx.pool.submit(hex(p, 'signedTxHex'))
      const id = toHex(tx.id)
      if ((p.options as { wait?: string } | undefined)?.wait !== 'commit') return { id }
      const at = await ctx.waitForInclusion(tx.id, ctx.commitWaitMs)
      return { id, height: at.height, index: at.index }
    }
  },
  tx_get: {
    params: [hash32('id')],
    summary: 'A tx and its status: pending, included (height, index) or unknown.',
    result: R.TxStatus,
    errors: [ErrorCode.MALFORMED],
    run: async (ctx, p): Promise<Json> => {
      const id = hex(p, 'id')
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
    params: [address],
    summary: 'Balance, next nonce, stake (and unbonding, and pendingNonce counting the mempool).',
    result: R.Account,
    errors: byAccount,
    run: async (ctx, p) => {
      const a = await account(ctx, p, 'address')
      return ctx.views.account(a, await ctx.queries.account(a), ctx.pool.mempool.pendingFor(a).length)
    }
  },
  profile_get: {
    params: [param('addressOrUsername', AccountParam, { code: ErrorCode.INVALID_ADDRESS }), viewer],
    summary: 'Profile fields, username and counters; with a viewer, also whether the viewer follows this account and it the viewer.',
    result: R.Profile,
    errors: byAccount,
    run: async (ctx, p) => {
      const a = await account(ctx, p, 'addressOrUsername')
      const profile = ctx.views.profile(a, await ctx.queries.account(a))
      const v = await viewerOf(ctx, p)
      if (v === null) return profile
      return { ...profile, viewer: { following: await ctx.queries.follows(v, a), followedBy: await ctx.queries.follows(a, v) } }
    }
  },
  post_get: {
    params: [hash32('id'), viewer],
    summary: 'A post with its author\'s profile summary and like, reply and repost counts; with a viewer, also whether the viewer likes it.',
    result: R.PostWithAuthor,
    errors: [ErrorCode.MALFORMED, ErrorCode.NOT_FOUND, ErrorCode.INVALID_ADDRESS],
    run: async (ctx, p) => {
      const id = hex(p, 'id')
      const post = await ctx.queries.post(id)
      if (post === null) throw notFound('post')
      const withAuthor = { ...ctx.views.post(id, post), authorProfile: ctx.views.profileSummary(post.author, await ctx.queries.account(post.author)) }
      const v = await viewerOf(ctx, p)
      return v === null ? withAuthor : { ...withAuthor, viewer: { liked: await ctx.queries.likes(v, id) } }
    }
  },
  post_listRecent: {
    params: [cursor, pageSize],
    summary: 'Every post on the chain, newest first.',
    result: R.Page(R.Post, 'a page of posts, newest first'),
    errors: lists,
    run: async (ctx, p) => await postsPage(ctx, await ctx.queries.recentPosts(optStr(p, 'cursor'), limit(p)))
  },
  post_listByAuthor: {
    params: [address, cursor, pageSize],
    summary: 'An author\'s posts, newest first.',
    result: R.Page(R.Post, 'a page of posts, newest first'),
    errors: [...byAccount, ...lists],
    run: async (ctx, p) => await postsPage(ctx, await ctx.queries.postsByAuthor(await account(ctx, p, 'address'), optStr(p, 'cursor'), limit(p)))
  },
  post_listReplies: {
    params: [hash32('id'), cursor, pageSize],
    summary: 'Replies to a post, oldest first.',
    result: R.Page(R.Post, 'a page of replies, oldest first'),
    errors: [ErrorCode.MALFORMED, ...lists],
    run: async (ctx, p) => await postsPage(ctx, await ctx.queries.replies(hex(p, 'id'), optStr(p, 'cursor'), limit(p)))
  },
  feed_get: {
    params: [address, cursor, pageSize],
    summary: 'Posts by the accounts an address follows, newest first.',
    result: R.Page(R.Post, 'a page of posts, newest first'),
    errors: [...byAccount, ...lists],
    run: async (ctx, p, signal) => await postsPage(ctx, await ctx.feeds.home(await account(ctx, p, 'address'), optStr(p, 'cursor'), limit(p), signal))
  },
  graph_getFollowers: {
    params: [address, cursor, pageSize],
    summary: 'Accounts following an address, with profile summaries.',
    result: R.Page(R.ProfileSummary, 'a page of followers'),
    errors: [...byAccount, ...lists],
    run: async (ctx, p) => await accountsPage(ctx, await ctx.queries.pairs(Bucket.follower, await account(ctx, p, 'address'), optStr(p, 'cursor'), limit(p)))
  },
  graph_getFollowing: {
    params: [address, cursor, pageSize],
    summary: 'Accounts an address follows, with profile summaries.',
    result: R.Page(R.ProfileSummary, 'a page of followed accounts'),
    errors: [...byAccount, ...lists],
    run: async (ctx, p) => await accountsPage(ctx, await ctx.queries.pairs(Bucket.following, await account(ctx, p, 'address'), optStr(p, 'cursor'), limit(p)))
  },
  like_list: {
    params: [hash32('postId'), cursor, pageSize],
    summary: 'Accounts that like a post, with profile summaries.',
    result: R.Page(R.ProfileSummary, 'a page of likers'),
    errors: [ErrorCode.MALFORMED, ...lists],
    run: async (ctx, p) => await accountsPage(ctx, await ctx.queries.pairs(Bucket.like, hex(p, 'postId'), optStr(p, 'cursor'), limit(p)))
  },
  validator_list: {
    params: [],
    summary: 'The validators of the next height: address, stake, voting power and proposer priority.',
    result: Type.Array(R.Validator),
    errors: [],
    run: async (ctx) => ctx.views.validators(ctx.chain.validators)
  },
  validator_getEvidence: {
    params: [cursor, pageSize],
    summary: 'Equivocations seen: two signed, conflicting proposals or votes by one validator at one height/round/step, in height order.',
    result: R.Page(R.Evidence, 'a page of evidence, in height order'),
    errors: lists,
    run: async (ctx, p) => {
      const page = await ctx.evidence.list(optStr(p, 'cursor'), limit(p))
      return { items: page.items.map((e) => ctx.views.evidence(e)), cursor: page.cursor }
    }
  },
  node_getStatus: {
    params: [],
    summary: 'version, chainId, height, syncing (and syncTarget while syncing), peerCount, peerId, listenAddrs (full multiaddrs ending in /p2p/<peerId>), this node\'s validator address, if any, and lastBlockAgeMs (how long ago the head block was made).',
    result: R.NodeStatus,
    errors: [],
    run: async (ctx) => ({ ...ctx.status() })
  },
  net_peers: {
    params: [],
    summary: 'Connected peers: {items: [{peerId, remoteAddr, direction (inbound or outbound), score (gossipsub score)}]}.',
    result: R.Peers,
    errors: [],
    run: async (ctx) => ({ items: ctx.peers().map((p) => ({ peerId: p.peerId, remoteAddr: p.remoteAddr, direction: p.direction, score: p.score })) })
  },
  dev_faucet: {
    params: [address],
    summary: `On a dev chain (chain id ${DEV_CHAIN_ID}) whose node holds the dev key: sends ${FAUCET_AMOUNT} coins from the dev key to an address holding less, and answers once included. Elsewhere UNAVAILABLE.`,
    result: R.FaucetSent,
    errors: [ErrorCode.INVALID_ADDRESS, ErrorCode.NOT_FOUND, ErrorCode.UNAVAILABLE, ErrorCode.INVALID_AMOUNT, ErrorCode.TIMEOUT],
    run: async (ctx, p) => {
      if (ctx.faucet === null) throw new ChorusError(ErrorCode.UNAVAILABLE, `this node has no faucet: only a node of the dev chain (${DEV_CHAIN_ID}) that holds its dev key has one, unless started with --no-faucet`)
      return await ctx.faucet.send(ctx, await account(ctx, p, 'address'))
    }
  },
  mempool_status: {
    params: [],
    summary: 'The pending txs: count, encoded bytes, and fee per byte {min, median, max} (null when none are pending).',
    result: R.MempoolStatus,
    errors: [],
    run: async (ctx) => ({ ...mempoolStatus(ctx.pool.mempool) })
  },
  mempool_list: {
    params: [cursor, pageSize],
    summary: 'The pending txs, decoded as tx_get shows them: highest fee per byte first, then by id.',
    result: R.Page(R.Tx, 'a page of pending txs, highest fee per byte first'),
    errors: lists,
    run: async (ctx, p) => {
      const page = mempoolPage(ctx.pool.mempool, optStr(p, 'cursor'), limit(p))
      return { items: page.items.map((t) => ctx.views.tx(t)), cursor: page.cursor }
    }
  }
}

/** Runs one call; params are checked against the method's schemas here, so handlers see valid named params. */
export async function call (ctx: RpcContext, name: string, rawParams: unknown, signal: AbortSignal = new AbortController().signal): Promise<Json> {
  const m = methods[name]!
  return await m.run(ctx, checkParams(m.params, rawParams), signal)
}
