/**
 * Consensus speed with 4 in-process validators over an in-memory transport (the real
 * network code, bytes and validation included, built by the node's composition root),
 * each with a real LevelDB, file WAL and file sign state (fsyncs included):
 *   1. heights per second with empty blocks and a 0 ms target block time;
 *   2. commit latency (time from the target block time to each commit), p50/p99, at a 1,000 ms target.
 * Beside 1, measured in the same run so that figures from a busy machine compare: the disk's
 * raw rate of 200-byte appends each followed by an fsync (what bounds a validator's votes), and
 * 1 again with the WAL and sign state as two files (the scheme before consensus-log.ts).
 *   npx tsx scripts/bench/consensus.ts [seconds-for-1] [heights-for-2] [--no-baseline]
 */
import { mkdtemp, open, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseGenesis } from '../../src/chain/genesis.ts'
import { encodeAddress } from '../../src/crypto/address.ts'
import { generateSecretKey, publicKeyOf } from '../../src/crypto/keys.ts'
import { silentLogger } from '../../src/logger.ts'
import { fileSignStore } from '../../src/consensus/sign-state.ts'
import { fileWal } from '../../src/consensus/wal.ts'
import { ChorusNode, type NodeModules } from '../../src/node.ts'
import { MemoryHub } from '../../src/p2p/memory-transport.ts'

/** Appends of 200 bytes, each fsynced, per second, in one file for `ms`. */
async function fsyncRate (ms: number): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'chorus-bench-fsync-'))
  const f = await open(join(dir, 'f'), 'a')
  const buf = new Uint8Array(200)
  const t0 = performance.now()
  let n = 0
  try {
    while (performance.now() - t0 < ms) { await f.writeFile(buf); await f.sync(); n++ }
  } finally {
    await f.close()
    await rm(dir, { recursive: true, force: true })
  }
  return n / ((performance.now() - t0) / 1000)
}

/** The validators' WAL and sign state: one log (the node's default), or two files as before it. */
type Persistence = 'one log' | 'two files'

/** `warmupMs`: how long the validators run before counting starts (worker threads loading, the JIT warming up). */
async function run (blockTimeMs: number, until: (heights: number, elapsedMs: number) => boolean, persistence: Persistence = 'one log', warmupMs = 0) {
  const dir = await mkdtemp(join(tmpdir(), 'chorus-bench-consensus-'))
  const keys = Array.from({ length: 4 }, () => generateSecretKey())
  const genesis = parseGenesis({
    chainId: 'bench', genesisTimeMs: Date.now(), params: { blockTimeMs },
    accounts: [], validators: keys.map((k) => ({ address: encodeAddress(publicKeyOf(k)), power: '10' }))
  })
  const hub = new MemoryHub()
  const commitTimes: number[] = []
  const latencies: number[] = []
  const nodes: ChorusNode[] = []
  for (const [i, secretKey] of keys.entries()) {
    const home = join(dir, `v${i}`)
    const signStatePath = join(home, 'sign-state.json')
    const walPath = join(home, 'consensus.wal')
    const twoFiles: Partial<NodeModules> = persistence === 'two files' ? { signStore: fileSignStore(signStatePath), wal: fileWal(walPath) } : {}
    nodes.push(await ChorusNode.start({
      dataDir: join(home, 'data'), genesis, rpc: null, p2p: null,
      validator: { secretKey, signStatePath, walPath }
    }, { logger: silentLogger, transport: hub.transport(`v${i}`), ...twoFiles }))
  }
  await new Promise((r) => setTimeout(r, warmupMs))
  const t0 = Date.now()
  const cpu0 = process.cpuUsage()
  nodes[0]!.chain.events.onCommitted(({ checked }) => {
    const now = Date.now()
    commitTimes.push(now)
    // the proposer held the block until parent time + blockTimeMs: latency counts from that target
    latencies.push(now - checked.block.header.timeMs)
  })
  while (!until(commitTimes.length, Date.now() - t0)) await new Promise((r) => setTimeout(r, 20))
  const elapsed = Date.now() - t0
  const cpu = process.cpuUsage(cpu0)
  for (const n of nodes) await n.stop()
  await rm(dir, { recursive: true, force: true })
  /** CPU time of the whole process (every thread) per height, ms: less swayed by other processes than heights/s. */
  const cpuPerHeight = (cpu.user + cpu.system) / 1000 / Math.max(1, commitTimes.length)
  return { heights: commitTimes.length, elapsed, latencies, cpuPerHeight }
}

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'))
const baseline = !process.argv.includes('--no-baseline')
const seconds = Number(args[0] ?? 10)
const heights = Number(args[1] ?? 30)
/** Measurement 1 runs in this many slices, each beside its baselines, so that a load that comes and goes on the machine falls on both. */
const SLICES = baseline ? 3 : 1
/** Each run of 1 counts from this long after its validators started. */
const WARMUP_MS = 1000
const perSec = (r: { heights: number, elapsed: number }) => r.heights / (r.elapsed / 1000)
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!
const range = (xs: number[], digits = 1) => xs.length === 1 ? xs[0]!.toFixed(digits) : `median ${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)})`
const fast: number[] = []
const fastCpu: number[] = []
const disk: number[] = []
const twoFiles: number[] = []
const twoFilesCpu: number[] = []
let total = 0
for (let i = 0; i < SLICES; i++) {
  if (baseline) disk.push(await fsyncRate(1000))
  const one = await run(0, (_h, ms) => ms >= seconds * 1000 / SLICES, 'one log', WARMUP_MS)
  total += one.heights
  fast.push(perSec(one))
  fastCpu.push(one.cpuPerHeight)
  if (baseline) {
    const two = await run(0, (_h, ms) => ms >= seconds * 1000 / SLICES, 'two files', WARMUP_MS)
    twoFiles.push(perSec(two))
    twoFilesCpu.push(two.cpuPerHeight)
  }
}
console.log(`empty blocks, 0 ms target: ${range(fast)} heights/s (${total} heights in ${seconds} s${SLICES > 1 ? `, ${SLICES} slices` : ''}); process CPU ${range(fastCpu, 2)} ms per height`)
if (baseline) {
  console.log(`  baseline, same run: this disk ${range(disk, 0)} fsynced 200-byte appends/s; the WAL and sign state as two files (the scheme before consensus-log.ts) ${range(twoFiles)} heights/s, process CPU ${range(twoFilesCpu, 2)} ms per height`)
  console.log(`  one log / two files, slice by slice: ${fast.map((f, i) => twoFiles[i]! > 0 ? (f / twoFiles[i]!).toFixed(2) : '-').join(', ')}`)
}
const paced = await run(1000, (h) => h >= heights)
const sorted = [...paced.latencies].sort((a, b) => a - b)
const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!
console.log(`1,000 ms target: ${paced.heights} heights in ${(paced.elapsed / 1000).toFixed(1)} s; commit latency after the target time p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${sorted.at(-1)} ms`)
