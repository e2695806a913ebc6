/**
 * Memory of a full mempool, in heap and RSS terms, beside its byte bound.
 *
 * Each shape opens a real chain in a temp dir, then fills a TxPool to its
 * bound the way txs really arrive: hex strings through `tx_submit` (parsed as
 * the RPC parses them) or tx batches through gossip (decoded with
 * decodeTxBatch, admitted with admitTxBatch), from 1,000 senders in turn. The
 * txs are signed beforehand into one buffer. Before and after the fill a full
 * GC runs; the growth of heap, ArrayBuffers and RSS is printed beside maxBytes
 * and beside what the mempool counted (the sum of txCost).
 *
 *   npx tsx scripts/bench/mempool-memory.ts            every shape, each in its own process
 *   npx tsx scripts/bench/mempool-memory.ts <shape> [fills]
 *                                                      one shape; with fills > 1 the pool is
 *                                                      drained and filled again, RSS printed each time
 *
 * RSS varies from run to run by up to ~0.8× the bound for the same shape: the
 * excess over heap + buffers is free memory glibc's malloc keeps (what
 * malloc_stats() calls system bytes minus in-use bytes), reused by the next fill.
 */
import { fork } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import v8 from 'node:v8'
import vm from 'node:vm'
import { Chain } from '../../src/chain/chain.ts'
import { parseGenesis } from '../../src/chain/genesis.ts'
import { DEFAULT_MEMPOOL_LIMITS, Mempool, type MempoolLimits, txCost } from '../../src/chain/mempool.ts'
import { TxPool } from '../../src/chain/tx-pool.ts'
import { admitTxBatch } from '../../src/chain/validation/tx-batch.ts'
import * as b from '../../src/client/transactions.ts'
import { encodeCanonical } from '../../src/codec/canonical.ts'
import { decodeTxBatch } from '../../src/codec/gossip.ts'
import { encodeAddress } from '../../src/crypto/address.ts'
import { parseHex, toHex } from '../../src/crypto/bytes.ts'
import { generateSecretKey, publicKeyOf } from '../../src/crypto/keys.ts'
import { verifySignature } from '../../src/crypto/verify.ts'
import { ChorusError, ErrorCode } from '../../src/protocol/errors.ts'
import { DEFAULT_PARAMS } from '../../src/protocol/params.ts'
import type { TxBody } from '../../src/protocol/types.ts'
import { Store } from '../../src/state/store.ts'

type Arrival = 'rpc' | 'gossip' | 'gossip-sparse'

interface Shape {
  what: string
  limits: MempoolLimits
  arrival: Arrival
  body: (i: number) => TxBody
  /** Genesis params over the defaults. */
  params?: Record<string, number>
}

const SENDERS = 1000
/** gossip batches as the network builds them (DEFAULT_NETWORK_OPTIONS.txBatchBytes) */
const BATCH_BYTES = 256 * 1024
/** gossip-sparse: per new tx, this many txs in the batch that are not admitted */
const SPARSE_FILLERS = 7

const maxPost = (i: number): string => `${i} `.padEnd(DEFAULT_PARAMS.maxPostBytes, 'abcdefghij')
// 2-byte UTF-8 Latin-1 (one-byte JS string, half the chars) and 3-byte UTF-8 (two-byte JS string)
const maxPostLatin1 = (i: number): string => `${i} `.padEnd(DEFAULT_PARAMS.maxPostBytes / 2, 'é')
const maxPostCjk = (i: number): string => `${i} `.padEnd(Math.floor(DEFAULT_PARAMS.maxPostBytes / 3), '語')
/** A post that makes the whole signed tx maxTxBytes long (the genesis allows posts that big). */
const TX_FRAME = 180
const maxTxPost = (i: number): string => `${i} `.padEnd(DEFAULT_PARAMS.maxTxBytes - TX_FRAME, 'abcdefghij')

const UNBOUNDED_COUNT: MempoolLimits = { ...DEFAULT_MEMPOOL_LIMITS, maxTxs: Number.MAX_SAFE_INTEGER }

const SHAPES: Record<string, Shape> = {
  'tiny-rpc': { what: 'tiny posts via tx_submit', limits: DEFAULT_MEMPOOL_LIMITS, arrival: 'rpc', body: (i) => b.post(`gm ${i}`) },
  'tiny-rpc-bytes': { what: 'tiny posts via tx_submit, maxTxs unbounded', limits: UNBOUNDED_COUNT, arrival: 'rpc', body: (i) => b.post(`gm ${i}`) },
  'tiny-gossip-bytes': { what: 'tiny posts via gossip, maxTxs unbounded', limits: UNBOUNDED_COUNT, arrival: 'gossip', body: (i) => b.post(`gm ${i}`) },
  'transfer-rpc-bytes': { what: 'transfers via tx_submit, maxTxs unbounded', limits: UNBOUNDED_COUNT, arrival: 'rpc', body: () => b.transfer(new Uint8Array(32).fill(7), 1n) },
  'maxpost-rpc': { what: 'max posts (ASCII) via tx_submit', limits: DEFAULT_MEMPOOL_LIMITS, arrival: 'rpc', body: (i) => b.post(maxPost(i)) },
  'maxpost-latin1-rpc': { what: 'max posts (é) via tx_submit', limits: DEFAULT_MEMPOOL_LIMITS, arrival: 'rpc', body: (i) => b.post(maxPostLatin1(i)) },
  'maxpost-cjk-rpc': { what: 'max posts (語) via tx_submit', limits: DEFAULT_MEMPOOL_LIMITS, arrival: 'rpc', body: (i) => b.post(maxPostCjk(i)) },
  'maxpost-gossip': { what: 'max posts via gossip batches', limits: DEFAULT_MEMPOOL_LIMITS, arrival: 'gossip', body: (i) => b.post(maxPost(i)) },
  'maxpost-gossip-sparse': { what: `max posts via gossip, 1 new in ${SPARSE_FILLERS + 1}`, limits: DEFAULT_MEMPOOL_LIMITS, arrival: 'gossip-sparse', body: (i) => b.post(maxPost(i)) },
  'maxtx-rpc': {
    what: `${DEFAULT_PARAMS.maxTxBytes} B txs via tx_submit`, limits: DEFAULT_MEMPOOL_LIMITS, arrival: 'rpc',
    body: (i) => b.post(maxTxPost(i)), params: { maxPostBytes: DEFAULT_PARAMS.maxTxBytes }
  }
}

const MiB = 1024 * 1024
const mib = (n: number): string => (n / MiB).toFixed(1).padStart(7)

v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc') as () => void
async function settle (): Promise<NodeJS.MemoryUsage> {
  for (let i = 0; i < 4; i++) { gc(); await new Promise((resolve) => setTimeout(resolve, 100)) }
  return process.memoryUsage()
}

/**
 * Every tx the fill may need, signed before the baseline into one buffer, so that neither
 * the signing's garbage nor the wire copies count in the growth: tx i is sender i mod
 * SENDERS's, with nonce i div SENDERS.
 */
function signAll (shape: Shape, users: b.Signer[], chainId: string, feeRule: b.FeeRule): { wire: Uint8Array, ends: number[] } {
  const sample = users[0]!.sign({ chainId, nonce: 0, body: shape.body(0) }, feeRule).tx
  const count = Math.min(shape.limits.maxTxs, Math.ceil(shape.limits.maxBytes / txCost(sample) * 1.05)) + 64
  const wire = new Uint8Array(count * (sample.bytes.length + 16))
  const ends: number[] = []
  let at = 0
  for (let i = 0; i < count; i++) {
    const tx = users[i % SENDERS]!.sign({ chainId, nonce: Math.floor(i / SENDERS), body: shape.body(i) }, feeRule).tx
    wire.set(tx.bytes, at)
    at += tx.bytes.length
    ends.push(at)
  }
  return { wire, ends }
}

async function run (name: string, shape: Shape, cycles: number): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'chorus-bench-'))
  const vKey = publicKeyOf(generateSecretKey())
  const chainId = 'bench'
  const users = Array.from({ length: SENDERS }, () => b.Signer.generate())
  const genesis = parseGenesis({
    chainId, genesisTimeMs: 1,
    params: shape.params ?? {},
    accounts: users.map((u) => ({ address: u.address(), balance: '1000000000000' })),
    validators: [{ address: encodeAddress(vKey), power: '1' }]
  })
  const store = await Store.open(join(dir, 'db'))
  const chain = await Chain.open(store, genesis, verifySignature)
  const pool = new TxPool(chain, new Mempool(shape.limits))
  const { wire, ends } = signAll(shape, users, chainId, genesis.params)
  const txBytes = (i: number): Uint8Array => wire.subarray(i === 0 ? 0 : ends[i - 1], ends[i])
  // a tx of a sender not in genesis: it fails the dry run, and the batch goes on without it
  const filler = b.Signer.generate().sign({ chainId, nonce: 0, body: shape.body(0) }, genesis.params).tx.bytes

  // warm the code paths (and LevelDB's caches) with the first txs, then drop them: the fill starts over
  for (let i = 0; i < 200; i++) await pool.submit(parseHex(toHex(txBytes(i)))!)
  for (const tx of [...pool.mempool.ordered()]) pool.mempool.dropWithSuccessors(tx)

  const before = await settle()
  const t0 = performance.now()
  let next = 0
  let full = false
  while (!full) {
    if (next >= ends.length) throw new Error('signed too few txs to fill the mempool')
    if (shape.arrival === 'rpc') {
      // as tx_submit gets it: a hex string, parsed to bytes
      try {
        await pool.submit(parseHex(toHex(txBytes(next++)))!)
      } catch (e) {
        if (e instanceof ChorusError && e.code === ErrorCode.MEMPOOL_FULL) full = true
        else throw e
      }
      continue
    }
    // as gossip gets it: one encoded batch, decoded into its txs
    const batch: Uint8Array[] = []
    let fresh = 0
    for (let bytes = 0; bytes < BATCH_BYTES && next < ends.length;) {
      const tx = txBytes(next++)
      batch.push(tx)
      fresh += 1
      bytes += tx.length
      if (shape.arrival === 'gossip-sparse') { for (let k = 0; k < SPARSE_FILLERS; k++) batch.push(filler); break }
    }
    const sizeBefore = pool.mempool.size
    try {
      await admitTxBatch(decodeTxBatch(encodeCanonical([batch]), genesis.params.maxTxBytes), pool)
    } catch { /* nothing new admitted: IGNORE */ }
    // a batch that did not get in whole means the pool is at its bound
    if (pool.mempool.size - sizeBefore < fresh) full = true
  }
  const ms = performance.now() - t0
  const after = await settle()

  const m = pool.mempool
  const rss = after.rss - before.rss
  const heap = after.heapUsed - before.heapUsed
  const buffers = after.arrayBuffers - before.arrayBuffers
  const encoded = [...m.ordered()].reduce((n, t) => n + t.bytes.length, 0)
  console.log([
    name.padEnd(22), String(m.size).padStart(6), String(Math.round(encoded / m.size)).padStart(5),
    mib(encoded), mib(m.bytes), mib(shape.limits.maxBytes), mib(heap), mib(buffers), mib(rss),
    (rss / shape.limits.maxBytes).toFixed(2).padStart(9), (rss / m.bytes).toFixed(2).padStart(11), (rss / m.size).toFixed(0).padStart(6),
    `${(m.size / (ms / 1000)).toFixed(0).padStart(6)} tx/s`, ` ${shape.what}`
  ].join(' '))
  // the same txs again, after the pool drained (as if a block took them all): does RSS climb, or was it a high-water mark?
  for (let c = 2; c <= cycles; c++) {
    for (const tx of [...m.ordered()]) m.dropWithSuccessors(tx)
    const drained = (await settle()).rss - before.rss
    for (let i = 0; i < next; i++) await pool.submit(parseHex(toHex(txBytes(i)))!).catch(() => {})
    const refilled = (await settle()).rss - before.rss
    console.log(`${''.padEnd(22)} fill ${c}: RSS growth drained ${mib(drained)}, refilled ${mib(refilled)} (${(refilled / shape.limits.maxBytes).toFixed(2)}× the bound), ${m.size} txs`)
  }
  wire.fill(0) // held to the end, so it is in both measurements
  await store.close()
  await rm(dir, { recursive: true, force: true })
}

const only = process.argv[2]
if (only !== undefined) {
  const shape = SHAPES[only]
  if (shape === undefined) throw new Error(`unknown shape ${only}; one of ${Object.keys(SHAPES).join(', ')}`)
  await run(only, shape, Number(process.argv[3] ?? 1))
} else {
  console.log(`limits: ${JSON.stringify(DEFAULT_MEMPOOL_LIMITS)}; ${SENDERS} senders; MiB after a full GC, growth from before the fill`)
  console.log('shape                     txs  B/tx encoded counted  bound    heap  buffers    RSS  RSS/bound RSS/counted RSS/tx  fill rate')
  for (const name of Object.keys(SHAPES)) {
    await new Promise<void>((resolve, reject) => {
      fork(fileURLToPath(import.meta.url), [name], { execArgv: process.execArgv }).on('exit', (code) => code === 0 ? resolve() : reject(new Error(`${name} exited ${code}`)))
    })
  }
}
