/**
 * The network end to end: real `chorus` processes talking libp2p over loopback, each
 * figure beside a baseline measured in the same run.
 *   1. Load: a steady, rate-controlled stream of signed social txs (70% posts, 15% follows,
 *      15% likes, from 200 senders funded first by transfers from the dev key, each with two
 *      seed posts for the likes) submitted with tx_submit (no wait) in JSON-RPC batches of
 *      up to 50 (a batch leaves when full or when its oldest tx has waited 100 ms), one
 *      request in flight per lane (8 lanes by default; a sender always uses the same lane, so
 *      its nonces arrive in order; a tx the client could not send before the end is dropped
 *      and counted). Against 4 validator processes (1,000 ms blocks) lane i submits to
 *      validator i mod 4; the baseline is the same load against one `chorus start --dev`
 *      process (no network). Reported: committed tx/s (txs in the blocks a poller of node0
 *      saw committed during the load, its first 20% left out as warm-up; and all load txs
 *      over the time from the start to the last of them), submit→commit latency p50/p99 as
 *      the client sees it (from sending the batch to the poller seeing the tx's block: it asks
 *      chain_getHead every 50 ms and reads each new block), and P2P bytes sent per committed
 *      tx: the bytes_sent of every TCP socket on the validators' P2P ports (`ss -tin`:
 *      gossip, consensus, sync, noise and yamux framing, all of it) from the start of the
 *      load to the end of the drain, also with the idle rate (empty blocks) taken off; and each
 *      node's CPU per committed load tx (µs, /proc over the same span): what a tx costs a node,
 *      less at the mercy of the machine's other load than the rates.
 *   2. Catch-up: a fresh full node (`init --genesis` from node0, bootstrapped to node0 only)
 *      syncing a chain of at least [min-chain-txs] txs (more load, not measured, is submitted
 *      first if the chain is short): blocks/s and tx/s from the first block it has to the
 *      validators' height at its start. Baseline: the same blocks checked and committed in
 *      this process (Chain.checkBlock + commitBlock, every signature verified, as blocks.ts's
 *      follower), read from node0's store into a fresh one once the processes have stopped.
 *   npx tsx scripts/bench/network.ts [tx/s] [seconds] [min-chain-txs] [--lanes N] [--keep] [--verbose] [--node-debug] [--cpu-prof DIR]
 * Defaults: 1,000 tx/s for 30 s, 20,000 txs, 8 lanes; about 2–2.5 minutes. --keep leaves the
 * homes and node logs in the temp dir it prints; --verbose prints the network load's blocks;
 * --node-debug runs the nodes at log level debug; --cpu-prof DIR runs each validator and the
 * full node with `node --cpu-prof --cpu-prof-dir DIR/<name>` and prints node1's top self times over
 * the measured load and the full node's over its catch-up (scripts/bench/cpuprofile.ts). Every child is SIGKILLed and the temp dir
 * removed on exit, failure or signal; the children also stop if this process dies (stdin).
 * The processes, the signer, the poller and the social mix are shared with load.ts (social-load.ts).
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { Chain } from '../../src/chain/chain.ts'
import { parseGenesis } from '../../src/chain/genesis.ts'
import { encodeAddress } from '../../src/crypto/address.ts'
import { verifySignature } from '../../src/crypto/verify.ts'
import { Store } from '../../src/state/store.ts'
import { printSummary, readProfile, summarize } from './cpuprofile.ts'
import {
  CLI, Children, Fatal, type Proc, type Sender, type SocialSetup, Poller, SEED_POSTS_PER_SENDER,
  cpuSeconds, devKey, flag, fmt, freeRange, nextBody, now, prepareSocial, q, rpcBatch, sleep, stopProc, waitForRpc, waitUntil
} from './social-load.ts'

const positional = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && all[i - 1] !== '--lanes' && all[i - 1] !== '--cpu-prof')
const RATE = Number(positional[0] ?? 1000)
const SECONDS = Number(positional[1] ?? 30)
const MIN_CHAIN_TXS = Number(positional[2] ?? 20_000)
const KEEP = process.argv.includes('--keep')
/** Requests in flight: one per lane; lane i submits to node i mod 4. */
const LANES = Number(flag('--lanes') ?? 8)
const VERBOSE = process.argv.includes('--verbose')
/** --node-debug: the nodes log at debug level (for diagnosis; the logs are large). */
const NODE_DEBUG = process.argv.includes('--node-debug')
/** --cpu-prof DIR: validators and the full node write V8 CPU profiles to DIR/<name> (on a clean exit). */
const CPU_PROF = flag('--cpu-prof')
function profArgs (name: string): string[] {
  if (CPU_PROF === undefined) return []
  const dir = join(resolve(CPU_PROF), name)
  mkdirSync(dir, { recursive: true }) // node writes no profile into a missing directory
  return ['--cpu-prof', '--cpu-prof-dir', dir]
}
const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n)
if (!(RATE > 0) || !(SECONDS > 0) || !(MIN_CHAIN_TXS >= 0) || !(LANES >= 1)) throw new Error('usage: network.ts [tx/s] [seconds] [min-chain-txs] [--lanes N] [--keep] [--verbose] [--node-debug] [--cpu-prof DIR]')

const VALIDATORS = 4
const SENDERS = 200
const BATCH = 50
/** A lane sends a smaller batch once its oldest queued tx has waited this long. */
const BATCH_WAIT_MS = 100
const WARMUP = 0.2
const DRAIN_MAX_MS = 30_000
/** The drain also ends when no load tx has committed for this long. */
const DRAIN_IDLE_MS = 10_000
const IDLE_MS = 4_000

const children = new Children(KEEP)
const procs = children.procs

// ---------------------------------------------------------------- CPU and P2P bytes

let ssAvailable = (() => { try { execFileSync('ss', ['-V'], { stdio: 'ignore' }); return true } catch { return false } })()

/** bytes_sent of each TCP socket with an end on one of `ports`, by "local peer". */
function p2pSockets (ports: Set<number>): Map<string, number> | null {
  if (!ssAvailable) return null
  let out: string
  try {
    out = execFileSync('ss', ['-tinH'], { maxBuffer: 64 * 1024 * 1024 }).toString()
  } catch {
    ssAvailable = false
    return null
  }
  const sockets = new Map<string, number>()
  let current: string | null = null
  const port = (addr: string): number => Number(addr.slice(addr.lastIndexOf(':') + 1))
  for (const line of out.split('\n')) {
    if (line.trim() === '') continue
    if (!/^\s/.test(line)) {
      const f = line.trim().split(/\s+/)
      const local = f[3] ?? ''
      const peer = f[4] ?? ''
      current = ports.has(port(local)) || ports.has(port(peer)) ? `${local} ${peer}` : null
      continue
    }
    if (current === null) continue
    const m = /bytes_sent:(\d+)/.exec(line)
    sockets.set(current, m === null ? 0 : Number(m[1]))
    current = null
  }
  return sockets
}

/** Bytes sent between two samples: sockets in both by difference, new sockets in full; closed ones counted (unmeasured). */
function bytesBetween (a: Map<string, number> | null, b: Map<string, number> | null): { bytes: number, closed: number, sockets: number } | null {
  if (a === null || b === null) return null
  let bytes = 0
  let closed = 0
  for (const [k, v] of b) bytes += v - (a.get(k) ?? 0)
  for (const k of a.keys()) if (!b.has(k)) closed++
  return { bytes, closed, sockets: b.size }
}

// ---------------------------------------------------------------- the load

interface LoadResult {
  offered: number
  sent: number
  accepted: number
  dropped: number
  rejected: Map<string, number>
  rejectExample: Map<string, string>
  windowMs: number
  committedInWindow: number
  latencies: number[]
  /** Load txs committed ÷ the time from the start of the load to the last of them. */
  sustained: number
  /** Client round trip of each tx_submit batch (ms, sorted). */
  rtts: number[]
  uncommitted: number
  blocksInWindow: number
  maxBlockTxs: number
  drainMs: number
  txBytes: number
  /** Each node's CPU from the load's start to the drain's end: cores, and seconds. */
  cpu: Array<{ name: string, cores: number, seconds: number }>
  clientCores: number
  p2p: { bytes: number, closed: number, sockets: number } | null
  p2pMs: number
  committedLoadTxs: number
}

interface LoadSetup extends SocialSetup {
  poller: Poller
  nodes: Proc[]
  p2pPorts: Set<number> | null
}

async function runLoad (setup: LoadSetup, rate: number, seconds: number, measure: boolean): Promise<LoadResult> {
  const { senders, urls, chain, poller } = setup
  const lanes = Array.from({ length: LANES }, (_, i) => ({ url: urls[i % urls.length]!, queue: [] as Array<{ sender: Sender, at: number }> }))
  const sentAt = new Map<string, number>()
  const rejected = new Map<string, number>()
  const rejectExample = new Map<string, string>()
  const rtts: number[] = []
  let offered = 0
  let sent = 0
  let accepted = 0
  let txBytes = 0
  let stopped = false
  let rr = 0

  const cpu0 = await Promise.all(setup.nodes.map(async (p) => await cpuSeconds(p.proc.pid)))
  const client0 = process.cpuUsage()
  const ss0 = setup.p2pPorts === null ? null : p2pSockets(setup.p2pPorts)
  const p2pStart = now()
  const firstNewBlock = poller.blocks.length
  const t0 = now()
  const tEnd = t0 + seconds * 1000

  const scheduler = (async () => {
    while (now() < tEnd) {
      const due = Math.floor(rate * Math.min(now() - t0, seconds * 1000) / 1000) - offered
      for (let i = 0; i < due; i++) {
        const s = senders[rr++ % senders.length]!
        lanes[s.lane]!.queue.push({ sender: s, at: now() })
        offered++
      }
      await sleep(5)
    }
    stopped = true
  })()

  const laneLoop = async (lane: typeof lanes[number]): Promise<void> => {
    while (!stopped) {
      const q = lane.queue
      if (q.length < BATCH && (q.length === 0 || now() - q[0]!.at < BATCH_WAIT_MS)) { await sleep(5); continue }
      const items = q.splice(0, BATCH)
      const resync = [...new Set(items.map((x) => x.sender).filter((s) => s.resync))]
      if (resync.length > 0) {
        const r = await rpcBatch(lane.url, resync.map((s) => ['account_get', [encodeAddress(s.publicKey, chain.prefix)]]))
        resync.forEach((s, i) => { if (r[i]!.result !== undefined) { s.nonce = Number(r[i]!.result.pendingNonce); s.resync = false } })
      }
      const txs = items.map(({ sender }) => ({ sender, ...sender.sign(chain.chainId, nextBody(sender, setup), chain.minFee) }))
      const at = now()
      for (const t of txs) { sentAt.set(t.id, at); txBytes += t.size }
      sent += txs.length
      const replies = await rpcBatch(lane.url, txs.map((t) => ['tx_submit', [t.hex]]))
      rtts.push(now() - at)
      replies.forEach((r, i) => {
        const t = txs[i]!
        if (r.error === undefined) { accepted++; return }
        sentAt.delete(t.id)
        const code = r.error.data?.code ?? String(r.error.code)
        rejected.set(code, (rejected.get(code) ?? 0) + 1)
        if (!rejectExample.has(code)) rejectExample.set(code, r.error.message)
        if (code === 'ALREADY_KNOWN') return
        if (code === 'BAD_NONCE') t.sender.resync = true
        else t.sender.nonce = Math.min(t.sender.nonce, t.nonce)
      })
    }
  }
  await Promise.all([scheduler, ...lanes.map(laneLoop)])
  const loadEnd = now()
  const dropped = lanes.reduce((s, l) => s + l.queue.length, 0)

  // drain: until every accepted tx is seen committed, none has been for DRAIN_IDLE_MS, or DRAIN_MAX_MS
  const unseen = (): number => { let n = 0; for (const id of sentAt.keys()) if (!poller.committedAt.has(id)) n++; return n }
  let lastProgress = now()
  let lastUnseen = unseen()
  while (measure && now() - loadEnd < DRAIN_MAX_MS) {
    const u = unseen()
    if (u === 0) break
    if (u < lastUnseen) { lastUnseen = u; lastProgress = now() }
    if (now() - lastProgress > DRAIN_IDLE_MS) break
    await sleep(100)
  }
  const drainEnd = now()
  const ss1 = setup.p2pPorts === null ? null : p2pSockets(setup.p2pPorts)
  const cpu1 = await Promise.all(setup.nodes.map(async (p) => await cpuSeconds(p.proc.pid)))
  const client1 = process.cpuUsage(client0)

  const windowStart = t0 + WARMUP * seconds * 1000
  const inWindow = poller.blocks.slice(firstNewBlock).filter((x) => x.seenAt >= windowStart && x.seenAt <= loadEnd)
  const latencies: number[] = []
  let uncommitted = 0
  let lastCommit = t0
  for (const [id, at] of sentAt) {
    const c = poller.committedAt.get(id)
    if (c === undefined) uncommitted++
    else { latencies.push(c - at); lastCommit = Math.max(lastCommit, c) }
  }
  latencies.sort((x, y) => x - y)
  rtts.sort((x, y) => x - y)
  const span = (drainEnd - t0) / 1000
  return {
    offered, sent, accepted, dropped, rejected, rejectExample,
    windowMs: loadEnd - windowStart,
    committedInWindow: inWindow.reduce((s, x) => s + x.txs, 0),
    blocksInWindow: inWindow.length,
    maxBlockTxs: Math.max(0, ...poller.blocks.slice(firstNewBlock).map((x) => x.txs)),
    latencies, uncommitted, rtts,
    sustained: latencies.length / ((lastCommit - t0) / 1000),
    drainMs: drainEnd - loadEnd,
    txBytes,
    cpu: setup.nodes.map((p, i) => ({ name: p.name, cores: (cpu1[i]! - cpu0[i]!) / span, seconds: cpu1[i]! - cpu0[i]! })),
    clientCores: (client1.user + client1.system) / 1e6 / span,
    p2p: bytesBetween(ss0, ss1),
    p2pMs: drainEnd - p2pStart,
    committedLoadTxs: latencies.length
  }
}

/** Funds the senders from the dev key and has each make its seed posts (what likes point at). */
/** Funds the senders from the dev key and has each make its seed posts (what likes point at). */
async function prepare (nodes: Proc[], devSecret: Uint8Array, poller: Poller, p2pPorts: Set<number> | null): Promise<LoadSetup> {
  const social = await prepareSocial(nodes.map((p) => p.url), devSecret, poller, { senders: SENDERS, lanes: LANES, batch: BATCH })
  return { ...social, poller, nodes, p2pPorts }
}

// ---------------------------------------------------------------- reporting helpers

const committedRate = (r: LoadResult): number => r.committedInWindow / (r.windowMs / 1000)
const rejectText = (r: LoadResult): string => r.rejected.size === 0 ? 'none' : [...r.rejected].map(([c, n]) => `${c} ${fmt(n)}`).join(', ')

// ---------------------------------------------------------------- main

async function main (): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'chorus-bench-network-'))
  children.tempDirs.push(root)
  console.log(`${cpus().length} cores (${cpus()[0]?.model ?? '?'}), Node ${process.version}, load average ${loadavg()[0]!.toFixed(2)}; offered load ${fmt(RATE)} tx/s for ${SECONDS} s; catch-up chain ≥ ${fmt(MIN_CHAIN_TXS)} txs; temp dir ${root}`)
  if (!ssAvailable) console.log('`ss` not found: P2P bytes not measured')

  // ---- baseline: one --dev process
  console.log('\n[1/4] baseline: one `chorus start --dev` process')
  const devHome = join(root, 'dev')
  const devRpc = await freeRange(1)
  const devP2p = await freeRange(1, new Set([devRpc]))
  const dev = children.spawnChorus('dev', ['start', '--dev', '--home', devHome, '--rpc-port', String(devRpc), '--p2p-port', String(devP2p), '--block-time', '1000'], devRpc, { debug: NODE_DEBUG })
  await waitForRpc(dev)
  const devPoller = new Poller(dev.rpc, 1)
  const devSetup = await prepare([dev], await devKey(devHome), devPoller, null)
  console.log(`  funded ${SENDERS} senders, ${SENDERS * SEED_POSTS_PER_SENDER} seed posts committed; load…`)
  const base = await runLoad(devSetup, RATE, SECONDS, true)
  console.log(`  committed ${fmt(committedRate(base))} tx/s, p50 ${fmt(q(base.latencies, 0.5))} ms, p99 ${fmt(q(base.latencies, 0.99))} ms`)
  await devPoller.stop()
  await stopProc(dev)

  // ---- 4 validators over libp2p
  console.log(`\n[2/4] ${VALIDATORS} validator processes over libp2p on loopback`)
  const rpcBase = await freeRange(VALIDATORS)
  const p2pBase = await freeRange(VALIDATORS, new Set(Array.from({ length: VALIDATORS }, (_, i) => rpcBase + i)))
  const net = join(root, 'net')
  execFileSync(process.execPath, [CLI, 'init', '--validators', String(VALIDATORS), '--out', net, '--rpc-port', String(rpcBase), '--p2p-port', String(p2pBase), '--block-time', '1000', '--json'], { stdio: 'ignore' })
  const metricsBase = await freeRange(VALIDATORS, new Set(Array.from({ length: VALIDATORS * 2 }, (_, i) => i < VALIDATORS ? rpcBase + i : p2pBase + i - VALIDATORS)))
  const vals = Array.from({ length: VALIDATORS }, (_, i) => children.spawnChorus(`node${i}`, ['start', '--home', join(net, `node${i}`), '--metrics-port', String(metricsBase + i)], rpcBase + i, { debug: NODE_DEBUG, nodeArgs: profArgs(`node${i}`) }))
  await Promise.all(vals.map(waitForRpc))
  await waitUntil('every validator to see the other three and commit a block', async () => {
    const s = await Promise.all(vals.map(async (v) => await v.rpc.getStatus()))
    return s.every((x) => x.peerCount >= VALIDATORS - 1 && x.height >= 1)
  }, 60_000, 200)
  const p2pPorts = new Set(Array.from({ length: VALIDATORS }, (_, i) => p2pBase + i))
  const poller = new Poller(vals[0]!.rpc, 1)
  const setup = await prepare(vals, await devKey(join(net, 'node0')), poller, ssAvailable ? p2pPorts : null)
  console.log(`  funded ${SENDERS} senders, ${SENDERS * SEED_POSTS_PER_SENDER} seed posts committed; idle P2P traffic for ${IDLE_MS / 1000} s…`)
  const idle0 = p2pSockets(p2pPorts)
  const idleH0 = poller.height
  const idleT0 = now()
  await sleep(IDLE_MS)
  const idle = bytesBetween(idle0, p2pSockets(p2pPorts))
  const idleBytesPerSec = idle === null ? NaN : idle.bytes / ((now() - idleT0) / 1000)
  const idleHeights = poller.height - idleH0
  console.log('  load…')
  const loadFromUs = monotonicUs()
  const admissions0 = await admissionCounts(metricsBase)
  const netLoad = await runLoad(setup, RATE, SECONDS, true)
  const admissions = countsBetween(admissions0, await admissionCounts(metricsBase))
  const loadToUs = monotonicUs()
  if (VERBOSE) console.log('  blocks (height txs +ms since the previous): ' + poller.blocks.slice(-40).map((x, i, a) => `${x.height}:${x.txs}+${i === 0 ? 0 : Math.round(x.seenAt - a[i - 1]!.seenAt)}`).join(' '))
  console.log(`  committed ${fmt(committedRate(netLoad))} tx/s, p50 ${fmt(q(netLoad.latencies, 0.5))} ms, p99 ${fmt(q(netLoad.latencies, 0.99))} ms`)

  // ---- make sure the chain is long enough, then catch a fresh full node up
  for (let round = 0; poller.chainTxs < MIN_CHAIN_TXS && round < 5; round++) {
    const missing = MIN_CHAIN_TXS - poller.chainTxs
    const secs = Math.ceil(missing / Math.max(100, Math.min(RATE, committedRate(netLoad)))) + 2
    console.log(`  chain has ${fmt(poller.chainTxs)} txs: ${secs} s more load (not measured)…`)
    await runLoad(setup, RATE, secs, false)
    await sleep(3000)
  }
  console.log(`\n[3/4] a fresh full node catching up (chain: ${fmt(poller.chainTxs)} txs)`)
  const st0 = await vals[0]!.rpc.getStatus()
  const node0Addr = (st0.listenAddrs[0] ?? '').includes('/p2p/') ? st0.listenAddrs[0]! : `${st0.listenAddrs[0]}/p2p/${st0.peerId}`
  const fullHome = join(root, 'full')
  const fullRpc = await freeRange(1, new Set([...p2pPorts, ...Array.from({ length: VALIDATORS }, (_, i) => rpcBase + i)]))
  const fullP2p = await freeRange(1, new Set([fullRpc, ...p2pPorts]))
  execFileSync(process.execPath, [CLI, 'init', '--home', fullHome, '--genesis', join(net, 'node0', 'genesis.json'), '--bootstrap', node0Addr, '--rpc-port', String(fullRpc), '--p2p-port', String(fullP2p), '--json'], { stdio: 'ignore' })
  await waitUntil('the poller to reach the head', async () => poller.height >= (await vals[0]!.rpc.getHead()).height, 30_000)
  const target = (await vals[0]!.rpc.getHead()).height
  await waitUntil('the poller to reach the target', async () => poller.height >= target, 30_000)
  const targetTxs = poller.txsUpTo(target)
  const tSpawn = now()
  const full = children.spawnChorus('full', ['start', '--home', fullHome], fullRpc, { debug: NODE_DEBUG, nodeArgs: profArgs('full') })
  const syncFromUs = monotonicUs()
  let tRpc = NaN
  let firstSeen: { h: number, t: number } | null = null
  let txsAtFirst = 0
  const progress: Array<{ t: number, h: number }> = []
  const tDone = await waitUntil('the full node to catch up', async () => {
    if (full.proc.exitCode !== null) throw new Fatal(`the full node exited (${full.proc.exitCode}):\n${full.lines.slice(-20).join('\n')}`)
    const s = await full.rpc.getStatus().catch(() => null)
    if (s === null) return false
    const t = now()
    if (Number.isNaN(tRpc)) tRpc = t
    progress.push({ t, h: s.height })
    if (firstSeen === null && s.height > 0) { firstSeen = { h: s.height, t }; txsAtFirst = poller.txsUpTo(s.height) }
    return s.height >= target ? t : false
  }, 300_000, 100)
  const syncToUs = monotonicUs()
  const fs0 = firstSeen as { h: number, t: number } | null
  const catchup = {
    target, txs: targetTxs,
    fromSpawnS: (tDone - tSpawn) / 1000,
    startS: (tRpc - tSpawn) / 1000,
    blocksPerS: fs0 === null ? NaN : (target - fs0.h) / ((tDone - fs0.t) / 1000),
    txPerS: fs0 === null ? NaN : (targetTxs - txsAtFirst) / ((tDone - fs0.t) / 1000),
    overallTxPerS: targetTxs / ((tDone - tSpawn) / 1000)
  }
  console.log(`  height ${fmt(target)} (${fmt(targetTxs)} txs) in ${catchup.fromSpawnS.toFixed(1)} s from spawn: ${fmt(catchup.blocksPerS, 1)} blocks/s, ${fmt(catchup.txPerS)} tx/s once importing`)
  await poller.stop()
  // a profiled node writes its profiles as it exits: give it time
  await Promise.all(procs.map(async (p) => await stopProc(p, CPU_PROF === undefined ? 10_000 : 60_000)))

  // ---- baseline for the catch-up: the same blocks checked and committed in this process
  console.log('\n[4/4] baseline: the same blocks, check + commit in this process')
  const genesis = parseGenesis(JSON.parse(await readFile(join(net, 'node0', 'genesis.json'), 'utf8')))
  const srcStore = await Store.open(join(net, 'node0', 'data'))
  const src = await Chain.open(srcStore, genesis, verifySignature)
  const dstStore = await Store.open(join(root, 'import'))
  const dst = await Chain.open(dstStore, genesis, verifySignature)
  const blocks: Array<[Awaited<ReturnType<typeof src.getBlock>>, Awaited<ReturnType<typeof src.getCommit>>]> = []
  for (let h = 1; h <= target; h++) blocks.push([await src.getBlock(h), await src.getCommit(h)])
  const ti = now()
  for (const [blk, commit] of blocks) await dst.commitBlock(await dst.checkBlock(blk!), commit!)
  const importS = (now() - ti) / 1000
  if (dst.head.height !== target) throw new Error(`in-process import stopped at ${dst.head.height}`)
  await srcStore.close()
  await dstStore.close()
  const imp = { blocksPerS: target / importS, txPerS: targetTxs / importS, s: importS }
  console.log(`  ${fmt(target)} blocks in ${importS.toFixed(1)} s`)

  // ---- the table
  const row = (label: string, a: string, c: string): string => `${label.padEnd(44)} ${a.padStart(26)} ${c.padStart(26)}`
  const lat = (r: LoadResult): string => `${fmt(q(r.latencies, 0.5))} / ${fmt(q(r.latencies, 0.99))} / ${fmt(r.latencies.at(-1) ?? NaN)}`
  const perTx = (r: LoadResult): string => r.p2p === null ? 'not measured' : fmt(r.p2p.bytes / Math.max(1, r.committedLoadTxs))
  const perTxNet = (r: LoadResult): string => r.p2p === null ? 'not measured' : fmt((r.p2p.bytes - idleBytesPerSec * r.p2pMs / 1000) / Math.max(1, r.committedLoadTxs))
  const cores = (r: LoadResult): string => `${r.cpu.map((c) => c.cores.toFixed(2)).join('+')} | ${r.clientCores.toFixed(2)}`
  console.log('\n=== load: offered ' + `${fmt(RATE)} tx/s for ${SECONDS} s (70% posts, 15% follows, 15% likes; ${SENDERS} senders; batches ≤ ${BATCH}, ${LANES} lanes)`)
  console.log(row('', `${VALIDATORS} validators (libp2p)`, 'baseline: 1 --dev node'))
  console.log(row('sent by the client (tx/s)', fmt(netLoad.sent / SECONDS), fmt(base.sent / SECONDS)))
  console.log(row('accepted by RPC (tx/s)', fmt(netLoad.accepted / SECONDS), fmt(base.accepted / SECONDS)))
  console.log(row(`committed (tx/s, last ${Math.round((1 - WARMUP) * 100)}% of the load)`, fmt(committedRate(netLoad)), fmt(committedRate(base))))
  console.log(row('committed (tx/s, start to the last load tx)', fmt(netLoad.sustained), fmt(base.sustained)))
  console.log(row('  blocks in the window, largest block (txs)', `${netLoad.blocksInWindow}, ${fmt(netLoad.maxBlockTxs)}`, `${base.blocksInWindow}, ${fmt(base.maxBlockTxs)}`))
  console.log(row('submit→commit p50 / p99 / max (ms)', lat(netLoad), lat(base)))
  console.log(row('tx_submit batch round trip p50 / p99 (ms)', `${fmt(q(netLoad.rtts, 0.5))} / ${fmt(q(netLoad.rtts, 0.99))}`, `${fmt(q(base.rtts, 0.5))} / ${fmt(q(base.rtts, 0.99))}`))
  console.log(row('accepted txs not committed after drain', `${fmt(netLoad.uncommitted)} (${(netLoad.drainMs / 1000).toFixed(1)} s)`, `${fmt(base.uncommitted)} (${(base.drainMs / 1000).toFixed(1)} s)`))
  console.log(row('client backlog dropped at the end', fmt(netLoad.dropped), fmt(base.dropped)))
  console.log(row('mean signed tx size (bytes)', fmt(netLoad.txBytes / Math.max(1, netLoad.sent)), fmt(base.txBytes / Math.max(1, base.sent))))
  console.log(row('P2P bytes sent per committed tx', perTx(netLoad), '— (no network)'))
  console.log(row('  same, idle traffic taken off', perTxNet(netLoad), '—'))
  console.log(row('P2P idle (empty blocks), bytes/s', Number.isNaN(idleBytesPerSec) ? 'not measured' : `${fmt(idleBytesPerSec)} (${idleHeights} blocks)`, '—'))
  console.log(row('CPU cores used: nodes | client', cores(netLoad), cores(base)))
  // CPU time, not throughput: each validator handles every tx, so this is what a tx costs a node, less at the mercy of the machine's other load
  const cpuPerTx = (r: LoadResult): string => r.committedLoadTxs === 0 ? '—' : r.cpu.map((c) => fmt(c.seconds * 1e6 / r.committedLoadTxs)).join(' / ')
  console.log(row('node CPU per committed load tx (µs), each node', cpuPerTx(netLoad), cpuPerTx(base)))
  console.log(`rejected by RPC: network ${rejectText(netLoad)}; baseline ${rejectText(base)}`)
  for (const [c, m] of new Map([...base.rejectExample, ...netLoad.rejectExample])) console.log(`  ${c}: ${m.slice(0, 160)}`)
  if (netLoad.p2p !== null && netLoad.p2p.closed > 0) console.log(`note: ${netLoad.p2p.closed} P2P sockets closed during the load (their bytes after the first sample are missing)`)
  if (poller.errors + devPoller.errors > 0) console.log(`note: ${poller.errors + devPoller.errors} poller RPC errors`)
  console.log('admissions on the validators during the load (all four, from chorus_mempool_admissions_total): ' +
    [...admissions].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${fmt(n)}`).join(', '))

  console.log(`\n=== catch-up: ${fmt(target)} blocks, ${fmt(targetTxs)} txs`)
  console.log(row('', 'full node over libp2p', 'baseline: in-process'))
  console.log(row('blocks/s', fmt(catchup.blocksPerS, 1), fmt(imp.blocksPerS, 1)))
  console.log(row('tx/s', fmt(catchup.txPerS), fmt(imp.txPerS)))
  console.log(row('seconds (full node: from spawn; RPC up after)', `${catchup.fromSpawnS.toFixed(1)} (${catchup.startS.toFixed(1)})`, importS.toFixed(1)))
  console.log(row('tx/s counting process start', fmt(catchup.overallTxPerS), '—'))
  const ratio = catchup.txPerS / imp.txPerS
  console.log(`full node / in-process: ${ratio.toFixed(2)}x`)

  if (CPU_PROF !== undefined) {
    await printProfile('node1 (a validator) over the measured load', 'node1', loadFromUs, loadToUs)
    await printProfile('the full node over its catch-up', 'full', syncFromUs, syncToUs)
  }

  console.log('\n=== node logs (WARN / ERROR lines)')
  for (const s of children.logSummary()) {
    console.log(`${s.name.padEnd(6)} warn ${String(s.warn).padStart(4)}  error ${String(s.error).padStart(4)}`)
    for (const e of s.examples) console.log(`         ${e}`)
  }
  if (KEEP) {
    for (const p of procs) await writeFile(join(root, `${p.name}.log`), p.lines.join('\n') + '\n')
    console.log(`kept ${root} (homes and <node>.log)`)
  } else {
    await rm(root, { recursive: true, force: true })
    children.tempDirs.length = 0
  }
}

/** Every validator's chorus_mempool_admissions_total, summed by `origin result`. */
async function admissionCounts (metricsBase: number): Promise<Map<string, number>> {
  const counts = new Map<string, number>()
  for (let i = 0; i < VALIDATORS; i++) {
    const text = await (await fetch(`http://127.0.0.1:${metricsBase + i}/metrics`)).text()
    for (const m of text.matchAll(/^chorus_mempool_admissions_total\{origin="(\w+)",result="(\w+)"\} (\d+)/gm)) {
      const key = `${m[1]} ${m[2]}`
      counts.set(key, (counts.get(key) ?? 0) + Number(m[3]))
    }
  }
  return counts
}

function countsBetween (before: Map<string, number>, after: Map<string, number>): Map<string, number> {
  return new Map([...after].map(([k, n]) => [k, n - (before.get(k) ?? 0)]))
}

/** Top self times of each thread's profile of `name` (DIR/<name>: the main thread, then the verify workers) between two instants of the profile's clock. */
async function printProfile (title: string, name: string, fromUs: number, toUs: number): Promise<void> {
  const dir = join(resolve(CPU_PROF!), name)
  // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile: thread 0 is the main thread
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.cpuprofile')).sort((a, b) => Number(a.split('.')[4]) - Number(b.split('.')[4]))
  if (files.length === 0) { console.log(`\nno .cpuprofile in ${dir} (did the node exit cleanly?)`); return }
  for (const file of files) {
    const thread = Number(file.split('.')[4]) === 0 ? 'main thread' : `worker thread ${file.split('.')[4]}`
    const s = summarize(await readProfile(join(dir, file)), { fromUs, toUs }, 20)
    console.log(`\n=== CPU profile of ${title}, ${thread} (${join(dir, file)}; ${((toUs - fromUs) / 1e6).toFixed(1)} s of wall time)`)
    printSummary(s)
  }
}

main().then(() => process.exit(0), async (e: unknown) => {
  console.error(e)
  await children.reportFailure()
  process.exit(1)
})
