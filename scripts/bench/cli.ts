/**
 * How fast the CLI starts and how much a dev node holds, beside `node -e 0` in the same run (#8 item 2):
 *   1. wall time of `node -e 0`, `chorus --help` and `chorus query head` (against the dev node of 2),
 *      interleaved, after one warm-up round; median and range;
 *   2. `chorus start --dev` on loopback: time until its RPC answers, then its RSS after it has idled.
 * Every process runs on the Node that runs this script, so both sides of a before/after compare on one Node:
 *   npx tsx scripts/bench/cli.ts [--runs N] [--idle SECONDS] [--cli PATH/TO/bin/chorus.js] [--json]
 */
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const { values: flags } = parseArgs({
  options: {
    runs: { type: 'string', default: '10' },
    idle: { type: 'string', default: '10' },
    cli: { type: 'string', default: fileURLToPath(new URL('../../bin/chorus.js', import.meta.url)) },
    json: { type: 'boolean', default: false }
  }
})
const RUNS = Number(flags.runs)
const IDLE_S = Number(flags.idle)
const CLI = resolve(flags.cli)

async function freePort (): Promise<number> {
  return await new Promise((done, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => done(port))
    })
  })
}

/** Runs `node ARGS` to its exit; its wall time in ms. A non-zero exit is an error: a failing command times nothing. */
async function timed (args: string[]): Promise<number> {
  const t0 = performance.now()
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  const code = await new Promise<number | null>((done) => child.once('exit', done))
  const ms = performance.now() - t0
  if (code !== 0) throw new Error(`node ${args.join(' ')} exited ${code}\n${stderr}`)
  return ms
}

async function rpcAnswers (url: string): Promise<boolean> {
  try {
    const res = await fetch(url, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'chain_getHead', params: [] }),
      signal: AbortSignal.timeout(2_000)
    })
    return res.ok
  } catch {
    return false
  }
}

/** VmRSS and VmHWM (peak) of a process, in MiB. */
async function rss (pid: number): Promise<{ rss: number, peak: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN)
  return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 }
}

interface Stats { median: number, min: number, max: number }
function stats (xs: number[]): Stats {
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return { median: s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2, min: s[0]!, max: s.at(-1)! }
}

const home = await mkdtemp(join(tmpdir(), 'chorus-bench-cli-'))
const rpcUrl = `http://127.0.0.1:${await freePort()}`
const node = spawn(process.execPath, [CLI, 'start', '--dev', '--home', home, '--rpc-port', new URL(rpcUrl).port, '--p2p-port', String(await freePort()), '--log-level', 'warn'],
  { stdio: ['ignore', 'ignore', 'pipe'] })
let nodeLog = ''
node.stderr.on('data', (d: Buffer) => { nodeLog += d.toString() })
const nodeExited = new Promise<void>((done) => node.once('exit', () => done()))

try {
  const t0 = performance.now()
  while (!await rpcAnswers(rpcUrl)) {
    if (node.exitCode !== null) throw new Error(`the dev node exited ${node.exitCode}\n${nodeLog}`)
    if (performance.now() - t0 > 60_000) throw new Error(`the dev node did not answer in 60 s\n${nodeLog}`)
    await new Promise((done) => setTimeout(done, 20))
  }
  const readyMs = performance.now() - t0
  await new Promise((done) => setTimeout(done, IDLE_S * 1000))
  const idle = await rss(node.pid!)

  const commands: Record<string, string[]> = {
    'node -e 0': ['-e', '0'],
    'chorus --help': [CLI, '--help'],
    'chorus query head': [CLI, 'query', 'head', '--rpc', rpcUrl]
  }
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(commands).map((k) => [k, []]))
  for (let round = -1; round < RUNS; round++) {
    for (const [name, args] of Object.entries(commands)) {
      const ms = await timed(args)
      if (round >= 0) times[name]!.push(ms)
    }
  }
  const wall = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, stats(v)]))
  const base = wall['node -e 0']!.median
  const result = {
    node: process.version, cli: CLI, runs: RUNS, wallMs: wall,
    timesNode: Object.fromEntries(Object.entries(wall).map(([k, v]) => [k, v.median / base])),
    devNode: { rpcReadyMs: readyMs, idleSeconds: IDLE_S, rssMiB: idle.rss, peakRssMiB: idle.peak }
  }
  if (flags.json) {
    console.log(JSON.stringify(result))
  } else {
    const f = (x: number) => x.toFixed(0)
    console.log(`Node ${process.version}, ${CLI}, ${RUNS} runs each after a warm-up (median, min–max)`)
    for (const [name, s] of Object.entries(wall)) {
      console.log(`  ${name.padEnd(18)} ${f(s.median).padStart(6)} ms  (${f(s.min)}–${f(s.max)})  ${(s.median / base).toFixed(1)}× node -e 0`)
    }
    console.log(`  dev node: RPC answers ${f(readyMs)} ms after spawn; RSS after ${IDLE_S} s idle ${idle.rss.toFixed(1)} MiB (peak ${idle.peak.toFixed(1)} MiB)`)
  }
} finally {
  node.kill('SIGTERM')
  await nodeExited
  await rm(home, { recursive: true, force: true })
}
