/**
 * Reads at social scale (issue #11): grows a chain of the shape a social network has and,
 * at each decade of posts, measures the home feed beside the same run's profile_get, the
 * longest gap between blocks while the RPC serves reads at saturation, and the node's
 * memory before, during and after a read storm; with --compare, the committed write rate
 * with the timeline index on ÷ off.
 *   1. One `chorus start --dev` child (HOME and CHORUS_HOME in a temp dir, 1 s blocks).
 *      --accounts senders (default 2,000) are funded from the dev key and make two seed
 *      posts each (social-load.ts prepareSocial). Sender 0 is the reader: it follows
 *      --reader-follows accounts (default 1,000, or all the others if fewer; a uniform random sample of the others) and
 *      does nothing else. Every other sender follows --followers accounts (default 75),
 *      drawn from a Zipf law over the senders (weight 1/rank: a few are followed by most,
 *      most by few), so follows ≈ 75 × accounts.
 *   2. The load, signed ahead in slices as the lanes use it (between SIGN_LOW and SIGN_HIGH
 *      txs queued, never the whole run in memory) and submitted open loop in JSON-RPC
 *      batches of 50 on 8 lanes, each from its own loopback address (social-load.ts
 *      submitOpenLoop): first the follow graph (round robin over the senders), then of every
 *      100 txs ~93 posts by a Zipf-drawn author (weight 1/rank, capped at 4% of the posts so
 *      no sender meets the mempool's 256 pending txs a sender), ~5 likes of a recent
 *      committed post and ~2 more follows. Until --max-posts (default 1,000,000) posts are
 *      in the chain or --time-limit seconds (default 1200) have passed since the load began.
 *   3. At each decade of posts (10k, 100k, 1M, counted as tx_submit accepts them; and the posts
 *      reached when the load stops) the load pauses, the mempool drains and the node goes idle
 *      (under 0.25 cores over a second, up to 120 s: what the load left it, such as an index
 *      catching up, is not counted as the reads'; the wait is printed), so reads are measured
 *      alone (but in d); then:
 *      e. the node's VmRSS now ("before"; /proc), then sampled every 100 ms with VmHWM reset
 *         (abuse-measure.ts RssSampler) through a–d ("peak");
 *      a. a walk of the reader's feed (feed_get [address, cursor, 20]) 20 pages deep,
 *         following `cursor`, then --read-seconds (default 10) of single calls at 4 in flight,
 *         each page of the walk (the first, or a deep one by its cursor) drawn at random:
 *         p50/p99 of the first page, of the deep pages and of any page;
 *      b. feed_get, pages drawn as in a, at 16 in flight for --read-seconds: answers/s;
 *      c. profile_get of a random sender at 16 in flight for --read-seconds: answers/s,
 *         p50/p99 (the baseline each figure is printed beside);
 *      d. feed_get at --storm-in-flight (default 64) for --storm-seconds (default 15) while
 *         the load resumes at --storm-writes tx/s (default 200; 0: empty blocks): the longest
 *         stretch with no block, from the blocks' header times (chain_getBlock, read after
 *         the storm; abuse-measure.ts longestGap), and from their newHeads events' arrival;
 *      e. VmRSS --settle-seconds (default 10) after the storm ends ("after"), after ÷ before;
 *      f. the data dir (du -sb) ÷ the posts in the chain.
 *      Every request is one call (no batches) on a keep-alive connection of its own, from
 *      its own loopback address 127.0.0.(100 + k) (the node admits 32 units of RPC work in
 *      flight per IP, and a feed_get costs 4): only 127.0.0.x is ever addressed. A reply
 *      with an error is counted by its code and printed (after a refusal for load, BUSY or
 *      RATE_LIMITED, that worker backs off 10 ms, doubling to 160 ms while refused); only
 *      answers count towards a rate or a latency. Every feed page is checked: posts newest first (heights never rise), each
 *      by an account the reader follows, and no post twice in one walk; the bench fails if not.
 *      A page read again by its cursor while the load is paused should be the walk's page:
 *      pages that differ are counted and printed. A walk that ends (cursor null) before 20
 *      pages with fewer posts than the chain holds by the accounts the reader follows (the
 *      client counts them as their blocks are read) is walked again every 2 s for up to 30 s
 *      and the shortfall printed (an index behind the chain).
 *   4. --compare (after the reads; --compare-only: alone): the same load on two fresh dev
 *      nodes in turn, `chorus start --dev` and `chorus start --dev --no-timeline-index`:
 *      after the follow graph and --compare-warmup more txs (default 20,000), committed tx/s
 *      over the next --compare-window txs (default 100,000), from the block where the window
 *      starts to the block where it ends showing as the head (newHeads); the ratio on ÷ off.
 *      --compare-rounds N (default 1) runs N such pairs, the first node alternating (on, off;
 *      off, on; …), and reports each pair and the ratio of the medians (social-load.ts q).
 *   At the end, the issue's table: each figure of the last checkpoint beside its goal.
 *   npx tsx scripts/bench/reads.ts [--max-posts 1000000] [--time-limit 1200] [--accounts 2000]
 *     [--followers 75] [--reader-follows 1000] [--read-seconds 10] [--storm-seconds 15]
 *     [--storm-in-flight 64] [--storm-writes 200] [--settle-seconds 10] [--lanes 8] [--batch 50]
 *     [--compare | --compare-only] [--compare-warmup 20000] [--compare-window 100000] [--compare-rounds 1] [--node-arg ARG]... [--keep]
 * --node-arg ARG (repeatable) gives the nodes' `node` a flag (`--node-arg --cpu-prof`).
 * --keep leaves the temp dirs and the nodes' logs. Every child is SIGKILLed and the temp
 * dirs removed on exit, failure or signal.
 */
import { execFileSync } from 'node:child_process'
import { mkdtemp } from 'node:fs/promises'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { RpcClient } from '../../src/client/rpc-client.ts'
import * as b from '../../src/client/transactions.ts'
import { encodeAddress } from '../../src/crypto/address.ts'
import { parseHex } from '../../src/crypto/bytes.ts'
import type { TxBody } from '../../src/protocol/types.ts'
import { type GapResult, RssSampler, Tally, errorKey, longestGap, ownAgent, postRpc } from './abuse-measure.ts'
import { BACKOFF_MAX_MS, BACKOFF_MIN_MS, type BlockSeen, CLI, Children, HeadWatcher, type Lane, type LaneTx, type Proc, RETRYABLE, type Sender, type SocialSetup, SubmitStats, SEED_POSTS_PER_SENDER, cpuSeconds, devKey, flag, fmt, loadShape, makeLanes, memoryOf, now, prepareSocial, q, sleep, startDevNode, stopProc, submitOpenLoop, duBytes, flagValues, threadCpu } from './social-load.ts'

const USAGE = 'usage: reads.ts [--max-posts N] [--time-limit SECONDS] [--accounts N] [--followers N] [--reader-follows N] [--read-seconds S] [--storm-seconds S] [--storm-in-flight N] [--storm-writes TX/S] [--settle-seconds S] [--lanes N] [--batch N] [--compare | --compare-only] [--compare-warmup TXS] [--compare-window TXS] [--compare-rounds N] [--node-arg ARG]... [--keep]'
const num = (name: string, dflt: number): number => Number(flag(name) ?? dflt)
const MAX_POSTS = num('--max-posts', 1_000_000)
const TIME_LIMIT_S = num('--time-limit', 1200)
const ACCOUNTS = num('--accounts', 2000)
const FOLLOWERS = num('--followers', 75)
const READER_FOLLOWS = num('--reader-follows', Math.min(1000, ACCOUNTS - 1))
const READ_S = num('--read-seconds', 10)
const STORM_S = num('--storm-seconds', 15)
const STORM_IN_FLIGHT = num('--storm-in-flight', 64)
const STORM_WRITES = num('--storm-writes', 200)
const SETTLE_S = num('--settle-seconds', 10)
const COMPARE_WARMUP = num('--compare-warmup', 20_000)
const COMPARE_WINDOW = num('--compare-window', 100_000)
const COMPARE_ROUNDS = num('--compare-rounds', 1)
const COMPARE_ONLY = process.argv.includes('--compare-only')
const COMPARE = COMPARE_ONLY || process.argv.includes('--compare')
const KEEP = process.argv.includes('--keep')
const NODE_ARGS = flagValues('--node-arg')
const { lanes: LANES, batch: BATCH } = loadShape()
if (!(MAX_POSTS >= 1) || !(TIME_LIMIT_S > 0) || !(ACCOUNTS >= 10) || !(FOLLOWERS >= 1) || !(READER_FOLLOWS >= 1) || READER_FOLLOWS > ACCOUNTS - 1 ||
  !(READ_S > 0) || !(STORM_S > 0) || !(STORM_IN_FLIGHT >= 1) || STORM_IN_FLIGHT > 150 || !(STORM_WRITES >= 0) || !(SETTLE_S >= 0) ||
  !(COMPARE_WARMUP >= 0) || !(COMPARE_WINDOW >= 1) || !Number.isInteger(COMPARE_ROUNDS) || !(COMPARE_ROUNDS >= 1) || !(LANES >= 1) || !(BATCH >= 1)) throw new Error(USAGE)

/** Sign more when fewer than SIGN_LOW txs are queued in all lanes, up to SIGN_HIGH, SIGN_SLICE at a time between turns of the event loop. */
const SIGN_LOW = 10_000
const SIGN_HIGH = 20_000
const SIGN_SLICE = 500
const PROGRESS_MS = 30_000
/** After the follow graph: the shares of likes and follows among the txs (the rest are posts). */
const LIKE_SHARE = 0.05
const FOLLOW_SHARE = 0.02
/** No author writes more than this share of the posts (the mempool holds 256 pending txs a sender). */
const AUTHOR_CAP = 0.04
/** Likes point at one of the last RECENT posts seen committed. */
const RECENT = 20_000
const PAGE = 20
const WALK_PAGES = 20
/** Requests of the reads start from 127.0.0.(IP_BASE + k); the lanes use .10 on. */
const IP_BASE = 100
const REQUEST_TIMEOUT_MS = 30_000
/** Before the reads the node is let finish what the load left it: until it uses under IDLE_CORES over a second, up to IDLE_WAIT_MS. */
const IDLE_CORES = 0.25
const IDLE_WAIT_MS = 120_000
/** A walk shorter than the feed should be is tried again for this long (the index behind the chain). */
const SHORT_WAIT_MS = 30_000
const BLOCK_TIME_MS = 1000
const SEED = 11

const children = new Children(KEEP)

// ---------------------------------------------------------------- the shape: seeded draws

/** mulberry32: a small seeded PRNG in [0, 1), so both nodes of --compare get the same load. */
function seeded (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Draws ranks 0..n-1 with weight 1/(rank+1), each weight at most `cap` of the total. */
class Zipf {
  private readonly cdf: Float64Array

  constructor (n: number, private readonly rand: () => number, cap = 1) {
    const w = Array.from({ length: n }, (_, r) => 1 / (r + 1))
    const total = w.reduce((s, x) => s + x, 0)
    const capped = w.map((x) => Math.min(x, cap * total))
    this.cdf = new Float64Array(n)
    let acc = 0
    capped.forEach((x, i) => { this.cdf[i] = acc += x })
  }

  draw (): number {
    const x = this.rand() * this.cdf[this.cdf.length - 1]!
    let lo = 0
    let hi = this.cdf.length - 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (this.cdf[mid]! > x) hi = mid
      else lo = mid + 1
    }
    return lo
  }
}

/**
 * Whom each sender follows (sender indices): the reader (0) a uniform sample of READER_FOLLOWS
 * others, every other sender FOLLOWERS targets drawn by `targets` (rank r is sender r + 1),
 * never itself, the reader or one twice.
 */
function planGraph (n: number, targets: Zipf, rand: () => number): number[][] {
  const others = Array.from({ length: n - 1 }, (_, i) => i + 1)
  for (let i = others.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [others[i], others[j]] = [others[j]!, others[i]!]
  }
  const plan: number[][] = [others.slice(0, READER_FOLLOWS)]
  const want = Math.min(FOLLOWERS, n - 2)
  for (let s = 1; s < n; s++) {
    const mine = new Set<number>()
    for (let misses = 0; mine.size < want;) {
      const t = 1 + targets.draw()
      if (t !== s && !mine.has(t)) { mine.add(t); misses = 0; continue }
      // the Zipf head is taken: the rest from the tail, uniformly
      if (++misses > 50) {
        const u = 1 + Math.floor(rand() * (n - 1))
        if (u !== s) mine.add(u)
      }
    }
    plan.push([...mine])
  }
  return plan
}

// ---------------------------------------------------------------- the write load

type Kind = 'post' | 'follow' | 'like'
interface ReadsTx extends LaneTx { kind: Kind }

/**
 * The social load on one node: the follow graph, then posts, likes and follows; signed
 * ahead in slices, submitted by `run` until a condition holds (the lanes keep what is
 * left for the next run), and counted as the blocks are read.
 */
class Growth {
  readonly lanes: Array<Lane<ReadsTx>>
  readonly stats = new SubmitStats()
  /** Txs signed and not yet seen committed. */
  readonly pending = new Map<string, ReadsTx>()
  /** Posts in the chain by each sender (the seed posts too). */
  readonly postsBy: Int32Array
  posts: number
  follows = 0
  likes = 0
  /** Posts in the chain or accepted into the mempool (the seed posts, and this load's as tx_submit accepts them). */
  postsSent: number
  /** Txs of this load committed. */
  chainTxs = 0
  signed = 0
  readonly graphTxs: number
  /** Called with each block once its txs are counted. */
  onBlock: ((blk: BlockSeen) => void) | null = null
  private graphLeft: number
  private graphTurn = 0
  private readonly planAt: number[]
  private readonly followed: Array<Set<number>>
  private readonly recent: string[] = []
  private recentAt = 0
  private readonly liked = new Set<string>()
  private readonly rand = seeded(SEED + 1)
  private readonly authors: Zipf
  private readonly targets: Zipf
  private closed = false
  private readonly signer: Promise<void>

  constructor (readonly url: string, readonly setup: SocialSetup, readonly watcher: HeadWatcher, private readonly plan: number[][], targets: Zipf) {
    const n = setup.senders.length
    this.authors = new Zipf(n - 1, this.rand, AUTHOR_CAP)
    this.targets = targets
    this.posts = this.postsSent = setup.seedPosts.length
    this.graphTxs = this.graphLeft = plan.reduce((s, p) => s + p.length, 0)
    this.planAt = plan.map(() => 0)
    this.postsBy = new Int32Array(n).fill(SEED_POSTS_PER_SENDER)
    this.followed = plan.map((p) => new Set(p))
    this.lanes = makeLanes<ReadsTx>([url], LANES)
    watcher.onBlock = (blk, ids) => this.counted(blk, ids)
    this.signer = this.sign()
  }

  get queued (): number { return this.lanes.reduce((s, l) => s + l.queue.length, 0) }

  /** The reader and the accounts it follows. */
  get reader (): Sender { return this.setup.senders[0]! }
  get readerFollows (): number[] { return this.plan[0]! }
  /** Posts in the chain by the accounts the reader follows: its whole feed. */
  get readerFeed (): number { return this.readerFollows.reduce((sum, i) => sum + this.postsBy[i]!, 0) }

  private counted (blk: BlockSeen, ids: string[]): void {
    for (const id of ids) {
      const t = this.pending.get(id)
      if (t === undefined) continue
      this.pending.delete(id)
      this.chainTxs++
      if (t.kind === 'follow') this.follows++
      else if (t.kind === 'like') this.likes++
      else {
        this.posts++
        this.postsBy[t.sender.index]!++
        if (this.recent.length < RECENT) this.recent.push(id)
        else this.recent[this.recentAt++ % RECENT] = id
      }
    }
    this.onBlock?.(blk)
  }

  /** The next tx: the graph's follows in turn over the senders, then the mix. */
  private next (): { s: Sender, body: TxBody, kind: Kind } {
    const senders = this.setup.senders
    const n = senders.length
    if (this.graphLeft > 0) {
      for (;;) {
        const i = this.graphTurn++ % n
        if (this.planAt[i]! >= this.plan[i]!.length) continue
        this.graphLeft--
        return { s: senders[i]!, body: b.follow(senders[this.plan[i]![this.planAt[i]!++]!]!.publicKey), kind: 'follow' }
      }
    }
    const r = this.rand()
    if (r < LIKE_SHARE && this.recent.length > 0) {
      const liker = 1 + this.authors.draw()
      const id = this.recent[Math.floor(this.rand() * this.recent.length)]!
      const key = `${liker}:${id}`
      if (!this.liked.has(key)) {
        this.liked.add(key)
        return { s: senders[liker]!, body: b.like(parseHex(id)!), kind: 'like' }
      }
    } else if (r < LIKE_SHARE + FOLLOW_SHARE) {
      const follower = 1 + Math.floor(this.rand() * (n - 1))
      for (let tries = 0; tries < 8; tries++) {
        const t = 1 + this.targets.draw()
        if (t === follower || this.followed[follower]!.has(t)) continue
        this.followed[follower]!.add(t)
        return { s: senders[follower]!, body: b.follow(senders[t]!.publicKey), kind: 'follow' }
      }
    }
    const author = 1 + this.authors.draw()
    return { s: senders[author]!, body: b.post(`reads post ${this.signed} by sender ${author}: a short message, about as long as people write them`), kind: 'post' }
  }

  private async sign (): Promise<void> {
    const { chainId, minFee } = this.setup.chain
    while (!this.closed) {
      if (this.queued >= SIGN_LOW) { await sleep(5); continue }
      while (this.queued < SIGN_HIGH && !this.closed) {
        for (let k = 0; k < SIGN_SLICE; k++) {
          const { s, body, kind } = this.next()
          const t = { ...s.sign(chainId, body, minFee), sender: s, kind }
          this.signed++
          this.pending.set(t.id, t)
          this.lanes[s.lane]!.queue.push(t)
        }
        await new Promise((resolve) => setImmediate(resolve))
      }
    }
  }

  /** Submits open loop until `until()` holds (checked every 20 ms); what is not sent stays queued. */
  async run (until: () => boolean): Promise<void> {
    if (until()) return
    while (this.queued < Math.min(SIGN_HIGH, SIGN_LOW)) await sleep(20)
    await this.submit(this.lanes, until)
  }

  /**
   * Submits at about `txPerS` until `signal` aborts: each 100 ms a lane's share moves from the
   * head of its queue to a lane of its own (so each sender's nonces stay in order), and what
   * that lane has not sent goes back to the head of the queue at the end.
   */
  async trickle (txPerS: number, signal: AbortSignal): Promise<void> {
    if (txPerS <= 0) return
    const slow = this.lanes.map((l) => ({ url: l.url, from: l.from, queue: [] as ReadsTx[] }))
    const per = txPerS / 10 / slow.length
    let owed = 0
    const feed = setInterval(() => {
      owed += per
      const take = Math.floor(owed)
      owed -= take
      this.lanes.forEach((l, i) => slow[i]!.queue.push(...l.queue.splice(0, take)))
    }, 100)
    await this.submit(slow, () => signal.aborted)
    clearInterval(feed)
    this.lanes.forEach((l, i) => l.queue.unshift(...slow[i]!.queue))
  }

  private async submit (lanes: Array<Lane<ReadsTx>>, until: () => boolean): Promise<void> {
    const stop = new AbortController()
    const check = setInterval(() => { if (until()) stop.abort() }, 20)
    await submitOpenLoop(lanes, {
      batch: BATCH,
      heads: this.watcher,
      signal: stop.signal,
      onAccepted: (t) => { if (t.kind === 'post') this.postsSent++ },
      more: async (lane) => {
        while (lane.queue.length === 0 && !stop.signal.aborted) await sleep(2)
        return !stop.signal.aborted
      }
    }, this.stats)
    clearInterval(check)
  }

  /** Waits until the mempool is empty and every block is read. */
  async drain (): Promise<void> {
    const rpc = new RpcClient(this.url, { timeoutMs: 30_000 })
    const end = now() + 120_000
    while ((await rpc.getMempoolStatus()).count > 0 || this.watcher.unread > 0) {
      if (now() > end) throw new Error('the mempool did not drain in 120 s')
      await sleep(100)
    }
    await sleep(BLOCK_TIME_MS)
  }

  async close (): Promise<void> {
    this.closed = true
    await this.signer
  }
}

/** A fresh dev node with the senders funded and seeded, the graph planned and the load ready to run. */
async function socialNode (root: string, args: string[]): Promise<{ node: Proc, home: string, url: string, growth: Growth }> {
  const dev = await startDevNode(children, root, { blockTimeMs: BLOCK_TIME_MS, args, nodeArgs: NODE_ARGS })
  const head0 = await dev.node.rpc.getHead()
  const watcher = await HeadWatcher.open(dev.url, head0.height + 1)
  const t0 = now()
  const setup = await prepareSocial([dev.url], await devKey(dev.home), watcher, { senders: ACCOUNTS, lanes: LANES, batch: BATCH })
  watcher.keepIds = false
  watcher.committedAt.clear()
  const rand = seeded(SEED)
  const targets = new Zipf(ACCOUNTS - 1, rand)
  const growth = new Growth(dev.url, setup, watcher, planGraph(ACCOUNTS, targets, rand), targets)
  console.log(`node ${dev.node.name}: pid ${dev.node.proc.pid}, ${dev.url}${args.length > 0 ? ` (${args.join(' ')})` : ''}; ${fmt(ACCOUNTS)} senders funded and seeded in ${((now() - t0) / 1000).toFixed(0)} s; ${fmt(growth.graphTxs)} follows planned`)
  return { node: dev.node, home: dev.home, url: dev.url, growth }
}

// ---------------------------------------------------------------- reads

interface Call {
  method: string
  params: unknown[]
  /** Which latency list the answer goes to. */
  tag: number
  /** A feed call's page in the walk. */
  page?: number
}
interface Hammered { lat: number[][], ok: number, seconds: number, tally: Tally }

class FeedError extends Error {}

/**
 * `inFlight` workers, each on a keep-alive connection of its own from 127.0.0.(IP_BASE + k),
 * call `make()`'s call again as soon as it is answered, for `seconds`; `check` sees each
 * result (it throws to fail the bench). A worker refused for load backs off as the lanes do
 * (BACKOFF_MIN_MS, doubling to BACKOFF_MAX_MS while refused), so refusals do not churn the node.
 */
async function hammer (port: number, inFlight: number, seconds: number, tags: number, make: () => Call, check: (c: Call, result: unknown) => void): Promise<Hammered> {
  const lat: number[][] = Array.from({ length: tags }, () => [])
  const tally = new Tally()
  let ok = 0
  const t0 = now()
  const end = t0 + seconds * 1000
  await Promise.all(Array.from({ length: inFlight }, async (_, k) => {
    const agent = ownAgent(1)
    const from = `127.0.0.${IP_BASE + k}`
    let backoff = BACKOFF_MIN_MS
    try {
      while (now() < end) {
        const c = make()
        const at = now()
        const r = await postRpc('127.0.0.1', port, JSON.stringify({ jsonrpc: '2.0', id: 1, method: c.method, params: c.params }), { agent, localAddress: from, timeoutMs: REQUEST_TIMEOUT_MS })
        const ms = now() - at
        const body = r.json as { result?: unknown, error?: { code?: number, message?: string, data?: { code?: string } } } | undefined
        if (r.failure !== undefined) { tally.add(r.failure); continue }
        if (body === undefined) { tally.add(`HTTP ${r.status}`); continue }
        if (body.error !== undefined) {
          const key = errorKey(body.error)
          tally.add(key)
          if (RETRYABLE.has(key)) {
            await sleep(backoff)
            backoff = Math.min(BACKOFF_MAX_MS, backoff * 2)
          }
          continue
        }
        backoff = BACKOFF_MIN_MS
        check(c, body.result)
        ok++
        tally.add('ok')
        lat[c.tag]!.push(ms)
      }
    } finally {
      agent.destroy()
    }
  }))
  for (const l of lat) l.sort((x, y) => x - y)
  return { lat, ok, seconds: (now() - t0) / 1000, tally }
}

interface PostItem { id: string, author: string, height: number }
interface FeedPage { items: PostItem[], cursor: string | null }

/** Throws unless `page` is a page of posts newest first, each by an account in `followed`; with `walk`, none seen before in it. */
function checkPage (page: unknown, followed: ReadonlySet<string>, what: string, walk?: { seen: Set<string>, lastHeight: number }): FeedPage {
  const p = page as FeedPage
  if (p === null || typeof p !== 'object' || !Array.isArray(p.items) || !(p.cursor === null || typeof p.cursor === 'string')) throw new FeedError(`${what}: not a page: ${JSON.stringify(page).slice(0, 200)}`)
  if (p.items.length > PAGE) throw new FeedError(`${what}: ${p.items.length} items, asked for ${PAGE}`)
  const ids = new Set<string>()
  let last = walk?.lastHeight ?? Infinity
  for (const [i, it] of p.items.entries()) {
    if (typeof it.id !== 'string' || typeof it.height !== 'number') throw new FeedError(`${what}: item ${i} is not a post: ${JSON.stringify(it).slice(0, 200)}`)
    if (it.height > last) throw new FeedError(`${what}: not newest first: item ${i} (${it.id.slice(0, 12)}…) at height ${it.height} after one at ${last}`)
    last = it.height
    if (!followed.has(it.author)) throw new FeedError(`${what}: item ${i} (${it.id.slice(0, 12)}…) is by ${it.author}, whom the reader does not follow`)
    if (ids.has(it.id) || walk?.seen.has(it.id) === true) throw new FeedError(`${what}: post ${it.id} twice${walk === undefined ? ' in one page' : ' in one walk'}`)
    ids.add(it.id)
  }
  if (walk !== undefined) {
    for (const id of ids) walk.seen.add(id)
    walk.lastHeight = last
  }
  return p
}

interface Walk { cursors: Array<string | null>, pages: string[][] }

/** The reader's feed from the first page, `cursor` after `cursor`, up to WALK_PAGES pages. */
async function walkFeed (port: number, reader: string, followed: ReadonlySet<string>): Promise<Walk> {
  const agent = ownAgent(1)
  const state = { seen: new Set<string>(), lastHeight: Infinity }
  const walk: Walk = { cursors: [], pages: [] }
  try {
    let cursor: string | null = null
    do {
      const r = await postRpc('127.0.0.1', port, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'feed_get', params: [reader, cursor, PAGE] }), { agent, localAddress: `127.0.0.${IP_BASE}`, timeoutMs: REQUEST_TIMEOUT_MS })
      const body = r.json as { result?: unknown, error?: { code?: number, message?: string, data?: { code?: string } } } | undefined
      if (body?.result === undefined) {
        if (body?.error !== undefined && RETRYABLE.has(errorKey(body.error))) { await sleep(50); continue }
        throw new FeedError(`feed walk, page ${walk.pages.length + 1}: ${r.failure ?? JSON.stringify(body?.error ?? `HTTP ${r.status}`)}`)
      }
      const page = checkPage(body.result, followed, `feed walk, page ${walk.pages.length + 1}`, state)
      walk.cursors.push(cursor)
      walk.pages.push(page.items.map((x) => x.id))
      cursor = page.cursor
    } while (cursor !== null && walk.pages.length < WALK_PAGES)
  } finally {
    agent.destroy()
  }
  return walk
}

const FIRST = 0
const DEEP = 1

/** feed_get calls over the walk's pages, drawn at random; each answer checked, and (`same`) compared with the walk's page. */
function feedCalls (reader: string, walk: Walk, followed: ReadonlySet<string>, same: boolean): { make: () => Call, check: (c: Call, result: unknown) => void, differing: () => number } {
  let differing = 0
  return {
    make: () => {
      const k = Math.floor(Math.random() * walk.cursors.length)
      return { method: 'feed_get', params: [reader, walk.cursors[k], PAGE], tag: k === 0 ? FIRST : DEEP, page: k }
    },
    check: (c, result) => {
      const k = c.page!
      const page = checkPage(result, followed, `feed_get page ${k + 1}`)
      if (same && page.items.map((x) => x.id).join() !== walk.pages[k]!.join()) differing++
    },
    differing: () => differing
  }
}

interface Row {
  label: string
  posts: number
  follows: number
  likes: number
  /** Seconds the node took to go idle after the load was drained. */
  idleAfter: number
  pages: number
  /** Posts in the chain by the accounts the reader follows. */
  feedPosts: number
  /** Why the walk was shorter than the feed should be, if it was. */
  short: string | null
  first: number[]
  deep: number[]
  any: number[]
  feedAt4: Hammered
  feedRate: Hammered
  profile: Hammered
  storm: Hammered
  differing: number
  gap: GapResult
  /** The longest time between two newHeads events in the storm, ms. */
  gapArrival: number
  stormWrites: number
  rssBefore: number | null
  rssPeak: number | null
  rssAfter: number | null
  disk: number | null
}

/** Header times of blocks `from`..`to` (chain_getBlock). */
async function blockTimes (rpc: RpcClient, from: number, to: number): Promise<number[]> {
  const out: number[] = []
  for (let h = Math.max(1, from); h <= to; h++) out.push((await rpc.getBlock(h)).header.timeMs)
  return out
}

/**
 * Waits until the node is idle (under IDLE_CORES over a second; work after the load, such as
 * an index catching up, would be measured as the reads' cost), up to IDLE_WAIT_MS: seconds waited.
 */
async function untilIdle (pid: number): Promise<number> {
  const t0 = now()
  for (;;) {
    const c0 = await cpuSeconds(pid)
    const at = now()
    await sleep(1000)
    const cores = (await cpuSeconds(pid) - c0) / ((now() - at) / 1000)
    if (cores < IDLE_CORES || now() - t0 > IDLE_WAIT_MS) return (now() - t0) / 1000
  }
}

/** The reads at one checkpoint (the load paused and drained). */
async function measureReads (label: string, node: Proc, home: string, growth: Growth): Promise<Row> {
  const port = Number(new URL(node.url).port)
  const prefix = growth.setup.chain.prefix
  const senders = growth.setup.senders
  const reader = encodeAddress(growth.reader.publicKey, prefix)
  const followed = new Set(growth.readerFollows.map((i) => encodeAddress(senders[i]!.publicKey, prefix)))
  const profiles = senders.map((s) => encodeAddress(s.publicKey, prefix))
  const pid = node.proc.pid!
  const { posts, follows, likes } = growth
  const idleAfter = await untilIdle(pid)

  const rssBefore = (await memoryOf(pid))?.rss ?? null
  const sampler = await RssSampler.start(pid)
  // a. the walk, then latency at 4 in flight
  const feedPosts = growth.readerFeed
  const shortness = (w: Walk): string | null => {
    const walked = w.pages.reduce((n, p) => n + p.length, 0)
    return walked < Math.min(feedPosts, WALK_PAGES * PAGE) && w.pages.length < WALK_PAGES ? `the walk ended (cursor null) after ${w.pages.length} pages, ${fmt(walked)} posts, of the ${fmt(feedPosts)} in the chain by the accounts the reader follows` : null
  }
  // a feed shorter than the chain's posts (an index behind the chain, or posts from before a follow past what it merges in): walked again every 2 s, up to SHORT_WAIT_MS
  let walk = await walkFeed(port, reader, followed)
  let short = shortness(walk)
  const shortAt = now()
  while (short !== null && shortness(walk) !== null && now() - shortAt < SHORT_WAIT_MS) {
    await sleep(2000)
    walk = await walkFeed(port, reader, followed)
    if (shortness(walk) === null) short = `${short}; complete ${((now() - shortAt) / 1000).toFixed(0)} s later`
  }
  if (short !== null && shortness(walk) !== null) short = `${short}; still short ${SHORT_WAIT_MS / 1000} s later (${walk.pages.length} pages then)`
  if (walk.pages[0]?.length === 0) throw new FeedError(`the reader's feed is empty at ${fmt(posts)} posts (${fmt(feedPosts)} by the accounts it follows)`)
  const at4 = feedCalls(reader, walk, followed, true)
  const feedAt4 = await hammer(port, 4, READ_S, 2, at4.make, at4.check)
  // b. throughput at 16 in flight
  const at16 = feedCalls(reader, walk, followed, true)
  const feedRate = await hammer(port, 16, READ_S, 2, at16.make, at16.check)
  // c. profile_get, the baseline
  const profile = await hammer(port, 16, READ_S, 1, () => ({ method: 'profile_get', params: [profiles[Math.floor(Math.random() * profiles.length)]], tag: 0 }), (c, result) => {
    if ((result as { address?: string }).address !== c.params[0]) throw new Error(`profile_get ${String(c.params[0])} answered ${JSON.stringify(result).slice(0, 200)}`)
  })
  // d. the storm, with the load at a modest rate
  const rpc = new RpcClient(node.url, { timeoutMs: 30_000 })
  const h0 = (await rpc.getHead()).height
  const committed0 = growth.chainTxs
  const writes = new AbortController()
  const trickling = growth.trickle(STORM_WRITES, writes.signal)
  const wall0 = Date.now()
  const perf0 = now()
  const stormCalls = feedCalls(reader, walk, followed, false)
  const storm = await hammer(port, STORM_IN_FLIGHT, STORM_S, 2, stormCalls.make, stormCalls.check)
  const wall1 = Date.now()
  const perf1 = now()
  writes.abort()
  await trickling
  const rssPeak = await sampler.stop()
  await growth.drain()
  const h1 = (await rpc.getHead()).height
  const gap = longestGap(await blockTimes(rpc, h0, h1), wall0, wall1)
  const heads = growth.watcher.blocks.map((x) => x.headAt)
  let gapArrival = 0
  for (let i = 1; i < heads.length; i++) if (heads[i]! > perf0 && heads[i - 1]! < perf1) gapArrival = Math.max(gapArrival, Math.min(heads[i]!, perf1) - Math.max(heads[i - 1]!, perf0))
  const stormWrites = (growth.chainTxs - committed0) / ((perf1 - perf0) / 1000)
  // e. after the storm
  await sleep(SETTLE_S * 1000)
  const rssAfter = (await memoryOf(pid))?.rss ?? null
  const disk = await duBytes(home)
  const all = feedAt4.lat.flat().sort((x, y) => x - y)
  const row: Row = {
    label, posts, follows, likes, idleAfter, pages: walk.pages.length, feedPosts, short,
    first: feedAt4.lat[FIRST]!, deep: feedAt4.lat[DEEP]!, any: all,
    feedAt4, feedRate, profile, storm, differing: at4.differing() + at16.differing(),
    gap, gapArrival, stormWrites, rssBefore, rssPeak, rssAfter, disk
  }
  printCheckpoint(row)
  return row
}

// ---------------------------------------------------------------- printing

const mb = (n: number | null): string => n === null || Number.isNaN(n) ? '—' : `${fmt(n / 1024 / 1024)} MB`
const ms = (n: number): string => Number.isNaN(n) ? '—' : n < 10 ? n.toFixed(1) : fmt(n)
const pq = (l: number[]): string => `${ms(q(l, 0.5))} / ${ms(q(l, 0.99))} ms`
const rate = (h: Hammered): number => h.ok / h.seconds
const errorsOf = (h: Hammered): string => {
  const t = new Tally()
  for (const [k, v] of h.tally.counts) if (k !== 'ok') t.add(k, v)
  return t.counts.size === 0 ? 'no errors' : `errors: ${t.text()}`
}

function printCheckpoint (r: Row): void {
  console.log(`--- checkpoint ${r.label}: ${fmt(r.posts)} posts, ${fmt(r.follows)} follows, ${fmt(r.likes)} likes (this load's, committed); the node idle ${r.idleAfter.toFixed(0)} s after the mempool drained${r.idleAfter * 1000 > IDLE_WAIT_MS ? ' (NOT idle: still busy)' : ''}; reader's feed walked ${r.pages} pages (${fmt(r.feedPosts)} posts by the accounts it follows)`)
  if (r.short !== null) console.log(`  WARNING: feed too short: ${r.short}`)
  console.log(`  a. feed_get at 4 in flight, ${r.feedAt4.seconds.toFixed(0)} s: first page ${pq(r.first)} (${fmt(r.first.length)}), deep pages ${pq(r.deep)} (${fmt(r.deep.length)}), any page ${pq(r.any)}; ${errorsOf(r.feedAt4)}`)
  console.log(`  b. feed_get at 16 in flight: ${fmt(rate(r.feedRate))} answers/s, any page ${pq(r.feedRate.lat.flat().sort((x, y) => x - y))}; ${errorsOf(r.feedRate)}`)
  console.log(`  c. profile_get at 16 in flight: ${fmt(rate(r.profile))} answers/s, ${pq(r.profile.lat[0]!)}; ${errorsOf(r.profile)}`)
  if (r.differing > 0) console.log(`  WARNING: ${fmt(r.differing)} of ${fmt(r.feedAt4.ok + r.feedRate.ok)} feed pages read again by their cursor in a and b (the load paused, the mempool empty) differed from the walk's page`)
  console.log(`  d. feed_get at ${STORM_IN_FLIGHT} in flight, ${r.storm.seconds.toFixed(0)} s, ${fmt(r.stormWrites)} load tx/s committed meanwhile: ${fmt(rate(r.storm))} answers/s, ${pq(r.storm.lat.flat().sort((x, y) => x - y))}; ${errorsOf(r.storm)}`)
  console.log(`     longest stretch without a block: ${fmt(r.gap.ms)} ms by header times${r.gap.open ? ' (open: no block after it)' : ''} (${r.gap.blocks} blocks), ${fmt(r.gapArrival)} ms between newHeads events; block time ${fmt(BLOCK_TIME_MS)} ms`)
  console.log(`  e. node RSS before the reads ${mb(r.rssBefore)}, peak ${mb(r.rssPeak)}, ${SETTLE_S} s after the storm ${mb(r.rssAfter)}: after ÷ before ${ratio(r.rssAfter, r.rssBefore)}`)
  console.log(`  f. data dir ${mb(r.disk)}: ${r.disk === null ? '—' : fmt(r.disk / r.posts)} bytes/post; load average ${loadavg()[0]!.toFixed(1)}`)
}

const ratio = (a: number | null, b: number | null): string => a === null || b === null || b === 0 ? '—' : (a / b).toFixed(2)

function printRows (rows: Row[]): void {
  console.log('| posts | feed p50/p99 first page | deep pages | any page (4 in flight) | feed req/s (16) | profile_get req/s (16), p50/p99 | longest block gap (storm) | RSS before / peak / after | after ÷ before | disk bytes/post | errors (a, b, c, d) | feed checks |')
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|')
  for (const r of rows) {
    const errs = ([['a', r.feedAt4], ['b', r.feedRate], ['c', r.profile], ['d', r.storm]] as const).map(([k, h]) => `${k}: ${errorsOf(h).replace(/^errors: /, '').replace('no errors', 'none')}`).join('; ')
    console.log(`| ${r.label} | ${pq(r.first)} | ${pq(r.deep)} | ${pq(r.any)} | ${fmt(rate(r.feedRate))} | ${fmt(rate(r.profile))}, ${pq(r.profile.lat[0]!)} | ${fmt(r.gap.ms)} ms | ${mb(r.rssBefore)} / ${mb(r.rssPeak)} / ${mb(r.rssAfter)} | ${ratio(r.rssAfter, r.rssBefore)} | ${r.disk === null ? '—' : fmt(r.disk / r.posts)} | ${errs} | ${[r.short === null ? null : `walk short: ${r.pages} pages of ${fmt(r.feedPosts)} posts`, r.differing === 0 ? null : `${fmt(r.differing)} re-read pages differed`].filter((x) => x !== null).join('; ') || 'ok'} |`)
  }
}

interface Compared { on: number, off: number }

function printGoals (r: Row | undefined, cmp: Compared | null): void {
  const met = (ok: boolean | null): string => ok === null ? '—' : ok ? 'met' : 'NOT met'
  const p50 = r === undefined ? NaN : q(r.any, 0.5)
  const p99 = r === undefined ? NaN : q(r.any, 0.99)
  const after = r === undefined || r.rssAfter === null || r.rssBefore === null ? null : r.rssAfter / r.rssBefore
  const perPost = r === undefined || r.disk === null ? null : r.disk / r.posts
  const base = r === undefined ? '—' : `profile_get ${pq(r.profile.lat[0]!)}, ${fmt(rate(r.profile))} req/s`
  console.log(`\n=== issue #11's goals${r === undefined ? '' : ` at ${fmt(r.posts)} posts (checkpoint ${r.label})`}, beside this run's profile_get`)
  console.log('| figure | this run | baseline (same run) | goal | |')
  console.log('|---|---|---|---|---|')
  if (r !== undefined) {
    console.log(`| feed_get, reader following ${fmt(READER_FOLLOWS)}, any page: p50 / p99 at 4 in flight | ${pq(r.any)} | ${base} | ≤ 5 ms / ≤ 20 ms | ${met(p50 <= 5 && p99 <= 20)} |`)
    console.log(`| feed_get throughput at 16 in flight | ${fmt(rate(r.feedRate))} req/s | ${base} | ≥ 2,000 req/s | ${met(rate(r.feedRate) >= 2000)} |`)
    console.log(`| profile_get throughput at 16 in flight | ${fmt(rate(r.profile))} req/s | — | ≥ 10,000 req/s | ${met(rate(r.profile) >= 10_000)} |`)
    console.log(`| longest block gap while feed_get runs at ${STORM_IN_FLIGHT} in flight | ${(r.gap.ms / 1000).toFixed(2)} s (block time ${(BLOCK_TIME_MS / 1000).toFixed(0)} s) | ${fmt(rate(r.storm))} feed req/s meanwhile | ≤ 2 s | ${met(r.gap.ms <= 2 * BLOCK_TIME_MS)} |`)
    console.log(`| RSS after a read storm ÷ RSS before | ${after === null ? '—' : after.toFixed(2)} (${mb(r.rssBefore)} → peak ${mb(r.rssPeak)} → ${mb(r.rssAfter)}) | — | ≤ 1.5 | ${met(after === null ? null : after <= 1.5)} |`)
  }
  console.log(`| committed tx/s with the timeline index on ÷ without | ${cmp === null ? '— (run with --compare)' : `${(cmp.on / cmp.off).toFixed(2)} (${fmt(cmp.on)} ÷ ${fmt(cmp.off)})`} | — | ≥ 0.8 | ${met(cmp === null ? null : cmp.on / cmp.off >= 0.8)} |`)
  if (r !== undefined) console.log(`| disk per post with the timeline index | ${perPost === null ? '—' : `${fmt(perPost)} B`} | — | ≤ 2 KB | ${met(perPost === null ? null : perPost <= 2048)} |`)
}

// ---------------------------------------------------------------- the runs

/** 10k, 100k, 1M, … below `max`, and `max`. */
function checkpoints (max: number): number[] {
  const out: number[] = []
  for (let d = 10_000; d < max; d *= 10) out.push(d)
  out.push(max)
  return out
}

async function readsRun (): Promise<Row[]> {
  const root = await mkdtemp(join(tmpdir(), 'chorus-bench-reads-'))
  children.tempDirs.push(root)
  const marks = checkpoints(MAX_POSTS)
  console.log(`reads: to ${fmt(MAX_POSTS)} posts or ${fmt(TIME_LIMIT_S)} s of load; checkpoints ${marks.map((m) => fmt(m)).join(', ')}; ${fmt(ACCOUNTS)} accounts following ${FOLLOWERS} each (Zipf targets), the reader ${fmt(READER_FOLLOWS)}; temp dir ${root}`)
  const { node, home, growth } = await socialNode(root, [])
  const rows: Row[] = []
  const t0 = now()
  const deadline = t0 + TIME_LIMIT_S * 1000
  let last = { t: t0, txs: 0 }
  const progress = setInterval(() => {
    void memoryOf(node.proc.pid).then((mem) => {
      const t = now()
      console.log(`  ${((t - t0) / 1000).toFixed(0).padStart(5)} s: ${fmt(growth.posts)} posts, ${fmt(growth.follows)} follows, ${fmt(growth.likes)} likes; ${fmt((growth.chainTxs - last.txs) / ((t - last.t) / 1000))} tx/s over the last ${((t - last.t) / 1000).toFixed(0)} s; node RSS ${mem === null ? '—' : mb(mem.rss)}; client RSS ${mb(process.memoryUsage().rss)}`)
      last = { t, txs: growth.chainTxs }
    })
  }, PROGRESS_MS)
  for (const mark of marks) {
    // stopped as the posts accepted reach the mark, so those in the chain do once the mempool drains
    await growth.run(() => growth.postsSent >= mark || now() > deadline)
    const timeUp = growth.postsSent < mark
    if (timeUp) console.log(`time limit (${TIME_LIMIT_S} s): the load stops at ${fmt(growth.posts)} posts`)
    await growth.drain()
    last = { t: now(), txs: growth.chainTxs }
    rows.push(await measureReads(timeUp ? `end (${fmt(growth.posts)})` : fmt(mark), node, home, growth))
    if (timeUp) break
  }
  clearInterval(progress)
  await growth.close()
  await growth.watcher.stop()
  const s = growth.stats
  console.log(`\n=== reads: ${fmt(growth.posts)} posts, ${fmt(growth.follows)} follows, ${fmt(growth.likes)} likes committed in ${((now() - t0) / 1000).toFixed(0)} s (reads included); ${fmt(growth.signed)} txs signed`)
  console.log(`submit: sent again (refused for room or load) ${fmt(s.retries)}, dropped ${fmt(s.dropped)} (${s.dead.size} senders); refusals: ${s.refused.size === 0 ? 'none' : [...s.refused].map(([c, n]) => `${c} ${fmt(n)}`).join(', ')}`)
  for (const [c, m] of s.refusedExample) if (!RETRYABLE.has(c) && c !== 'ALREADY_KNOWN') console.log(`  ${c}: ${m.slice(0, 160)}`)
  if (growth.watcher.errors > 0) console.log(`note: ${growth.watcher.errors} chain_getBlock calls of the head watcher were refused or failed (and asked again)`)
  await stopProc(node, 60_000)
  printRows(rows)
  await children.finish(root, node)
  return rows
}

/** Committed tx/s of the same load on a fresh node started with `args`, over COMPARE_WINDOW txs after the graph and COMPARE_WARMUP. */
async function writeRate (args: string[]): Promise<number> {
  const root = await mkdtemp(join(tmpdir(), 'chorus-bench-reads-cmp-'))
  children.tempDirs.push(root)
  const { node, growth } = await socialNode(root, args)
  const warm = growth.graphTxs + COMPARE_WARMUP
  let start: { blk: BlockSeen, txs: number } | null = null
  let end: { blk: BlockSeen, txs: number } | null = null
  let threads: [Promise<Map<string, number>>, Promise<Map<string, number>>] | null = null
  growth.onBlock = (blk) => {
    if (start === null && growth.chainTxs >= warm) {
      start = { blk, txs: growth.chainTxs }
      threads = [threadCpu(node.proc.pid), Promise.resolve(new Map())]
    } else if (start !== null && end === null && growth.chainTxs - start.txs >= COMPARE_WINDOW) {
      end = { blk, txs: growth.chainTxs }
      threads![1] = threadCpu(node.proc.pid)
    }
  }
  await growth.run(() => end !== null)
  await growth.close()
  await growth.watcher.stop()
  await stopProc(node, 60_000)
  const s = start as { blk: BlockSeen, txs: number } | null
  const e = end as { blk: BlockSeen, txs: number } | null
  if (s === null || e === null) throw new Error('the compare window did not end')
  const r = (e.txs - s.txs) / ((e.blk.headAt - s.blk.headAt) / 1000)
  const [t0, t1] = await Promise.all(threads!)
  const cpu = [...t1].map(([name, s]) => [name, s - (t0.get(name) ?? 0)] as const).filter(([, s]) => s >= 0.05).sort((a, b) => b[1] - a[1])
  console.log(`  ${args.length === 0 ? 'index on' : args.join(' ')}: ${fmt(r)} committed tx/s over ${fmt(e.txs - s.txs)} txs (${((e.blk.headAt - s.blk.headAt) / 1000).toFixed(1)} s) after ${fmt(growth.graphTxs)} follows and ${fmt(COMPARE_WARMUP)} more txs; ${fmt(growth.posts)} posts then; dropped ${fmt(growth.stats.dropped)}; refusals ${growth.stats.refused.size === 0 ? 'none' : [...growth.stats.refused].map(([c, n]) => `${c} ${fmt(n)}`).join(', ')}\n    node CPU seconds over the window by thread: ${cpu.map(([name, s]) => `${name} ${s.toFixed(1)}`).join(', ')}`)
  await children.finish(root, node)
  return r
}

async function compare (): Promise<Compared> {
  const help = execFileSync(process.execPath, [CLI, 'start', '--help']).toString()
  if (!help.includes('--no-timeline-index')) throw new Error('--compare: this chorus has no `start --no-timeline-index` yet')
  console.log(`\ncompare: the same load (follow graph, ${fmt(COMPARE_WARMUP)} txs of warm-up, then a window of ${fmt(COMPARE_WINDOW)}) on fresh nodes with the timeline index and without, ${COMPARE_ROUNDS} round(s), alternating which goes first`)
  const ons: number[] = []
  const offs: number[] = []
  for (let round = 0; round < COMPARE_ROUNDS; round++) {
    // on, off, then off, on: a machine that slows or speeds up over the run weighs on both alike
    for (const index of round % 2 === 0 ? [true, false] : [false, true]) {
      if (index) ons.push(await writeRate([]))
      else offs.push(await writeRate(['--no-timeline-index']))
    }
    console.log(`  round ${round + 1}: ${fmt(ons[round]!)} ÷ ${fmt(offs[round]!)} = ${(ons[round]! / offs[round]!).toFixed(2)}`)
  }
  const on = q([...ons].sort((a, b) => a - b), 0.5)
  const off = q([...offs].sort((a, b) => a - b), 0.5)
  console.log(`committed tx/s with the timeline index ÷ without (medians): ${fmt(on)} ÷ ${fmt(off)} = ${(on / off).toFixed(2)}`)
  return { on, off }
}

async function main (): Promise<void> {
  console.log(`${cpus().length} cores (${cpus()[0]?.model ?? '?'}), Node ${process.version}, load average ${loadavg()[0]!.toFixed(2)}; ${LANES} lanes, batches of ${BATCH}`)
  const rows = COMPARE_ONLY ? [] : await readsRun()
  const cmp = COMPARE ? await compare() : null
  for (const s of children.logSummary()) if (s.warn + s.error > 0) console.log(`node log (${s.name}): warn ${s.warn}, error ${s.error}\n  ${s.examples.join('\n  ')}`)
  printGoals(rows.at(-1), cmp)
}

main().then(() => process.exit(0), async (e: unknown) => {
  console.error(e)
  await children.reportFailure()
  process.exit(1)
})
