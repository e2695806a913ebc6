/**
 * Consensus speed with 4 in-process validators over an in-memory transport,
 * each with a real LevelDB, file WAL and file sign state (fsyncs included):
 *   1. heights per second with empty blocks and a 0 ms target block time;
 *   2. commit latency (time from the target block time to each commit), p50/p99, at a 1,000 ms target.
 *   npx tsx scripts/bench/consensus.ts [seconds-for-1] [heights-for-2]
 */
import '../../src/polyfill.ts'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Chain } from '../../src/chain/chain.ts'
import { parseGenesis } from '../../src/chain/genesis.ts'
import { Mempool } from '../../src/chain/mempool.ts'
import { Lock, TxPool } from '../../src/chain/tx-pool.ts'
import { systemClock } from '../../src/consensus/clock.ts'
import { ConsensusDriver, DEFAULT_TIMEOUTS } from '../../src/consensus/driver.ts'
import { SignState, fileSignStore } from '../../src/consensus/sign-state.ts'
import { fileWal } from '../../src/consensus/wal.ts'
import { encodeAddress } from '../../src/crypto/address.ts'
import { generateSecretKey, publicKeyOf } from '../../src/crypto/keys.ts'
import { verifySignature } from '../../src/crypto/verify.ts'
import { silentLogger } from '../../src/logger.ts'
import { Store } from '../../src/state/store.ts'
import { MemoryNetwork } from '../../src/consensus/memory-transport.ts'

async function run (blockTimeMs: number, until: (heights: number, elapsedMs: number) => boolean) {
  const dir = await mkdtemp(join(tmpdir(), 'chorus-bench-consensus-'))
  const keys = Array.from({ length: 4 }, () => generateSecretKey())
  const genesis = parseGenesis({
    chainId: 'bench', genesisTimeMs: Date.now(), params: { blockTimeMs },
    accounts: [], validators: keys.map((k) => ({ address: encodeAddress(publicKeyOf(k)), power: '10' }))
  })
  const net = new MemoryNetwork()
  const commitTimes: number[] = []
  const latencies: number[] = []
  const nodes = []
  for (const [i, secretKey] of keys.entries()) {
    const store = await Store.open(join(dir, `v${i}`, 'data'))
    const chain = await Chain.open(store, genesis, verifySignature)
    const signState = await SignState.load(fileSignStore(join(dir, `v${i}`, 'sign-state.json')), secretKey)
    const driver = new ConsensusDriver({ publicKey: publicKeyOf(secretKey), signState, wal: fileWal(join(dir, `v${i}`, 'consensus.wal')) }, DEFAULT_TIMEOUTS, {
      chain, pool: new TxPool(chain, new Mempool(), new Lock()), transport: net.transport(`v${i}`), clock: systemClock, logger: silentLogger,
      onCommit: i !== 0
        ? undefined
        : (checked) => {
            const now = Date.now()
            commitTimes.push(now)
            // the proposer held the block until parent time + blockTimeMs: latency counts from that target
            latencies.push(now - checked.block.header.timeMs)
          }
    })
    nodes.push({ store, driver })
  }
  const t0 = Date.now()
  for (const n of nodes) await n.driver.start()
  while (!until(commitTimes.length, Date.now() - t0)) await new Promise((r) => setTimeout(r, 20))
  const elapsed = Date.now() - t0
  for (const n of nodes) { await n.driver.stop(); await n.store.close() }
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
