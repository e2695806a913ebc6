/**
 * The single-node write path at saturation (issue #10), beside one core's node:crypto
 * Ed25519 verify rate (cached KeyObject) measured in the same run, and their ratio.
 *   1. Verify rate: OpenSSL verify with a cached key on one core of this process, before
 *      the node starts and again after it stops; the higher of the two is the baseline
 *      (the machine's noise only lowers it).
 *   2. Load: one `chorus start --dev` child (HOME and CHORUS_HOME in a temp dir), or the
 *      nodes at --rpc. 200 senders are funded by transfers from the dev key and make two
 *      seed posts each (what likes point at); then the whole load is signed up front
 *      (OpenSSL; 70% posts, 15% follows, 15% likes) and submitted with tx_submit (no wait)
 *      in JSON-RPC batches of 50, open loop: each of 8 lanes sends its next batch as soon
 *      as the last one is answered (a sender always uses the same lane, so its nonces
 *      arrive in order; lane i submits to URL i mod n). A tx refused for room or load
 *      (MEMPOOL_FULL, RATE_LIMITED, BUSY, a transport error; and the same sender's later txs
 *      in that batch, BAD_NONCE) goes back to the head of its lane, which waits for the
 *      next block (MEMPOOL_FULL) or backs off (10 ms, doubling to 160 ms while refused);
 *      any other refusal drops the sender's remaining txs. Each lane sends from its own
 *      loopback address (127.0.0.10, .11, …), as separate clients would: the node admits
 *      32 units of RPC work in flight per client IP (16 tx_submit calls), which one client
 *      with 8 batches of 50 in flight would pass.
 * Reported: admission tx/s (txs accepted ÷ the time from the first batch to the last
 * answer; also up to the first MEMPOOL_FULL, before the pool's room limits it), committed
 * tx/s (a block counts from when it first shows as the head to a client: its event on a
 * newHeads subscription at /ws, pushed, so not held up by the RPC admission that refuses
 * part of this client's calls; over the blocks from the load's start to the last block with
 * load txs, the first 20% of that time left out as warm-up), submit→commit p50/p99 (from sending the
 * batch that got the tx accepted to its block showing as the head), the node's RSS
 * (/proc VmRSS at the end, VmHWM peak) and CPU: cores, and µs per committed tx by thread
 * name (/proc/PID/task: the main thread, the verify worker, V8's GC helpers, LevelDB's threads), read
 * at the load's start and the drain's end only, so that nothing samples the node meanwhile.
 *   npx tsx scripts/bench/load.ts [--txs N] [--senders 200] [--lanes 8] [--batch 50]
 *     [--rpc URL[,URL…] [--key FILE]] [--cpu-prof DIR] [--node-arg ARG]... [--start-arg ARG]... [--keep]
 * --txs defaults to 100,000 (40–50 s at 2,000–2,500 tx/s). --rpc targets running nodes
 * (funded from --key, default $CHORUS_HOME/keys/dev.json or ~/.chorus/keys/dev.json; no RSS
 * or profile then). --cpu-prof DIR runs the node with `node --cpu-prof --cpu-prof-dir DIR`
 * and prints the top self-time functions of the load window. --node-arg ARG (repeatable) gives
 * the node's `node` a flag; --start-arg ARG (repeatable) gives `chorus start` one
 * (`--start-arg --memory-target=off`). --keep leaves the temp dir
 * and the node's log. Every child is SIGKILLed and the temp dir removed on exit, failure
 * or signal; the child also stops if this process dies (stdin).
 */
import { mkdir, mkdtemp, readdir, stat } from 'node:fs/promises'
import { cpus, homedir, loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { RpcClient } from '../../src/client/rpc-client.ts'
import { type ProfileSummary, type Stage, inclusive, printSummary, readProfile, summarize } from './cpuprofile.ts'
import {
  type BlockSeen, Children, HeadWatcher, type LaneTx, type Proc, RETRYABLE, SubmitStats,
  cpuSeconds, devKey, flag, flagValues, fmt, keyFromFile, loadShape, makeLanes, memoryOf, nextBody, now, prepareSocial, q, sleep, startDevNode, stopProc, submitOpenLoop, threadCpu
} from './social-load.ts'
import { cachedKeyVerify, verifyItems, verifyRate } from './verify-rate.ts'

const USAGE = 'usage: load.ts [--txs N] [--senders N] [--lanes N] [--batch N] [--rpc URL[,URL…] [--key FILE]] [--cpu-prof DIR] [--node-arg ARG]... [--start-arg ARG]... [--keep]'
const TXS = Number(flag('--txs') ?? 100_000)
const { senders: SENDERS, lanes: LANES, batch: BATCH } = loadShape()
const RPC = flag('--rpc')?.split(',').filter((u) => u !== '')
const KEY_FILE = flag('--key')
const CPU_PROF = flag('--cpu-prof')
const KEEP = process.argv.includes('--keep')
/** Flags for the node's `node` and for its `chorus start`, to compare settings. */
const NODE_ARGS = flagValues('--node-arg')
const START_ARGS = flagValues('--start-arg')
if (!(TXS >= 1) || !(SENDERS >= 2) || !(LANES >= 1) || !(BATCH >= 1) || (RPC !== undefined && RPC.length === 0)) throw new Error(USAGE)
if (RPC !== undefined && (CPU_PROF !== undefined || NODE_ARGS.length > 0 || START_ARGS.length > 0)) throw new Error('--cpu-prof, --node-arg and --start-arg need the node this script starts (not --rpc)')

/** Verifications timed for the baseline (about 2 s on one core). */
const VERIFY_COUNT = 30_000
const WARMUP = 0.2
/** The drain ends when every accepted tx is committed, none has been for this long, or after DRAIN_MAX_MS. */
const DRAIN_IDLE_MS = 15_000
const DRAIN_MAX_MS = 180_000

/** Where a tx's time goes in the node (--cpu-prof): the functions totalled with what they call. */
const STAGES: Stage[] = [
  { label: 'HTTP request in: read, JSON.parse, admission (rpc/server onRequest)', fn: 'onRequest', file: 'rpc/server' },
  { label: 'tx_submit: TxPool.submit, all of it', fn: 'submit', file: 'chain/tx-pool' },
  { label: '  decode the tx (decodeSignedTx)', fn: 'decodeSignedTx', file: 'codec/tx' },
  { label: '  verify the signature (verifySignature)', fn: 'verifySignature', file: 'crypto/verify' },
  { label: '  dry run + mempool insert, under the lock (TxPool.admit)', fn: 'admit', file: 'chain/tx-pool' },
  { label: 'apply a tx to a state view (applyTx: the dry run, and executeBlock again)', fn: 'applyTx', file: 'state/transition' },
  { label: 'answers out: JSON text to the socket (rpc/server sendText)', fn: 'sendText', file: 'rpc/server' },
  { label: 'block build (Chain.buildBlock)', fn: 'buildBlock', file: 'chain/chain' },
  { label: 'block commit: execute + write (Chain.commitLocked)', fn: 'commitLocked', file: 'chain/chain' },
  { label: '  execute the txs again (executeBlock)', fn: 'executeBlock', file: 'chain/execute' },
  { label: '  LevelDB batch write (Store.commit)', fn: 'commit', file: 'state/store' },
  { label: 'proposal gossip encode (Driver.broadcastProposal)', fn: 'broadcastProposal', file: 'consensus/driver' },
  { label: 'after commit: listeners, mempool.onBlock, subscriptions (emitCommitted)', fn: 'emitCommitted', file: 'chain/events' },
  { label: 'this bench\'s block reads (Chain.getBlock)', fn: 'getBlock', file: 'chain/chain' },
  { label: 'account record read + decode (readAccount)', fn: 'readAccount', file: 'state/transition' },
  { label: 'LevelDB get (classic-level _get)', fn: '_get', file: 'classic-level' },
  { label: 'canonical encode (encodeCanonical)', fn: 'encodeCanonical', file: 'codec/canonical' },
  { label: 'canonical decode (decodeCanonical)', fn: 'decodeCanonical', file: 'codec/canonical' },
  { label: 'hex (toHex)', fn: 'toHex', file: 'crypto/bytes' },
  { label: 'garbage collector', fn: '(garbage collector)', file: '' },
  { label: 'idle (waiting: I/O, the lock, timers)', fn: '(idle)', file: '' }
]

const children = new Children(KEEP)

function measureVerify (): number {
  const items = verifyItems(2000)
  return verifyRate('OpenSSL verify, cached key', items, VERIFY_COUNT, cachedKeyVerify(items))
}

async function startNode (root: string): Promise<{ node: Proc, url: string, home: string, profDir: string | null }> {
  const profDir = CPU_PROF === undefined ? null : resolve(CPU_PROF)
  if (profDir !== null) await mkdir(profDir, { recursive: true })
  const dev = await startDevNode(children, root, { blockTimeMs: 1000, nodeArgs: [...NODE_ARGS, ...(profDir === null ? [] : ['--cpu-prof', '--cpu-prof-dir', profDir])], args: START_ARGS })
  return { ...dev, profDir }
}

/** The newest .cpuprofile in `dir` written since `sinceMs` (epoch ms). */
async function newestProfile (dir: string, sinceMs: number): Promise<string | null> {
  let best: { file: string, at: number } | null = null
  for (const f of await readdir(dir)) {
    if (!f.endsWith('.cpuprofile')) continue
    const at = (await stat(join(dir, f))).mtimeMs
    if (at >= sinceMs && (best === null || at > best.at)) best = { file: join(dir, f), at }
  }
  return best?.file ?? null
}

const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n)

async function main (): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'chorus-bench-load-'))
  children.tempDirs.push(root)
  console.log(`${cpus().length} cores (${cpus()[0]?.model ?? '?'}), Node ${process.version}, load average ${loadavg()[0]!.toFixed(2)}; ${fmt(TXS)} txs from ${SENDERS} senders, batches of ${BATCH}, ${LANES} lanes; temp dir ${root}`)

  const verify0 = measureVerify()
  console.log(`verify (node:crypto, cached key, one core): ${fmt(verify0)}/s`)

  const startedAtMs = Date.now()
  let node: Proc | null = null
  let profDir: string | null = null
  let urls: string[]
  let devSecret: Uint8Array
  if (RPC === undefined) {
    const started = await startNode(root)
    node = started.node
    profDir = started.profDir
    urls = [started.url]
    devSecret = await devKey(started.home)
    console.log(`node: pid ${node.proc.pid}, ${node.url}${profDir === null ? '' : `, profiling into ${profDir}`}`)
  } else {
    urls = RPC
    devSecret = await keyFromFile(KEY_FILE ?? join(process.env.CHORUS_HOME ?? join(homedir(), '.chorus'), 'keys', 'dev.json'))
  }
  const head0 = await new RpcClient(urls[0]!, { timeoutMs: 30_000 }).getHead()
  const poller = await HeadWatcher.open(urls[0]!, head0.height + 1)
  const setup = await prepareSocial(urls, devSecret, poller, { senders: SENDERS, lanes: LANES, batch: BATCH })
  console.log(`funded ${SENDERS} senders, their seed posts committed`)

  // ---- sign the whole load first
  const ts = now()
  // each lane a client of its own, from its own loopback address (the node limits RPC work per client IP)
  const lanes = makeLanes<LaneTx>(urls, LANES)
  let signedBytes = 0
  for (let i = 0; i < TXS; i++) {
    const s = setup.senders[i % setup.senders.length]!
    const t = s.sign(setup.chain.chainId, nextBody(s, setup), setup.chain.minFee)
    signedBytes += t.size
    lanes[s.lane]!.queue.push({ ...t, sender: s })
  }
  console.log(`signed ${fmt(TXS)} txs in ${((now() - ts) / 1000).toFixed(1)} s (mean ${fmt(signedBytes / TXS)} bytes); submitting…`)

  // ---- submit, open loop
  const acceptedAt = new Map<string, number>()
  const stats = new SubmitStats()
  const blocksBefore = poller.blocks.length
  const cpu0 = await cpuSeconds(node?.proc.pid)
  const threads0 = await threadCpu(node?.proc.pid)
  const client0 = process.cpuUsage()
  const t0 = now()
  const t0Us = monotonicUs()
  await submitOpenLoop(lanes, {
    batch: BATCH,
    heads: poller,
    onAccepted: (t, at, known) => { if (!known || !acceptedAt.has(t.id)) acceptedAt.set(t.id, at) }
  }, stats)
  const { accepted, retries, dropped, dead, refused, refusedExample, rtts } = stats
  const tSubmitEnd = now()

  // ---- drain
  const unseen = (): number => { let n = 0; for (const id of acceptedAt.keys()) if (!poller.committedAt.has(id)) n++; return n }
  let lastProgress = now()
  let lastUnseen = unseen()
  while (now() - tSubmitEnd < DRAIN_MAX_MS) {
    const u = unseen()
    if (u === 0) break
    if (u < lastUnseen) { lastUnseen = u; lastProgress = now() }
    if (now() - lastProgress > DRAIN_IDLE_MS) break
    await sleep(100)
  }
  const cpu1 = await cpuSeconds(node?.proc.pid)
  const threads1 = await threadCpu(node?.proc.pid)
  const client1 = process.cpuUsage(client0)
  const mem = await memoryOf(node?.proc.pid)
  await poller.stop()

  // ---- the figures
  const latencies: number[] = []
  let uncommitted = 0
  for (const [id, at] of acceptedAt) {
    const c = poller.committedAt.get(id)
    if (c === undefined) uncommitted++
    else latencies.push(c - at)
  }
  latencies.sort((a, b) => a - b)
  rtts.sort((a, b) => a - b)
  const blocks = poller.blocks.slice(blocksBefore)
  const lastLoad = blocks.findLastIndex((x) => x.txs > 0)
  if (lastLoad < 0) throw new Error('no block with load txs was seen')
  const tLast = blocks[lastLoad]!.headAt
  /** Committed tx/s over the blocks after the last one that was head by `from`, through the last seen by `to`. */
  const committedBetween = (from: number, to: number): { rate: number, blocks: BlockSeen[] } => {
    const b0 = blocks.findLastIndex((x) => x.headAt <= from)
    const b1 = blocks.findLastIndex((x) => x.headAt <= to)
    const start = b0 < 0 ? t0 : blocks[b0]!.headAt
    const counted = blocks.slice(b0 + 1, b1 + 1).filter((x) => x.headAt > start)
    const txs = counted.reduce((s, x) => s + x.txs, 0)
    return { rate: txs / ((counted.at(-1)?.headAt ?? start) - start) * 1000, blocks: counted }
  }
  const cut = t0 + WARMUP * (tLast - t0)
  const committed = committedBetween(cut, tLast)
  const whileSubmitting = committedBetween(cut, tSubmitEnd)
  const submitS = (tSubmitEnd - t0) / 1000
  const spanS = (tLast - t0) / 1000
  const admission = accepted / submitS
  const ff = stats.firstFull
  const admissionBeforeFull = ff === null ? admission : ff.accepted / ((ff.t - t0) / 1000)

  // the node stops before the second baseline (a quiet core), and writes its profile as it exits
  const profileSince = startedAtMs
  if (node !== null) await stopProc(node, 120_000)
  const verify1 = measureVerify()
  const verify = Math.max(verify0, verify1)

  const row = (label: string, value: string): string => `${label.padEnd(52)} ${value}`
  const mb = (n: number): string => `${fmt(n / 1024 / 1024)} MB`
  console.log(`\n=== write path: ${fmt(TXS)} txs (70% posts, 15% follows, 15% likes; ${SENDERS} senders; batches of ${BATCH}, ${LANES} in flight) ${RPC === undefined ? 'into one `chorus start --dev` node' : `into ${urls.join(', ')}`}`)
  console.log(row('verify/s, node:crypto cached key, one core', `${fmt(verify)} (before ${fmt(verify0)}, after ${fmt(verify1)})`))
  console.log(row('admission tx/s (accepted ÷ submit time)', `${fmt(admission)} (${fmt(accepted)} in ${submitS.toFixed(1)} s)`))
  console.log(row('  until the first MEMPOOL_FULL', ff === null ? 'the pool never filled' : `${fmt(admissionBeforeFull)} (${fmt(ff.accepted)} in ${((ff.t - t0) / 1000).toFixed(1)} s)`))
  console.log(row(`committed tx/s (load blocks, first ${WARMUP * 100}% left out)`, `${fmt(committed.rate)} (${committed.blocks.length} blocks, ${fmt(committed.blocks.reduce((s, x) => s + x.txs, 0))} txs)`))
  console.log(row('  same, up to the end of the submission', `${fmt(whileSubmitting.rate)} (${whileSubmitting.blocks.length} blocks)`))
  console.log(row('  all load txs ÷ start to the last load block', `${fmt(latencies.length / spanS)} (${spanS.toFixed(1)} s)`))
  console.log(row('ratio: committed ÷ verify/s', (committed.rate / verify).toFixed(3)))
  console.log(row('submit→commit p50 / p99 / max (ms)', `${fmt(q(latencies, 0.5))} / ${fmt(q(latencies, 0.99))} / ${fmt(latencies.at(-1) ?? NaN)}`))
  console.log(row('tx_submit batch round trip p50 / p99 (ms)', `${fmt(q(rtts, 0.5))} / ${fmt(q(rtts, 0.99))}`))
  console.log(row('node RSS peak / end', mem === null ? 'not measured' : `${mb(mem.peak)} / ${mb(mem.rss)}`))
  console.log(row('CPU cores used, load start to drain end: node | client', `${node === null ? '—' : ((cpu1 - cpu0) / ((now() - t0) / 1000)).toFixed(2)} | ${((client1.user + client1.system) / 1e6 / ((now() - t0) / 1000)).toFixed(2)}`))
  // CPU time, not throughput: less at the mercy of what else the machine runs (read at the same two points, nothing sampled between)
  const committedLoad = accepted - uncommitted
  if (threads1.size > 0 && committedLoad > 0) {
    const perTx = [...threads1].map(([name, s]): [string, number] => [name, (s - (threads0.get(name) ?? 0)) * 1e6 / committedLoad]).filter(([, us]) => us >= 0.5).sort((a, b) => b[1] - a[1])
    console.log(row('node CPU per committed load tx, by thread (µs)', `${perTx.map(([name, us]) => `${name} ${us.toFixed(0)}`).join(', ')}; all ${perTx.reduce((n, [, us]) => n + us, 0).toFixed(0)}`))
  }
  console.log(row('blocks with load txs: count, mean / largest (txs)', `${blocks.filter((x) => x.txs > 0).length}, ${fmt(latencies.length / Math.max(1, blocks.filter((x) => x.txs > 0).length))} / ${fmt(Math.max(0, ...blocks.map((x) => x.txs)))}`))
  console.log(row('sent again (refused for room or load)', `${fmt(retries)} (${(retries / Math.max(1, accepted)).toFixed(2)} per accepted tx)`))
  console.log(row('accepted, not committed after the drain', fmt(uncommitted)))
  console.log(row('dropped (sender refused for another reason)', `${fmt(dropped)} (${dead.size} senders)`))
  console.log(`refusals: ${refused.size === 0 ? 'none' : [...refused].map(([c, n]) => `${c} ${fmt(n)}`).join(', ')}`)
  for (const [c, m] of refusedExample) if (!RETRYABLE.has(c)) console.log(`  ${c}: ${m.slice(0, 160)}`)
  if (poller.errors > 0) console.log(`note: ${poller.errors} chain_getBlock calls of the head watcher were refused or failed (and asked again)`)
  for (const s of children.logSummary()) if (s.warn + s.error > 0) console.log(`node log: warn ${s.warn}, error ${s.error}\n  ${s.examples.join('\n  ')}`)

  if (profDir !== null) {
    const file = await newestProfile(profDir, profileSince)
    if (file === null) console.log(`\nno .cpuprofile in ${profDir} (did the node exit cleanly?)`)
    else {
      const profile = await readProfile(file)
      // the load window in the profile's clock (both CLOCK_MONOTONIC µs); the whole profile if they do not overlap
      const fromUs = t0Us
      const toUs = t0Us + (tLast - t0) * 1000
      let s: ProfileSummary = summarize(profile, { fromUs, toUs }, 15)
      let which = 'the load (first batch to the last load block)'
      if (s.totalMs < 0.5 * (toUs - fromUs) / 1000) { s = summarize(profile, {}, 15); which = 'the whole run (the load window did not match the profile\'s clock)' }
      console.log(`\n=== node CPU profile ${file}, over ${which}; µs/tx per committed load tx`)
      printSummary(s, latencies.length)
      const idle = s.functions.find((f) => f.name === '(idle)')?.ms ?? 0
      console.log(`main thread busy ${fmt((s.totalMs - idle) * 1000 / latencies.length)} µs per committed tx (${fmt(s.totalMs - idle)} ms of ${fmt(s.totalMs)} ms)`)
      console.log('inclusive time by stage (what the function calls included; stages overlap; an async function\'s work after an await counts where it resumes, not under its caller):')
      for (const x of inclusive(profile, STAGES, { fromUs: s.fromUs, toUs: s.toUs })) {
        console.log(`  ${x.ms.toFixed(0).padStart(7)} ms ${(x.share * 100).toFixed(1).padStart(5)}%  ${(x.ms * 1000 / latencies.length).toFixed(1).padStart(7)} µs/tx  ${x.stage.label}`)
      }
    }
  }

  await children.finish(root, node)
}

main().then(() => process.exit(0), async (e: unknown) => {
  console.error(e)
  await children.reportFailure()
  process.exit(1)
})
