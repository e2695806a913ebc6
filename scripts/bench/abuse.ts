/**
 * The attacks of issue #7, replayed against a `chorus start --dev` node with a full
 * (maxBlockBytes, 2 MiB) block in its history; each beside the same node's figures with
 * no attack, in the same run.
 *   npx tsx scripts/bench/abuse.ts [--root DIR] [--window S] [--scale F] [--only 1,2,…] [--keep] [--rss-kill-mb MB]
 * About 5 minutes with the defaults. The attacks (abuse-attacks.ts): 1 tx_get amplification,
 * 2 huge responses, 3 file descriptors (node under `ulimit -n 1024`), 4 subscriptions with a
 * 100 posts/s writer (in both windows), 5 slow WebSocket readers, 6 deeply nested txs.
 *
 * Setup: a dev node in a temp home (RPC and P2P on free 127.0.0.1 ports, 1,000 ms blocks);
 * 40 accounts funded from the dev key, 20 of them following 10 "writers", then ~4.4 MiB
 * of max-size posts submitted at once, so that one block is full (its size read back with
 * chain_getBlock(h, {full: true})). The home is then copied for each attack, and each
 * attack gets a fresh node on its copy. Per attack: a baseline window with no attack, then
 * an attack window of the same length (--window, 15 s). In each window:
 *   - gap max: the longest stretch of the window in which no block was made, from the
 *     header times of the blocks (read with chain_getBlock after the window, so RPC
 *     latency does not distort it; from the probe's heads if the node died or stopped
 *     answering); "≥" when no block came from the stretch's start to the window's end;
 *   - head p50/p99: chain_getHead every 100 ms from a probe on its own keep-alive
 *     connection from 127.0.0.1, each limited to 2 s (a failure or timeout counts as
 *     slower than any answer);
 *   - peak RSS of the node: VmRSS sampled every 100 ms, and VmHWM reset at the start;
 *   - after the attack window (the attack gone): how soon the node makes a block again, or
 *     that it made none in 10 s (it stopped proposing).
 * The attacks (abuse-attacks.ts) run from 127.0.0.2, so per-IP limits can tell them from
 * the probe (127.0.0.1) and attack 4's legit writer (127.0.0.3). Goal: no gap longer than
 * 2 × the block time and RSS under 1 GB (1,000 MB) in every attack window (and a node that
 * still makes blocks afterwards).
 *
 * --root DIR runs that checkout's CLI (DIR/bin/chorus.js; default: this repo), to measure
 * the code before a fix; the bench's own client code always comes from this repo.
 * --scale F multiplies the attacks' connection and call counts. --keep leaves the temp
 * dir (homes and each node's log). Every node is SIGKILLed and the temp dir removed on
 * exit, failure or signal; a node that passes --rss-kill-mb (6,000) is killed and that
 * recorded; the nodes also stop if this process dies (--stop-with-stdin).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { createWriteStream, existsSync, rmSync } from 'node:fs'
import { cp, mkdtemp, readFile } from 'node:fs/promises'
import { setMaxListeners } from 'node:events'
import { createServer } from 'node:net'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseHex } from '../../src/crypto/bytes.ts'
import { ATTACKS, type Attack, type AttackEnv, type Load, type Observer } from './abuse-attacks.ts'
import { type GapResult, type HeadSeen, HeadProbe, RssSampler, type Tally, longestGap, ownAgent, quantile, rpcBatch, rpcCall, sleep } from './abuse-measure.ts'
import { type ChainInfo, type History, buildHistory, chainInfo } from './abuse-setup.ts'

const args = process.argv.slice(2)
const flag = (name: string): string | undefined => { const i = args.indexOf(name); return i < 0 ? undefined : args[i + 1] }
const ROOT = resolve(flag('--root') ?? fileURLToPath(new URL('../..', import.meta.url)))
const WINDOW_S = Number(flag('--window') ?? 15)
const SCALE = Number(flag('--scale') ?? 1)
const ONLY = flag('--only')?.split(',').map(Number)
const KEEP = args.includes('--keep')
const RSS_KILL_MB = Number(flag('--rss-kill-mb') ?? 6000)
const CLI = join(ROOT, 'bin', 'chorus.js')
const ATTACKER_IP = '127.0.0.2'
const RSS_GOAL = 1e9
if (!(WINDOW_S > 0) || !(SCALE > 0) || !(RSS_KILL_MB > 0) || !existsSync(CLI)) {
  console.error('usage: abuse.ts [--root DIR] [--window S] [--scale F] [--only 1,2,…] [--keep] [--rss-kill-mb MB]')
  if (!existsSync(CLI)) console.error(`no CLI at ${CLI}`)
  process.exit(2)
}
const selected = ATTACKS.filter((a) => ONLY === undefined || ONLY.includes(a.id))

const fmt = (x: number, d = 0): string => Number.isFinite(x) ? x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }) : String(x)
const say = (s: string): void => { console.log(s) }

// ---------------------------------------------------------------- node processes and cleanup

interface Node {
  name: string
  proc: ChildProcess
  port: number
  logFile: string
  logBytes: number
  warnLines: number
  errorLines: number
  /** First distinct WARN/ERROR/fatal lines (message part). */
  examples: string[]
  exit: { code: number | null, signal: string | null, at: number } | null
  exited: Promise<void>
  stopping: boolean
  killedForRss: boolean
}
const nodes: Node[] = []
const tempDirs: string[] = []

function killAllNow (): void {
  for (const p of nodes) if (p.exit === null) try { p.proc.kill('SIGKILL') } catch { /* gone */ }
}
process.on('exit', () => {
  killAllNow()
  if (!KEEP) for (const d of tempDirs) try { rmSync(d, { recursive: true, force: true }) } catch { /* best effort */ }
})
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => { console.error(`\n${sig}: killing the nodes`); process.exit(130) })

async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => { const port = (s.address() as { port: number }).port; s.close(() => resolve(port)) })
  })
}

const LOG_LINE = /^\S+ (WARN|ERROR) +(.*)$/
const FATAL_LINE = /FATAL|heap out of memory|Allocation failed|^\s*(Range|Type)?Error\b|EMFILE|Uncaught/

/** Spawns `chorus start --dev` on free loopback ports (under `ulimit -n fdLimit` if given); its output goes to logFile and is counted. */
async function startNode (name: string, home: string, logFile: string, opts: { fdLimit?: number, blockTimeMs?: number } = {}): Promise<Node> {
  const port = await freePort()
  const p2p = await freePort()
  const argv = [CLI, 'start', '--dev', '--home', home, '--rpc-host', '127.0.0.1', '--rpc-port', String(port), '--p2p-host', '127.0.0.1', '--p2p-port', String(p2p),
    ...(opts.blockTimeMs === undefined ? [] : ['--block-time', String(opts.blockTimeMs)]), '--stop-with-stdin']
  const proc = opts.fdLimit === undefined
    ? spawn(process.execPath, argv, { stdio: ['pipe', 'pipe', 'pipe'] })
    : spawn('bash', ['-c', `ulimit -n ${opts.fdLimit} && exec "$@"`, 'bash', process.execPath, ...argv], { stdio: ['pipe', 'pipe', 'pipe'] })
  const out = createWriteStream(logFile)
  const node: Node = { name, proc, port, logFile, logBytes: 0, warnLines: 0, errorLines: 0, examples: [], exit: null, exited: Promise.resolve(), stopping: false, killedForRss: false }
  let partial = ''
  const seen = new Set<string>()
  const onData = (d: Buffer): void => {
    node.logBytes += d.length
    out.write(d)
    const lines = (partial + d.toString()).split('\n')
    partial = lines.pop()!.slice(-10_000)
    for (const l of lines) {
      const m = LOG_LINE.exec(l)
      const fatal = m === null && FATAL_LINE.test(l)
      if (m === null && !fatal) continue
      if (m?.[1] === 'WARN') node.warnLines++
      else node.errorLines++
      const text = (m?.[2] ?? l.trim()).slice(0, 200)
      const key = text.replace(/ \S+=.*$/, '').slice(0, 60)
      if (!seen.has(key) && node.examples.length < 6) { seen.add(key); node.examples.push(`${m?.[1] ?? 'stderr'}: ${text}`) }
    }
  }
  proc.stdout!.on('data', onData)
  proc.stderr!.on('data', onData)
  node.exited = new Promise((resolve) => proc.once('exit', (code, signal) => { node.exit = { code, signal, at: Date.now() }; out.end(); resolve() }))
  nodes.push(node)
  const agent = ownAgent(1)
  try {
    const end = Date.now() + 60_000
    for (;;) {
      if (node.exit !== null) throw new Error(`${name} exited (${node.exit.code ?? node.exit.signal}) before its RPC answered; log: ${logFile}\n${await tail(logFile)}`)
      try { await rpcCall(port, 'chain_getHead', [], { agent, timeoutMs: 2000 }); break } catch { /* not yet */ }
      if (Date.now() > end) throw new Error(`${name}'s RPC did not answer in 60 s; log: ${logFile}\n${await tail(logFile)}`)
      await sleep(200)
    }
  } finally {
    agent.destroy()
  }
  return node
}

async function tail (file: string, lines = 15): Promise<string> {
  try { return (await readFile(file, 'utf8')).split('\n').slice(-lines).join('\n') } catch { return '' }
}

/** SIGTERM, wait up to 10 s, then SIGKILL; true if it took the SIGKILL. */
async function stopNode (p: Node): Promise<boolean> {
  p.stopping = true
  if (p.exit !== null) return false
  p.proc.kill('SIGTERM')
  let killed = false
  const t = setTimeout(() => { killed = true; p.proc.kill('SIGKILL') }, 10_000)
  await p.exited
  clearTimeout(t)
  return killed
}

const describeExit = (p: Node): string => p.killedForRss
  ? `KILLED by the bench at RSS > ${fmt(RSS_KILL_MB)} MB`
  : `DIED (${p.exit?.signal ?? `exit ${p.exit?.code}`})`

// ---------------------------------------------------------------- CPU

const CLK_TCK = (() => { try { return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100 } catch { return 100 } })()

/** CPU seconds (user + system) the process has used, from /proc/PID/stat; NaN if gone. */
async function cpuSeconds (pid: number): Promise<number> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(f[11]) + Number(f[12])) / CLK_TCK
  } catch {
    return NaN
  }
}

// ---------------------------------------------------------------- one window

interface WindowResult {
  gap: GapResult | null
  /** Where the block times came from. */
  blocksFrom: 'chain' | 'probe'
  blocks: HeadSeen[]
  headP50: number
  headP99: number
  probes: number
  probeFailures: Tally
  rss: number
  logBytes: number
  warnLines: number
  errorLines: number
  notes: string[]
  died: string | null
  /** Cores used over the window: the node, and this process (the attackers, the probe and the samplers). */
  cpu: { node: number, bench: number }
  /** Attack windows: whether blocks were made again after the attack ended. */
  after: { note: string, ok: boolean } | null
  start: number
  end: number
}

/**
 * Header times of the blocks from the last one made before `start` to the head, read after
 * the window (once a block made after `end` is there, or `waitAfterMs` has passed).
 */
async function readBlocks (port: number, start: number, end: number, waitAfterMs: number): Promise<HeadSeen[]> {
  const agent = ownAgent(1)
  try {
    type Head = { height: number, timeMs: number }
    const getHead = async (timeoutMs: number): Promise<Head | null> => await rpcCall<Head>(port, 'chain_getHead', [], { agent, timeoutMs }).catch(() => null)
    let head: Head | null = null
    for (let i = 0; i < 3 && head === null; i++) head = await getHead(10_000)
    if (head === null) throw new Error('chain_getHead failed 3 times')
    // wait (a bounded while) for a block made after the window, so the window's last stretch is closed
    for (const until = Date.now() + waitAfterMs; head.timeMs <= end && Date.now() < until;) {
      await sleep(100)
      head = await getHead(5_000) ?? head
    }
    const out: HeadSeen[] = []
    for (let h = head.height; h >= 1;) {
      const heights = Array.from({ length: Math.min(20, h) }, (_, i) => h - i)
      const r = await rpcBatch(port, heights.map((x) => ['chain_getBlock', [x]]), { agent, timeoutMs: 20_000 })
      for (const [i, x] of r.entries()) {
        if (x.error !== undefined) throw new Error(`chain_getBlock(${heights[i]}): ${x.error.message}`)
        out.push({ height: heights[i]!, timeMs: x.result.header.timeMs as number, at: 0 })
      }
      if (out.at(-1)!.timeMs <= start) break
      h -= heights.length
    }
    return out.reverse()
  } finally {
    agent.destroy()
  }
}

/**
 * After an attack: waits up to `limitMs` for a block made after `attackEnd` (its header
 * time), asking chain_getHead on a fresh connection every 250 ms.
 */
async function recovery (port: number, attackEnd: number, limitMs = 10_000): Promise<{ note: string, ok: boolean }> {
  const agent = ownAgent(1)
  const errors = new Map<string, number>()
  try {
    const deadline = Date.now() + limitMs
    while (Date.now() < deadline) {
      try {
        const head = await rpcCall<{ height: number, timeMs: number }>(port, 'chain_getHead', [], { agent, timeoutMs: 2000 })
        if (head.timeMs > attackEnd) return { ok: true, note: `after the attack: blocks again (height ${head.height} made ${fmt(head.timeMs - attackEnd)} ms after the attack ended)` }
      } catch (e) {
        const k = (e as Error).message.replace(/^chain_getHead: /, '')
        errors.set(k, (errors.get(k) ?? 0) + 1)
      }
      await sleep(250)
    }
    const why = errors.size === 0 ? 'the RPC answers, the head stands still' : `chain_getHead: ${[...errors].map(([k, v]) => `${k} ×${v}`).join(', ')}`
    return { ok: false, note: `after the attack: NO block in the ${fmt(limitMs / 1000)} s after it ended (${why})` }
  } finally {
    agent.destroy()
  }
}

async function runWindow (node: Node, env: AttackEnv, attack: Attack | null, observer: Attack['observer'], load: Load | null): Promise<WindowResult> {
  const log0 = { bytes: node.logBytes, warn: node.warnLines, error: node.errorLines }
  const rss = await RssSampler.start(node.proc.pid!)
  const rssGuard = setInterval(() => {
    if (rss.peakKb * 1024 > RSS_KILL_MB * 1e6 && node.exit === null) { node.killedForRss = true; node.proc.kill('SIGKILL') }
  }, 100)
  const probe = new HeadProbe(node.port)
  const nodeCpu0 = await cpuSeconds(node.proc.pid!)
  const benchCpu0 = process.cpuUsage()
  const start = Date.now()
  const end = start + WINDOW_S * 1000
  let obs: Promise<Observer> | null = null
  const startObserver = (): void => { if (observer !== undefined && obs === null) obs = observer(env).catch(() => ({ stop: async () => 'observer failed to start' })) }
  const notes: string[] = []
  let run: Promise<string[]> | null = null
  const ac = new AbortController()
  setMaxListeners(10_000, ac.signal)
  if (attack === null) startObserver()
  else run = attack.run(env, ac.signal, startObserver).catch((e: Error) => [`attack failed: ${e.message}`])
  await sleep(end - Date.now())
  ac.abort()
  const [, peak, nodeCpu1] = await Promise.all([probe.stop(), rss.stop(), cpuSeconds(node.proc.pid!)])
  const benchCpu = process.cpuUsage(benchCpu0)
  const secs = (Date.now() - start) / 1000
  const cpu = { node: (nodeCpu1 - nodeCpu0) / secs, bench: (benchCpu.user + benchCpu.system) / 1e6 / secs }
  clearInterval(rssGuard)
  if (run !== null) notes.push(...await Promise.race([run, sleep(30_000).then(() => ['the attack did not stop within 30 s of its window'])]))
  const died = node.exit !== null && node.exit.at <= end + 1000 ? `node ${describeExit(node)} ${fmt((node.exit.at - start) / 1000, 1)} s into the window` : null
  // after an attack: does the node make blocks again? (it has then had its chance to close the window's last stretch)
  const after = attack === null || node.exit !== null ? null : await recovery(node.port, end)

  // block times: from the chain, else (node gone) from the probe's heads
  let blocks: HeadSeen[] = []
  let blocksFrom: 'chain' | 'probe' = 'chain'
  try {
    if (node.exit !== null) throw new Error('node gone')
    blocks = await readBlocks(node.port, start, end, after === null ? 3 * env.chain.blockTimeMs : 0)
  } catch (e) {
    blocksFrom = 'probe'
    const byHeight = new Map(probe.heads.map((h) => [h.height, h]))
    blocks = [...byHeight.values()].sort((a, b) => a.height - b.height)
    if (node.exit === null) notes.push(`blocks read from the probe's heads: ${(e as Error).message}`)
  }
  const gap = blocks.length === 0 ? null : longestGap(blocks.map((x) => x.timeMs), start, end)
  const obsNote = obs === null ? null : await (await obs as Observer).stop(blocks, start, end)
  if (obsNote !== null) notes.push(obsNote)
  if (load !== null) notes.push(load.mark())
  const all = probe.all
  return {
    gap, blocksFrom, blocks,
    headP50: quantile(all, 0.5), headP99: quantile(all, 0.99), probes: all.length, probeFailures: probe.failures,
    rss: peak, logBytes: node.logBytes - log0.bytes, warnLines: node.warnLines - log0.warn, errorLines: node.errorLines - log0.error,
    notes, died, after, cpu, start, end
  }
}

// ---------------------------------------------------------------- per attack

interface AttackResult {
  attack: Attack
  base: WindowResult | null
  hit: WindowResult | null
  notes: string[]
  fatal: string | null
  examples: string[]
}

async function runAttack (attack: Attack, template: string, root: string, chain: ChainInfo, history: History): Promise<AttackResult> {
  const home = join(root, `attack${attack.id}`)
  await cp(template, home, { recursive: true })
  const result: AttackResult = { attack, base: null, hit: null, notes: [`machine load average ${loadavg()[0]!.toFixed(2)} at the start`], fatal: null, examples: [] }
  let node: Node | null = null
  let load: Load | null = null
  try {
    node = await startNode(`attack${attack.id}`, home, join(root, `attack${attack.id}.log`), { fdLimit: attack.fdLimit })
    if (attack.fdLimit !== undefined) {
      const limits = await readFile(`/proc/${node.proc.pid}/limits`, 'utf8').catch(() => '')
      const m = /Max open files\s+(\d+)\s+(\d+)/.exec(limits)
      result.notes.push(`node started under ulimit -n ${attack.fdLimit} (its limits: soft ${m?.[1] ?? '?'}, hard ${m?.[2] ?? '?'})`)
    }
    const env: AttackEnv = { port: node.port, attackerIp: ATTACKER_IP, scale: SCALE, chain, history }
    // a block made after the restart, so the baseline starts on a running chain
    const agent = ownAgent(1)
    const h0 = (await rpcCall<{ height: number }>(node.port, 'chain_getHead', [], { agent })).height
    for (let i = 0; i < 50; i++) { if ((await rpcCall<{ height: number }>(node.port, 'chain_getHead', [], { agent })).height > h0) break; await sleep(100) }
    agent.destroy()
    if (attack.load !== undefined) { load = await attack.load(env); await sleep(2000); load.mark() }
    say(`  [${attack.id}] baseline window (${WINDOW_S} s)…`)
    result.base = await runWindow(node, env, null, attack.observer, load)
    if (node.exit !== null) throw new Error(`node ${describeExit(node)} during the baseline`)
    say(`  [${attack.id}] attack window (${WINDOW_S} s)…`)
    result.hit = await runWindow(node, env, attack, attack.observer, load)
  } catch (e) {
    result.fatal = (e as Error).message
  } finally {
    if (load !== null) await load.stop().catch(() => {})
    if (node !== null) {
      const before = node.exit
      if (await stopNode(node)) result.notes.push('the node did not stop within 10 s of SIGTERM: SIGKILLed')
      if (before !== null && result.hit?.died == null && result.base?.died == null) result.notes.push(`node ${describeExit(node)} after the attack window`)
      result.examples = node.examples
    }
  }
  return result
}

// ---------------------------------------------------------------- report

function gapText (w: WindowResult | null): string {
  if (w === null || w.gap === null) return 'n/a'
  return `${w.gap.open ? '≥' : ''}${fmt(w.gap.ms)}${w.blocksFrom === 'probe' ? '~' : ''}`
}
const p99Text = (w: WindowResult | null): string => w === null ? 'n/a' : Number.isFinite(w.headP99) ? fmt(w.headP99) : '>2,000'
const rssText = (w: WindowResult | null): string => w === null ? 'n/a' : fmt(w.rss / 1e6)

function goalHeld (r: AttackResult, blockTimeMs: number): string[] {
  const why: string[] = []
  if (r.fatal !== null || r.hit === null) return ['did not complete']
  if (r.hit.died !== null) why.push(r.hit.died)
  if (r.hit.gap === null) why.push('no blocks read')
  else if (r.hit.gap.ms > 2 * blockTimeMs) why.push(`gap ${r.hit.gap.open ? '≥' : ''}${fmt(r.hit.gap.ms)} ms`)
  if (r.hit.rss >= RSS_GOAL) why.push(`RSS ${fmt(r.hit.rss / 1e6)} MB`)
  if (r.hit.after !== null && !r.hit.after.ok) why.push('no blocks after the attack')
  return why
}

function report (results: AttackResult[], chain: ChainInfo): void {
  const w = [40, 19, 19, 19]
  const row = (c: string[]): string => c.map((x, i) => i === 0 ? x.padEnd(w[0]!) : x.padStart(w[i]!)).join(' | ')
  say('\n=== results (each figure: baseline / attack; the baseline is the same node just before, with no attack)')
  say(row(['attack', 'gap max, ms', 'head p99, ms', 'peak RSS, MB']) + ' | goal')
  say('-'.repeat(w.reduce((s, x) => s + x + 3, 0) + 4))
  for (const r of results) {
    const why = goalHeld(r, chain.blockTimeMs)
    say(row([`${r.attack.id}. ${r.attack.name}`, `${gapText(r.base)} / ${gapText(r.hit)}`, `${p99Text(r.base)} / ${p99Text(r.hit)}`, `${rssText(r.base)} / ${rssText(r.hit)}`]) + ` | ${why.length === 0 ? 'held' : 'NOT held'}`)
    const notes: string[] = []
    if (r.fatal !== null) notes.push(`FAILED: ${r.fatal.split('\n')[0]}`)
    notes.push(...r.notes)
    if (r.hit !== null) notes.push(...r.hit.notes)
    if (r.hit?.died != null) notes.push(r.hit.died)
    if (r.hit?.after != null) notes.push(r.hit.after.note)
    for (const [label, x] of [['baseline', r.base], ['attack', r.hit]] as const) {
      if (x === null) continue
      const fails = [...x.probeFailures.counts.values()].reduce((s, k) => s + k, 0)
      notes.push(`${label}: ${x.gap?.blocks ?? 0} blocks; head p50 ${Number.isFinite(x.headP50) ? fmt(x.headP50, 1) : '>2,000'} ms, ${x.probes} probes${fails > 0 ? `, ${fails} failed (${x.probeFailures.text()})` : ''}; ` +
        `CPU: node ${Number.isFinite(x.cpu.node) ? x.cpu.node.toFixed(2) : '?'}, bench ${x.cpu.bench.toFixed(2)} cores; node log +${fmt(x.logBytes)} bytes (${x.warnLines} WARN, ${x.errorLines} ERROR)${label === 'baseline' && x.notes.length > 0 ? `; ${x.notes.join('; ')}` : ''}`)
    }
    if (r.examples.length > 0) notes.push(`node log lines: ${r.examples.join(' | ')}`)
    if (why.length > 0) notes.push(`goal not held: ${why.join(', ')}`)
    for (const x of notes) say(`      ${x}`)
  }
  const failed = results.map((r) => ({ r, why: goalHeld(r, chain.blockTimeMs) })).filter((x) => x.why.length > 0)
  say(`\nGoal (no gap longer than 2 × ${fmt(chain.blockTimeMs)} ms = ${fmt(2 * chain.blockTimeMs)} ms, RSS under 1,000 MB, blocks still made, in every attack window): ` +
    (failed.length === 0 ? `HELD in all ${results.length} attacks` : `NOT HELD in ${failed.length} of ${results.length}: ${failed.map((x) => `${x.r.attack.id} (${x.why.join(', ')})`).join('; ')}`))
  say('("≥" = no block from then to the window\'s end; "~" = block times from the probe\'s heads (the node died, or did not answer after the window); head p99 ">2,000" = failed or timed-out probes in the top 1%)')
}

// ---------------------------------------------------------------- main

function commitOf (dir: string): string {
  try {
    const id = execFileSync('git', ['-C', dir, 'rev-parse', '--short', 'HEAD'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim()
    const dirty = execFileSync('git', ['-C', dir, 'status', '--porcelain', '-uno', '--', 'src', 'bin'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim() !== ''
    return dirty ? `${id} + uncommitted changes in src/` : id
  } catch {
    return 'unknown commit'
  }
}

async function main (): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'chorus-abuse-'))
  tempDirs.push(root)
  say(`abuse bench: node code ${ROOT} (${commitOf(ROOT)}); ${cpus().length} cores, Node ${process.version}, load average ${loadavg()[0]!.toFixed(2)}; windows ${WINDOW_S} s; scale ${SCALE}; temp dir ${root}`)

  say('\nsetup: a dev node, accounts, follows, and a full block')
  const template = join(root, 'template')
  const setupNode = await startNode('setup', template, join(root, 'setup.log'), { blockTimeMs: 1000 })
  const agent = ownAgent(1)
  const chain = await chainInfo(setupNode.port, agent)
  agent.destroy()
  const devSecret = parseHex((JSON.parse(await readFile(join(template, 'keys', 'dev.json'), 'utf8')) as { secretKey: string }).secretKey)!
  const history = await buildHistory(setupNode.port, chain, devSecret, say)
  say(`  the full block: height ${history.big.height}, ${fmt(history.big.bytes)} bytes of txs (${(history.big.bytes / 1048576).toFixed(2)} MiB; maxBlockBytes ${fmt(chain.maxBlockBytes)}), ${history.big.txs} txs; tx_get target ${history.big.txId.slice(0, 16)}…`)
  await stopNode(setupNode)

  const results: AttackResult[] = []
  for (const attack of selected) {
    say(`\nattack ${attack.id}: ${attack.name}`)
    const r = await runAttack(attack, template, root, chain, history)
    if (r.fatal !== null) say(`  FAILED: ${r.fatal}`)
    else say(`  gap ${gapText(r.base)} / ${gapText(r.hit)} ms; head p99 ${p99Text(r.base)} / ${p99Text(r.hit)} ms; RSS ${rssText(r.base)} / ${rssText(r.hit)} MB`)
    results.push(r)
  }
  report(results, chain)
  if (KEEP) say(`\nkept ${root} (template and attack homes, setup.log, attack<N>.log)`)
}

main().then(() => process.exit(0), (e: unknown) => {
  console.error(e)
  killAllNow()
  process.exit(1)
})
