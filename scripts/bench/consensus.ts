/**
 * Consensus speed with 4 in-process validators over an in-memory transport (the real
 * network code, bytes and validation included, built by the node's composition root),
 * each with a real LevelDB, file WAL and file sign state (fsyncs included):
 *   1. heights per second with empty blocks and a 0 ms target block time;
 *   2. commit latency (time from the target block time to each commit), p50/p99, at a 1,000 ms target.
 *   npx tsx scripts/bench/consensus.ts [seconds-for-1] [heights-for-2]
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseGenesis } from '../../src/chain/genesis.ts'
import { encodeAddress } from '../../src/crypto/address.ts'
import { generateSecretKey, publicKeyOf } from '../../src/crypto/keys.ts'
import { silentLogger } from '../../src/logger.ts'
import { ChorusNode } from '../../src/node.ts'
import { MemoryHub } from '../../src/p2p/memory-transport.ts'

async function run (blockTimeMs: number, until: (heights: number, elapsedMs: number) => boolean) {
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
    nodes.push(await ChorusNode.start({
      dataDir: join(home, 'data'), genesis, rpc: null, p2p: null,
      validator: { secretKey, signStatePath: join(home, 'sign-state.json'), walPath: join(home, 'consensus.wal') }
    }, { logger: silentLogger, transport: hub.transport(`v${i}`) }))
  }
  const t0 = Date.now()
  nodes[0]!.chain.events.onCommitted(({ checked }) => {
    const now = Date.now()
    commitTimes.push(now)
    // the proposer held the block until parent time + blockTimeMs: latency counts from that target
    latencies.push(now - checked.block.header.timeMs)
  })
  while (!until(commitTimes.length, Date.now() - t0)) await new Promise((r) => setTimeout(r, 20))
  const elapsed = Date.now() - t0
  for (const n of nodes) await n.stop()
  await rm(dir, { recursive: true, force: true })
  return { heights: commitTimes.length, elapsed, latencies }
}

const seconds = Number(process.argv[2] ?? 10)
const heights = Number(process.argv[3] ?? 30)
const fast = await run(0, (_h, ms) => ms >= seconds * 1000)
console.log(`empty blocks, 0 ms target: ${fast.heights} heights in ${(fast.elapsed / 1000).toFixed(1)} s = ${(fast.heights / (fast.elapsed / 1000)).toFixed(1)} heights/s`)
const paced = await run(1000, (h) => h >= heights)
const sorted = [...paced.latencies].sort((a, b) => a - b)
const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!
console.log(`1,000 ms target: ${paced.heights} heights in ${(paced.elapsed / 1000).toFixed(1)} s; commit latency after the target time p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${sorted.at(-1)} ms`)
