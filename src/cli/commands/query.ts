/** `chorus query …`: read the chain over JSON-RPC. */
import type { Command } from 'commander'
import { type Page, type PeerView, type PostView, type ProfileSummary, RpcClient, type TxView, type ValidatorView } from '../../client/rpc-client.ts'
import { action, describe, print } from '../output.ts'
import { limitOption, postIdOption, rpcOption } from './options.ts'

interface QueryOptions { rpc: string, json?: boolean, cursor?: string, limit?: number, full?: boolean, list?: boolean }

function postLine (p: PostView): string {
  const kind = p.repostOf !== null ? ` (repost of ${p.repostOf.slice(0, 12)}…)` : p.replyTo !== null ? ` (reply to ${p.replyTo.slice(0, 12)}…)` : ''
  return `${p.id}  h${p.height}  ${p.author}${kind}\n  ${p.text}\n  likes ${p.likeCount}  replies ${p.replyCount}  reposts ${p.repostCount}`
}

function pageText<T> (page: { items: T[], cursor: string | null }, line: (item: T) => string): string {
  const body = page.items.length === 0 ? '(none)' : page.items.map(line).join('\n')
  return page.cursor === null ? body : `${body}\nmore: --cursor ${page.cursor}`
}

function q (parent: Command, name: string, description: string, run: (rpc: RpcClient, args: string[], o: QueryOptions) => Promise<{ value: unknown, text?: () => string }>, paged = false): void {
  let c = parent.command(name).description(description)
    .addOption(rpcOption())
    .option('--json', 'print JSON')
  if (paged) c = c.option('--cursor <cursor>', 'continue from a previous page').option('--limit <n>', 'items per page (1-100)', limitOption, 20)
  c.action(action(async (...all: unknown[]) => {
    const cmd = all[all.length - 1] as Command
    const o = cmd.opts<QueryOptions>()
    const { value, text } = await run(new RpcClient(o.rpc), cmd.args, o)
    print(o, value, text ?? (() => describe(value)))
  }))
}

export function registerQuery (program: Command): void {
  const query = program.command('query').description('Read the chain: head, blocks, txs, accounts, profiles, posts, replies, feeds, the graph, ' +
    'validators, params, the mempool and the node (--rpc, or CHORUS_RPC)')
  q(query, 'head', 'The latest block', async (rpc) => ({ value: await rpc.getHead() }))
  q(query, 'block <heightOrHash>', 'A block by height or hash', async (rpc, [ref], o) => ({ value: await rpc.getBlock(/^[0-9]+$/.test(ref!) ? Number(ref) : ref!, o.full === true) }))
  query.commands.at(-1)!.option('--full', 'include whole transactions')
  q(query, 'tx <id>', 'A transaction and its status', async (rpc, [id]) => ({ value: await rpc.getTx(id!) }))
  q(query, 'account <address>', 'Balance, nonce and stake (address or @username)', async (rpc, [a]) => ({ value: await rpc.getAccount(a!) }))
  q(query, 'profile <address>', 'A profile (address or @username)', async (rpc, [a]) => ({ value: await rpc.getProfile(a!) }))
  q(query, 'post <id>', 'A post with its counts', async (rpc, [id]) => {
    const p = await rpc.getPost(id!)
    return { value: p, text: () => postLine(p) }
  })
  const who = (p: ProfileSummary) => p.username === null ? p.address : `@${p.username}  ${p.address}`
  /** A paged query: one positional argument, --cursor and --limit, one line (or three) per item. */
  const paged = <T>(name: string, description: string, fetchPage: (rpc: RpcClient, arg: string, cursor: string | null, limit?: number) => Promise<Page<T>>, line: (item: T) => string) =>
    q(query, name, description, async (rpc, [arg], o) => {
      const page = await fetchPage(rpc, arg!, o.cursor ?? null, o.limit)
      return { value: page, text: () => pageText(page, line) }
    }, true)
  paged('posts <address>', 'An author\'s posts, newest first', async (rpc, a, c, l) => await rpc.listPostsByAuthor(a, c, l), postLine)
  paged('feed <address>', 'Posts by the accounts an address follows, newest first', async (rpc, a, c, l) => await rpc.getFeed(a, c, l), postLine)
  paged('followers <address>', 'Accounts following an address', async (rpc, a, c, l) => await rpc.getFollowers(a, c, l), who)
  paged('following <address>', 'Accounts an address follows', async (rpc, a, c, l) => await rpc.getFollowing(a, c, l), who)
  paged('likes <postId>', 'Accounts that like a post', async (rpc, id, c, l) => await rpc.listLikes(id, c, l), who)
  paged('replies <postId>', 'Replies to a post, oldest first', async (rpc, id, c, l) => await rpc.listReplies(postIdOption(id), c, l), postLine)
  q(query, 'validators', 'The validator set: address, stake (voting power) and proposer priority', async (rpc) => {
    const vs = await rpc.listValidators()
    const line = (v: ValidatorView) => `${v.address}  stake ${v.stake}  priority ${v.proposerPriority}`
    return { value: vs, text: () => vs.length === 0 ? '(none)' : vs.map(line).join('\n') }
  })
  q(query, 'params', 'The chain id, address prefix and chain parameters (fees, limits, block time)', async (rpc) => ({ value: await rpc.getParams() }))
  q(query, 'mempool', 'The pending txs: how many, their bytes and fee per byte; with --list, the txs themselves (highest fee per byte first)', async (rpc, _a, o) => {
    if (o.list !== true) {
      const s = await rpc.getMempoolStatus()
      return { value: s, text: () => describe({ count: s.count, bytes: s.bytes, feePerByte: s.feePerByte ?? '(none pending)' }) }
    }
    const page = await rpc.listMempool(o.cursor ?? null, o.limit)
    const line = (t: TxView) => `${t.id}  ${t.kind}  ${t.sender}  nonce ${t.nonce}  fee ${t.fee}`
    return { value: page, text: () => pageText(page, line) }
  }, true)
  query.commands.at(-1)!.option('--list', 'list the pending txs (paged with --cursor and --limit) instead of the summary')
  q(query, 'status', 'The node: version, chain id, height, sync state, peers, peer id, listen addresses, validator', async (rpc) => {
    const s = await rpc.getStatus()
    const shown = {
      version: s.version, chainId: s.chainId, height: s.height, syncing: s.syncing, syncTarget: s.syncTarget ?? null,
      peerCount: s.peerCount, peerId: s.peerId, listenAddrs: s.listenAddrs, validator: s.validator
    }
    return { value: s, text: () => describe(shown) }
  })
  q(query, 'peers', 'The node\'s connected peers: peer id, remote address, direction, gossip score', async (rpc) => {
    const peers = await rpc.getPeers()
    const line = (p: PeerView) => `${p.peerId}  ${p.remoteAddr}  ${p.direction}  score ${p.score}`
    return { value: peers, text: () => peers.items.length === 0 ? '(no peers)' : peers.items.map(line).join('\n') }
  })
}
