/**
 * Does the write path hold as the state grows (issue #10)? Builds a chain to 1M posts
 * (or as far as --max-posts or --time-limit lets it) under a steady social load and, at
 * each decade of posts (10k, 100k, 1M; and --max-posts if it is not one), measures the
 * committed write rate over a fixed window of the same load, with the node's memory and disk.
 * Goals: rate at 1M posts ÷ rate at 10k ≥ 0.8; RSS with 1M posts and 100k accounts ≤ 512 MB.
 *   1. One `chorus start --dev` child (HOME and CHORUS_HOME in a temp dir; with --metrics
 *      also --metrics-port), or the node at --rpc. 200 senders are funded from the dev key
 *      and make two seed posts each (social-load.ts prepareSocial).
 *   2. The load, of every 22 txs per sender in turn: 18 posts, 1 follow, 1 like (of a seed
 *      post; a post once the sender has followed or liked all it can) and 2 transfers of 1
 *      unit to a fresh address (random bytes: a new account nobody signs for), so ~100k
 *      accounts exist by 1M posts. Signed ahead in slices as the lanes use it (between
 *      SIGN_LOW and SIGN_HIGH txs queued, never the whole run in memory), and submitted
 *      open loop in JSON-RPC batches of 50 on 8 lanes, each from its own loopback address
 *      (social-load.ts submitOpenLoop, as load.ts).
 *   3. Blocks are timed from a newHeads subscription (the event's arrival, as load.ts) and
 *      their tx ids read; a tx the client signed counts as a post or a new account when its
 *      block is read. When the posts in the chain reach a checkpoint, the window starts at
 *      that block and ends at the first block by which --window more txs (default 20,000)
 *      have committed: committed tx/s = those txs ÷ the time between the two blocks
 *      showing as the head. Then: the node's VmRSS and VmHWM (/proc), its data dir (du),
 *      and with --metrics the node's nodejs_heap_size_used_bytes / total and
 *      nodejs_external_memory_bytes (heap apart from native memory). Also the node's CPU
 *      over the window (cores, from /proc; with its verify threads), the committed txs per
 *      node CPU-second (less at the mercy of what else the machine runs), and the load average.
 *      Also the node's CPU by thread name over the window (/proc/PID/task: the main thread,
 *      the verify worker, LevelDB's compaction thread, V8's GC helpers) and this script's own
 *      CPU (signing, submitting, reading blocks), so a slowdown can be put on a thread.
 *   At --time-limit (default 1500 s) the load stops and a last row reports the last
 *   window of txs before it. Every 30 s a progress line.
 *   --cpu-prof DIR runs the node with `node --cpu-prof --cpu-prof-dir DIR` and, after it stops,
 *   prints each window's top self times and stages (µs per committed tx) from the main
 *   thread's profile, and each verify worker's busy time.
 *   npx tsx scripts/bench/growth.ts [--max-posts 1000000] [--time-limit 1500] [--window 20000]
 *     [--senders 200] [--lanes 8] [--batch 50] [--metrics] [--cpu-prof DIR] [--no-timeline-index] [--start-arg ARG] [--node-arg ARG] [--node-env NAME=VALUE]
 *     [--rpc URL --key FILE] [--keep]
 * --no-timeline-index starts the node without its home-timeline index (`chorus start --no-timeline-index`);
 * --start-arg ARG (repeatable) gives `chorus start` a flag (`--start-arg --memory-target=off`: V8's
 * defaults; with --metrics each checkpoint prints the memory target's step).
 * --node-arg ARG (repeatable) gives the node's `node` a flag (`--node-arg --optimize-for-size`; a V8 flag
 * given this way replaces `chorus start`'s own of that name); --node-env NAME=VALUE (repeatable) sets a
 * variable in the node's environment (`--node-env MALLOC_ARENA_MAX=2`; CHORUS_V8_DEFAULTS=1 for V8's defaults).
 * --rpc targets a running node (funded from --key, default $CHORUS_HOME/keys/dev.json or
 * ~/.chorus/keys/dev.json; no RSS, disk or metrics then). --keep leaves the temp dir and
 * the node's log. The child is SIGKILLed and the temp dir removed on exit, failure or signal.
 */
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readdir, readFile, stat } from 'node:fs/promises'
import { cpus, homedir, loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { RpcClient } from '../../src/client/rpc-client.ts'
import * as b from '../../src/client/transactions.ts'
import type { TxBody } from '../../src/protocol/types.ts'
import {
  type BlockSeen, Children, HeadWatcher, type Lane, type LaneTx, type Proc, RETRYABLE, type Sender, type SocialSetup, SubmitStats,
  cpuSeconds, devKey, duBytes, flag, fmt, keyFromFile, loadShape, makeLanes, memoryOf, now, prepareSocial, sleep, startDevNode, stopProc, submitOpenLoop, threadCpu, flagValues
} from './social-load.ts'
import { type Stage, inclusive, printSummary, readProfile, summarize } from './cpuprofile.ts'

const USAGE = 'usage: growth.ts [--max-posts N] [--time-limit SECONDS] [--window TXS] [--senders N] [--lanes N] [--batch N] [--metrics] [--cpu-prof DIR] [--no-timeline-index] [--start-arg ARG]... [--node-arg ARG]... [--node-env NAME=VALUE]... [--rpc URL [--key FILE]] [--keep]'
const MAX_POSTS = Number(flag('--max-posts') ?? 1_000_000)
const TIME_LIMIT_S = Number(flag('--time-limit') ?? 1500)
const WINDOW = Number(flag('--window') ?? 20_000)
const { senders: SENDERS, lanes: LANES, batch: BATCH } = loadShape()
const RPC = flag('--rpc')
const KEY_FILE = flag('--key')
const METRICS = process.argv.includes('--metrics')
const KEEP = process.argv.includes('--keep')
const CPU_PROF = flag('--cpu-prof')
/** Passed on to `chorus start` (the node's cost with and without its home-timeline index). */
const NO_TIMELINE_INDEX = process.argv.includes('--no-timeline-index')
/** Every value given after `name` (a repeatable flag). */
/** The node's own `node` flags and environment variables, for comparing runtime settings (memory, GC). */
const NODE_ARGS = flagValues('--node-arg')
const START_ARGS = flagValues('--start-arg')
const NODE_ENV = flagValues('--node-env').map((kv) => {
  const i = kv.indexOf('=')
  if (i < 1) throw new Error(`--node-env takes NAME=VALUE, not ${kv}`)
  return [kv.slice(0, i), kv.slice(i + 1)] as const
})
if (!(MAX_POSTS >= 1) || !(TIME_LIMIT_S > 0) || !(WINDOW >= 1) || !(SENDERS >= 2) || !(LANES >= 1) || !(BATCH >= 1) || RPC === '') throw new Error(USAGE)
if (RPC !== undefined && (METRICS || CPU_PROF !== undefined || NO_TIMELINE_INDEX || START_ARGS.length > 0 || NODE_ARGS.length > 0 || NODE_ENV.length > 0)) throw new Error('--metrics, --cpu-prof, --no-timeline-index, --start-arg, --node-arg and --node-env need the node this script starts (not --rpc)')

/** Sign more when fewer than SIGN_LOW txs are queued in all lanes, up to SIGN_HIGH, SIGN_SLICE at a time between turns of the event loop. */
const SIGN_LOW = 10_000
const SIGN_HIGH = 20_000
const SIGN_SLICE = 500
const PROGRESS_MS = 30_000
/** Of every CYCLE txs (per turn over the senders): posts, then a follow, a like, then transfers to fresh addresses. */
const CYCLE = 22
const POSTS_PER_CYCLE = 18
const TRANSFER_AMOUNT = 1n

/** 10k, 100k, 1M, … up to `max`, and `max` itself. */
function checkpoints (max: number): number[] {
  const out: number[] = []
  for (let d = 10_000; d < max; d *= 10) out.push(d)
  out.push(max)
  return out
}

type Kind = 'post' | 'transfer' | 'other'
interface GrowthTx extends LaneTx { kind: Kind }

/** The growth mix for `s`'s next tx (`r`: its place in the cycle). */
function growthBody (s: Sender, setup: Pick<SocialSetup, 'senders' | 'seedPosts'>, r: number, n: number): { body: TxBody, kind: Kind } {
  const senders = setup.senders.length
  if (r === POSTS_PER_CYCLE && s.follows < senders - 1) return { body: b.follow(setup.senders[(s.index + 1 + s.follows++) % senders]!.publicKey), kind: 'other' }
  if (r === POSTS_PER_CYCLE + 1 && s.likes < setup.seedPosts.length) return { body: b.like(setup.seedPosts[(s.index + s.likes++) % setup.seedPosts.length]!), kind: 'other' }
  if (r > POSTS_PER_CYCLE + 1) return { body: b.transfer(randomBytes(32), TRANSFER_AMOUNT), kind: 'transfer' }
  return { body: b.post(`growth post ${n} by sender ${s.index}: a short message, about as long as people write them`), kind: 'post' }
}

interface Row {
  label: string
  /** Posts and accounts in the chain where the window starts. */
  posts: number
  accounts: number
  rate: number
  windowTxs: number
  windowS: number
  rss: number | null
  peak: number | null
  disk: number | null
  heap: { used: number, total: number, external: number, targetBytes: number, growingPercent: number } | null
  /** Posts in the chain when memory and disk were read (the window's end). */
  postsThen: number
  /** CPU cores the node used over the window, and the machine's 1-minute load average at its end (a shared machine). */
  nodeCores: number | null
  loadAvg: number
  /** CPU seconds per node thread name over the window (/proc/PID/task): the main thread, the verify worker, LevelDB's compaction, V8's GC helpers. */
  threads: Map<string, number> | null
  /** CPU cores this script (the client: signing, submitting, reading blocks) used over the window. */
  clientCores: number | null
  /** The window in the node's profile clock (CLOCK_MONOTONIC µs), for --cpu-prof. */
  fromUs: number
  toUs: number
}

const children = new Children(KEEP)

/** The node's heap used / total and external memory from its Prometheus endpoint (prom-client's default series); null if unread. */
async function heapOf (metricsUrl: string | null): Promise<Row['heap']> {
  if (metricsUrl === null) return null
  try {
    const text = await (await fetch(metricsUrl, { signal: AbortSignal.timeout(10_000) })).text()
    const series = (name: string): number => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)`, 'm').exec(text)?.[1] ?? NaN)
    return {
      used: series('nodejs_heap_size_used_bytes'), total: series('nodejs_heap_size_total_bytes'), external: series('nodejs_external_memory_bytes'),
      targetBytes: series('chorus_memory_target_bytes'), growingPercent: series('chorus_memory_target_heap_growing_percent')
    }
  } catch {
    return null
  }
}

async function main (): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'chorus-bench-growth-'))
  children.tempDirs.push(root)
  const marks = checkpoints(MAX_POSTS)
  const profDir = CPU_PROF === undefined ? null : resolve(CPU_PROF)
  const startedAtMs = Date.now()
  console.log(`${cpus().length} cores (${cpus()[0]?.model ?? '?'}), Node ${process.version}, load average ${loadavg()[0]!.toFixed(2)}; to ${fmt(MAX_POSTS)} posts or ${fmt(TIME_LIMIT_S)} s; checkpoints ${marks.map((m) => fmt(m)).join(', ')}; window ${fmt(WINDOW)} txs; ${SENDERS} senders, batches of ${BATCH}, ${LANES} lanes; temp dir ${root}`)

  let node: Proc | null = null
  let home: string | null = null
  let metricsUrl: string | null = null
  let url: string
  let devSecret: Uint8Array
  if (RPC === undefined) {
    if (profDir !== null) await mkdir(profDir, { recursive: true })
    // startDevNode hands the node this process's environment (this process's own allocator read its variables at its start)
    for (const [name, value] of NODE_ENV) process.env[name] = value
    const nodeArgs = [...NODE_ARGS, ...(profDir === null ? [] : ['--cpu-prof', '--cpu-prof-dir', profDir])]
    const dev = await startDevNode(children, root, { blockTimeMs: 1000, metrics: METRICS, nodeArgs, args: [...(NO_TIMELINE_INDEX ? ['--no-timeline-index'] : []), ...START_ARGS] })
    node = dev.node
    home = dev.home
    metricsUrl = dev.metricsUrl
    url = dev.url
    devSecret = await devKey(dev.home)
    console.log(`node: pid ${node.proc.pid}, ${url}${metricsUrl === null ? '' : `, metrics ${metricsUrl}`}${nodeArgs.length === 0 ? '' : `, node ${nodeArgs.join(' ')}`}${START_ARGS.length === 0 ? '' : `, start ${START_ARGS.join(' ')}`}${NODE_ENV.length === 0 ? '' : `, env ${NODE_ENV.map(([k, v]) => `${k}=${v}`).join(' ')}`}`)
  } else {
    url = RPC
    devSecret = await keyFromFile(KEY_FILE ?? join(process.env.CHORUS_HOME ?? join(homedir(), '.chorus'), 'keys', 'dev.json'))
  }
  const head0 = await new RpcClient(url, { timeoutMs: 30_000 }).getHead()
  const watcher = await HeadWatcher.open(url, head0.height + 1)
  const setup = await prepareSocial([url], devSecret, watcher, { senders: SENDERS, lanes: LANES, batch: BATCH })
  // from here blocks are counted, not their tx ids kept
  watcher.keepIds = false
  watcher.committedAt.clear()

  // ---- what the chain holds, as its blocks are read
  /** Txs signed and not yet seen committed: what each is. */
  const pending = new Map<string, Kind>()
  let posts = setup.seedPosts.length
  let accounts = 1 + setup.senders.length
  let chainTxs = 0
  const rows: Row[] = []
  const measuring: Array<Promise<void>> = []
  let mark = 0
  let window: { label: string, start: BlockSeen, txs: number, posts: number, accounts: number, cpu: Promise<{ s: number, at: number }>, threads: Promise<Map<string, number>>, client: NodeJS.CpuUsage, clientAt: number, fromUs: number } | null = null
  const cpuNow = async (): Promise<{ s: number, at: number }> => ({ s: await cpuSeconds(node?.proc.pid), at: now() })
  const stopper = new AbortController()

  /** The node's memory and disk now, into `row`. */
  const measure = async (row: Row): Promise<void> => {
    const [mem, disk, heap] = await Promise.all([memoryOf(node?.proc.pid), home === null ? null : duBytes(home), heapOf(metricsUrl)])
    row.rss = mem?.rss ?? null
    row.peak = mem?.peak ?? null
    row.disk = disk
    row.heap = heap
    row.postsThen = posts
    row.loadAvg = loadavg()[0]!
    printRow(row, rows[0])
    if (METRICS) {
      const maps = await rssByMapping(node?.proc.pid)
      const target = heap === null || !(heap.targetBytes > 0) ? 'off' : `${mb(heap.targetBytes)}, heap growth ${heap.growingPercent === 0 ? 'V8\'s own' : `${heap.growingPercent}%`}`
      if (maps !== null) console.log(`    RSS by mapping: ${Object.entries(maps).map(([k, v]) => `${k} ${mb(v)}`).join(', ')}; memory target ${target}`)
    }
  }

  watcher.onBlock = (blk, ids) => {
    for (const id of ids) {
      const kind = pending.get(id)
      if (kind === undefined) continue
      pending.delete(id)
      if (kind === 'post') posts++
      else if (kind === 'transfer') accounts++
    }
    chainTxs += ids.length
    if (window === null) {
      if (mark < marks.length && posts >= marks[mark]!) window = { label: fmt(marks[mark]!), start: blk, txs: chainTxs, posts, accounts, cpu: cpuNow(), threads: threadCpu(node?.proc.pid), client: process.cpuUsage(), clientAt: now(), fromUs: monotonicUs() }
      return
    }
    if (chainTxs - window.txs < WINDOW) return
    const windowS = (blk.headAt - window.start.headAt) / 1000
    const row: Row = { label: window.label, posts: window.posts, accounts: window.accounts, rate: (chainTxs - window.txs) / windowS, windowTxs: chainTxs - window.txs, windowS, rss: null, peak: null, disk: null, heap: null, postsThen: posts, nodeCores: null, threads: null, loadAvg: loadavg()[0]!, clientCores: cpuCores(process.cpuUsage(window.client), now() - window.clientAt), fromUs: window.fromUs, toUs: monotonicUs() }
    rows.push(row)
    const cpu0 = window.cpu
    const threads0 = window.threads
    measuring.push(Promise.all([cpu0, cpuNow(), threads0, threadCpu(node?.proc.pid)]).then(([c0, c1, t0, t1]) => {
      row.nodeCores = node === null ? null : (c1.s - c0.s) / ((c1.at - c0.at) / 1000)
      row.threads = new Map([...t1].map(([name, s]) => [name, s - (t0.get(name) ?? 0)]))
    }).then(async () => await measure(row)))
    window = null
    if (++mark >= marks.length) stopper.abort()
  }

  // ---- the load: signed ahead in slices, submitted open loop
  const lanes = makeLanes<GrowthTx>([url], LANES)
  const queued = (): number => lanes.reduce((s, l) => s + l.queue.length, 0)
  let signed = 0
  let signedBytes = 0
  let signTurn = 0
  const signSlice = (): void => {
    for (let k = 0; k < SIGN_SLICE; k++) {
      const s = setup.senders[signTurn % setup.senders.length]!
      const r = Math.floor(signTurn / setup.senders.length) % CYCLE
      signTurn++
      const { body, kind } = growthBody(s, setup, r, signed)
      const t = s.sign(setup.chain.chainId, body, setup.chain.minFee)
      signed++
      signedBytes += t.size
      pending.set(t.id, kind)
      lanes[s.lane]!.queue.push({ ...t, sender: s, kind })
    }
  }
  const signer = (async () => {
    while (!stopper.signal.aborted) {
      if (queued() < SIGN_LOW) {
        while (queued() < SIGN_HIGH && !stopper.signal.aborted) {
          signSlice()
          await new Promise((resolve) => setImmediate(resolve))
        }
      } else await sleep(5)
    }
  })()
  while (queued() < SIGN_HIGH) await sleep(20)

  const stats = new SubmitStats()
  const t0 = now()
  const t0Us = monotonicUs()
  const client0 = process.cpuUsage()
  const timeLimit = setTimeout(() => { console.log(`time limit (${TIME_LIMIT_S} s): stopping the load`); stopper.abort() }, TIME_LIMIT_S * 1000)
  let last = { t: t0, txs: 0 }
  const progress = setInterval(() => {
    void memoryOf(node?.proc.pid).then((mem) => {
      const t = now()
      console.log(`  ${((t - t0) / 1000).toFixed(0).padStart(5)} s: ${fmt(posts)} posts, ${fmt(accounts)} accounts, ${fmt(chainTxs)} load txs committed, ${fmt((chainTxs - last.txs) / ((t - last.t) / 1000))} tx/s over the last ${((t - last.t) / 1000).toFixed(0)} s; node RSS ${mem === null ? '—' : mb(mem.rss)}; client RSS ${mb(process.memoryUsage().rss)}, ${fmt(pending.size)} txs signed not yet seen committed`)
      last = { t, txs: chainTxs }
    })
  }, PROGRESS_MS)
  console.log(`funded ${SENDERS} senders, their seed posts committed; growing (a row at each checkpoint as its window ends):`)
  printHeader()
  await submitOpenLoop(lanes, {
    batch: BATCH,
    heads: watcher,
    signal: stopper.signal,
    more: async (lane: Lane<GrowthTx>) => {
      while (lane.queue.length === 0 && !stopper.signal.aborted) await sleep(2)
      return !stopper.signal.aborted
    }
  }, stats)
  const tEnd = now()
  clearTimeout(timeLimit)
  clearInterval(progress)
  await signer
  const client = process.cpuUsage(client0)

  // stopped early: the last window of txs before the stop, if a checkpoint was not reached
  if (mark < marks.length) {
    await sleep(2000)
    const seen = watcher.blocks.filter((x) => !Number.isNaN(x.seenAt) && x.headAt <= tEnd)
    let txs = 0
    let i = seen.length - 1
    while (i > 0 && txs < WINDOW) txs += seen[i--]!.txs
    const start = seen[i]
    const end = seen.at(-1)
    if (start !== undefined && end !== undefined && end.headAt > start.headAt) {
      const row: Row = { label: `end (${fmt(posts)})`, posts, accounts, rate: txs / ((end.headAt - start.headAt) / 1000), windowTxs: txs, windowS: (end.headAt - start.headAt) / 1000, rss: null, peak: null, disk: null, heap: null, postsThen: posts, nodeCores: null, threads: null, loadAvg: loadavg()[0]!, clientCores: null, fromUs: t0Us + (start.headAt - t0) * 1000, toUs: t0Us + (end.headAt - t0) * 1000 }
      rows.push(row)
      measuring.push(measure(row))
    }
  }
  await Promise.all(measuring)
  await watcher.stop()
  if (node !== null) await stopProc(node, 60_000)

  // ---- the table
  console.log(`\n=== growth: ${fmt(posts)} posts, ${fmt(accounts)} accounts (the client's count) in ${((tEnd - t0) / 1000).toFixed(0)} s ${RPC === undefined ? 'in one `chorus start --dev` node' : `into ${url}`}; ${fmt(signed)} txs signed (mean ${fmt(signedBytes / Math.max(1, signed))} bytes)`)
  printHeader()
  for (const r of rows) printRow(r, rows[0])
  console.log('node CPU by thread over each window, µs per committed tx (threads of one name summed):')
  for (const r of rows) {
    if (r.threads === null) continue
    const parts = [...r.threads].filter(([, s]) => s > 0).sort((a, b) => b[1] - a[1]).map(([name, s]) => `${name} ${fmt(s * 1e6 / r.windowTxs)}`)
    console.log(`  ${r.label}: ${parts.join(', ')}`)
  }
  if (profDir !== null) await printProfiles(profDir, startedAtMs, rows)
  const accepted = stats.accepted
  console.log(`client: ${((client.user + client.system) / 1e6 / ((tEnd - t0) / 1000)).toFixed(2)} cores, RSS ${mb(process.memoryUsage().rss)}; sent again (refused for room or load) ${fmt(stats.retries)} (${(stats.retries / Math.max(1, accepted)).toFixed(2)} per accepted tx); dropped ${fmt(stats.dropped)} (${stats.dead.size} senders)`)
  console.log(`refusals: ${stats.refused.size === 0 ? 'none' : [...stats.refused].map(([c, n]) => `${c} ${fmt(n)}`).join(', ')}`)
  for (const [c, m] of stats.refusedExample) if (!RETRYABLE.has(c)) console.log(`  ${c}: ${m.slice(0, 160)}`)
  if (watcher.errors > 0) console.log(`note: ${watcher.errors} chain_getBlock calls of the head watcher were refused or failed (and asked again)`)
  for (const s of children.logSummary()) if (s.warn + s.error > 0) console.log(`node log: warn ${s.warn}, error ${s.error}\n  ${s.examples.join('\n  ')}`)

  await children.finish(root, node)
}

/** Where a tx's time goes in the node (--cpu-prof): the functions totalled with what they call. */
const STAGES: Stage[] = [
  { label: 'HTTP request in, admission included (rpc/server onRequest)', fn: 'onRequest', file: 'rpc/server' },
  { label: '  dry run + mempool insert, under the lock (TxPool.admit)', fn: 'admit', file: 'chain/tx-pool' },
  { label: 'apply a tx to a state view (applyTx: the dry run, and executeBlock again)', fn: 'applyTx', file: 'state/transition' },
  { label: 'block build (Chain.buildBlock)', fn: 'buildBlock', file: 'chain/chain' },
  { label: 'block commit: execute + write (Chain.commitLocked)', fn: 'commitLocked', file: 'chain/chain' },
  { label: '  LevelDB batch write (Store.commit)', fn: 'commit', file: 'state/store' },
  { label: 'after commit: listeners, mempool.onBlock, subscriptions (emitCommitted)', fn: 'emitCommitted', file: 'chain/events' },
  { label: 'this bench\'s block reads (Chain.getBlock / getBlockTxIds)', fn: 'getBlockTxIds', file: 'chain/chain' },
  { label: 'state point read (Store.lookup)', fn: 'lookup', file: 'state/store' },
  { label: 'LevelDB sync get (getSync)', fn: 'getSync', file: 'level' },
  { label: 'garbage collector', fn: '(garbage collector)', file: '' },
  { label: 'idle (waiting: I/O, the lock, timers)', fn: '(idle)', file: '' }
]

const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n)
const cpuCores = (u: NodeJS.CpuUsage, ms: number): number => (u.user + u.system) / 1000 / ms

/**
 * Each row's window in the node's profiles (--cpu-prof writes one per thread: the main
 * thread's and each verify worker's), self time and stages per committed tx, so the
 * windows at 10k and 100k posts can be set side by side.
 */
async function printProfiles (dir: string, sinceMs: number, rows: Row[]): Promise<void> {
  const files: string[] = []
  for (const f of await readdir(dir)) if (f.endsWith('.cpuprofile') && (await stat(join(dir, f))).mtimeMs >= sinceMs) files.push(join(dir, f))
  if (files.length === 0) { console.log(`\nno .cpuprofile in ${dir} (did the node exit cleanly?)`); return }
  for (const file of files) {
    const profile = await readProfile(file)
    // the main thread's profile is the one that serves RPC; a verify worker's gets its busy time only
    const main = profile.nodes.some((n) => n.callFrame.functionName === 'onRequest')
    for (const r of rows) {
      const s = summarize(profile, { fromUs: r.fromUs, toUs: r.toUs }, 15)
      if (s.totalMs === 0) continue
      const idle = s.functions.find((f) => f.name === '(idle)')?.ms ?? 0
      console.log(`${main ? '\n' : ''}=== ${main ? 'main thread' : 'worker'} (${file}), window at ${r.label} posts (${fmt(r.windowTxs)} txs): busy ${fmt((s.totalMs - idle) * 1000 / r.windowTxs)} µs per committed tx (${fmt(s.totalMs - idle)} of ${fmt(s.totalMs)} ms)`)
      if (!main) continue
      printSummary({ ...s, files: [] }, r.windowTxs)
      console.log('inclusive time by stage:')
      for (const x of inclusive(profile, STAGES, { fromUs: s.fromUs, toUs: s.toUs })) {
        if (x.ms > 0) console.log(`  ${x.ms.toFixed(0).padStart(7)} ms ${(x.share * 100).toFixed(1).padStart(5)}%  ${(x.ms * 1000 / r.windowTxs).toFixed(1).padStart(7)} µs/tx  ${x.stage.label}`)
      }
    }
  }
}

const mb = (n: number | null): string => n === null || Number.isNaN(n) ? '—' : `${fmt(n / 1024 / 1024)} MB`

function printHeader (): void {
  const heap = METRICS ? ' | heap used / total | external' : ''
  console.log(`| posts | accounts | committed tx/s (window) | ÷ 10k rate | RSS | peak RSS | disk bytes/post${heap} | node CPU (cores) | tx per node CPU-s | client CPU (cores) | load avg |`)
  console.log(`|---|---|---|---|---|---|---${METRICS ? '|---|---' : ''}|---|---|---|---|`)
}

function printRow (r: Row, first: Row | undefined): void {
  const ratio = first === undefined || first.label !== fmt(10_000) ? '—' : (r.rate / first.rate).toFixed(2)
  const heap = METRICS ? ` | ${r.heap === null ? '—' : `${mb(r.heap.used)} / ${mb(r.heap.total)}`} | ${r.heap === null ? '—' : mb(r.heap.external)}` : ''
  console.log(`| ${r.label} | ${fmt(r.accounts)} | ${fmt(r.rate)} (${fmt(r.windowTxs)} txs, ${r.windowS.toFixed(1)} s) | ${ratio} | ${mb(r.rss)} | ${mb(r.peak)} | ${r.disk === null ? '—' : fmt(r.disk / r.postsThen)}${heap} | ${r.nodeCores === null ? '—' : r.nodeCores.toFixed(2)} | ${r.nodeCores === null ? '—' : fmt(r.rate / r.nodeCores)} | ${r.clientCores === null ? '—' : r.clientCores.toFixed(2)} | ${r.loadAvg.toFixed(1)} |`)
}

main().then(() => process.exit(0), async (e: unknown) => {
  console.error(e)
  await children.reportFailure()
  process.exit(1)
})

/**
 * The node's RSS by kind of mapping (/proc/PID/smaps): glibc's main arena ([heap], grown by brk),
 * anonymous mappings (V8's pages, other threads' malloc arenas, stacks, large mallocs), LevelDB's
 * tables (mapped .ldb files), the node binary, other files.
 */
async function rssByMapping (pid: number | undefined): Promise<Record<string, number> | null> {
  if (pid === undefined) return null
  let text: string
  try { text = await readFile(`/proc/${pid}/smaps`, 'utf8') } catch { return null }
  const out: Record<string, number> = { '[heap]': 0, anon: 0, '.ldb': 0, binary: 0, 'other files': 0 }
  let kind = 'anon'
  for (const line of text.split('\n')) {
    const m = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \d+\s*(.*)$/.exec(line)
    if (m !== null) {
      const path = m[1]!
      kind = path === '[heap]' ? '[heap]' : path === '' || path.startsWith('[') ? 'anon' : path.endsWith('.ldb') ? '.ldb' : path === process.execPath || path.endsWith('/node') ? 'binary' : 'other files'
    } else if (line.startsWith('Rss:')) out[kind]! += Number(/(\d+)/.exec(line)![1]) * 1024
  }
  return out
}
