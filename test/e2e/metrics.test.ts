/**
 * The metrics endpoint of a real node: a validator making a block every 100 ms
 * (at most 2 txs each, so submitted txs wait in the mempool a while), libp2p on
 * loopback, RPC and metrics on free ports. Scrapes over HTTP before and after txs,
 * blocks, calls and subscriptions, and checks the series moved; then checks that
 * docs/metrics.md and docs/grafana-dashboard.json name exactly what is exported.
 */
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { parseGenesis } from '../../src/chain/genesis.ts'
import { Signer, post } from '../../src/client/transactions.ts'
import { encodeAddress } from '../../src/crypto/address.ts'
import { generateSecretKey, publicKeyOf } from '../../src/crypto/keys.ts'
import { silentLogger } from '../../src/logger.ts'
import { ChorusNode } from '../../src/node.ts'
import { DEFAULT_READ_CACHE_BYTES } from '../../src/state/read-cache.ts'
import { VERSION } from '../../src/version.ts'
import { waitFor } from '../support/wait.ts'

const CHAIN_ID = 'metrics-test'
const DOCS = fileURLToPath(new URL('../../docs/', import.meta.url))

let node: ChorusNode
let dir: string
const alice = Signer.generate()
let nonce = 0

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chorus-metrics-'))
  const secretKey = generateSecretKey()
  const genesis = parseGenesis({
    chainId: CHAIN_ID, genesisTimeMs: Date.now(), params: { blockTimeMs: 100, maxBlockTxs: 2 },
    accounts: [{ address: alice.address(), balance: '1000000000' }],
    validators: [{ address: encodeAddress(publicKeyOf(secretKey)), power: '1' }]
  })
  node = await ChorusNode.start({
    dataDir: join(dir, 'data'), genesis,
    // 4 units of work in flight per connection and none waiting: a batch of 6 one-unit calls has 2 refused
    rpc: { host: '127.0.0.1', port: 0, admission: { perConnection: 4, queuedPerConnection: 0 } },
    p2p: { listen: ['/ip4/127.0.0.1/tcp/0'], announce: [], bootstrap: [], nodeKeyPath: join(dir, 'node-key.json') },
    metrics: { host: '127.0.0.1', port: 0 },
    validator: { secretKey, signStatePath: join(dir, 'sign-state.json'), walPath: join(dir, 'consensus.wal') }
  }, { logger: silentLogger })
})
afterAll(async () => {
  await node?.stop()
  await rm(dir, { recursive: true, force: true })
})

/** One scrape: each sample by `name{label="value",…}` (labels sorted), and each family's type by name. */
interface Scrape { samples: Map<string, number>, types: Map<string, string> }

async function scrape (): Promise<Scrape> {
  const res = await fetch(node.metricsUrl!)
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
  const samples = new Map<string, number>()
  const types = new Map<string, string>()
  for (const line of (await res.text()).split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line)
    if (type !== null) types.set(type[1]!, type[2]!)
    const sample = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (sample === null) continue
    const labels = [...(sample[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => `${m[1]}="${m[2]}"`).sort()
    samples.set(key(sample[1]!, labels), Number(sample[3]))
  }
  return { samples, types }
}

const key = (name: string, labels: string[]): string => labels.length === 0 ? name : `${name}{${labels.join(',')}}`

/** A sample's value, 0 when absent (a counter not yet moved). */
function value (s: Scrape, name: string, labels: Record<string, string> = {}): number {
  return s.samples.get(key(name, Object.entries(labels).map(([k, v]) => `${k}="${v}"`).sort())) ?? 0
}

/** Series names a scrape exports: each family, and a histogram's _bucket, _sum and _count. */
function seriesNames (s: Scrape): Set<string> {
  const names = new Set<string>()
  for (const [name, type] of s.types) {
    names.add(name)
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix)
    if (type === 'summary') for (const suffix of ['_sum', '_count']) names.add(name + suffix)
  }
  return names
}

async function rpc (body: unknown): Promise<any> {
  const res = await fetch(`http://127.0.0.1:${node.rpcPort}/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  return await res.json()
}

const call = async (method: string, params: unknown[] = []) => await rpc({ jsonrpc: '2.0', id: 1, method, params })

describe('metrics endpoint', () => {
  it('serves GET /metrics on its own port, and nothing else there', async () => {
    expect(node.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/)
    expect(new URL(node.metricsUrl!).port).not.toBe(String(node.rpcPort))
    const base = node.metricsUrl!.replace(/\/metrics$/, '')
    expect((await fetch(`${base}/`)).status).toBe(404)
    expect((await fetch(node.metricsUrl!, { method: 'POST' })).status).toBe(405)
    const s = await scrape()
    expect(value(s, 'chorus_node_info', { chain_id: CHAIN_ID, role: 'validator', version: VERSION })).toBe(1)
  })

  it('moves height, blocks, txs per block, mempool, admissions and RPC calls as txs are submitted and included', async () => {
    await waitFor(() => node.chain.head.height >= 2, 'two blocks')
    const before = await scrape()
    const N = 30
    let txBytes = 0
    for (let i = 0; i < N; i++) {
      const tx = alice.sign({ chainId: CHAIN_ID, nonce: nonce++, body: post(`metrics ${i}`) })
      txBytes += tx.hex.length / 2
      expect((await call('tx_submit', [tx.hex])).result).toMatchObject({ id: tx.id })
    }
    // at most 2 txs a block: most of them still wait right after the last submit
    const pending = await waitFor(async () => {
      const s = await scrape()
      return value(s, 'chorus_mempool_txs') > 0 ? s : undefined
    }, 'the mempool gauge to show pending txs')
    expect(value(pending, 'chorus_mempool_bytes')).toBeGreaterThan(0)

    const after = await waitFor(async () => {
      const s = await scrape()
      return value(s, 'chorus_mempool_txs') === 0 && value(s, 'chorus_chain_txs_total') - value(before, 'chorus_chain_txs_total') === N ? s : undefined
    }, 'every tx included', 30_000)
    const moved = (name: string, labels?: Record<string, string>) => value(after, name, labels) - value(before, name, labels)

    const blocks = moved('chorus_chain_blocks_total')
    expect(blocks).toBeGreaterThanOrEqual(N / 2)
    expect(moved('chorus_chain_height')).toBeGreaterThanOrEqual(blocks)
    expect(value(after, 'chorus_chain_height')).toBeLessThanOrEqual(node.chain.head.height)
    expect(value(after, 'chorus_mempool_bytes')).toBe(0)
    expect(moved('chorus_block_txs_count')).toBe(blocks)
    expect(moved('chorus_block_txs_sum')).toBe(N)
    expect(moved('chorus_block_tx_bytes_sum')).toBe(txBytes)
    expect(moved('chorus_block_interval_seconds_count')).toBe(blocks)
    expect(moved('chorus_block_interval_seconds_sum')).toBeGreaterThan(0)
    expect(moved('chorus_consensus_rounds_count')).toBe(blocks)
    expect(moved('chorus_consensus_height_timeouts_count')).toBe(blocks)
    expect(value(after, 'chorus_consensus_height')).toBeGreaterThan(value(before, 'chorus_consensus_height'))

    expect(moved('chorus_mempool_admissions_total', { origin: 'local', result: 'accepted' })).toBe(N)
    expect(moved('chorus_rpc_calls_total', { method: 'tx_submit', outcome: 'ok' })).toBe(N)
    expect(moved('chorus_rpc_call_duration_seconds_count', { method: 'tx_submit' })).toBe(N)
    expect(moved('chorus_rpc_call_duration_seconds_sum', { method: 'tx_submit' })).toBeGreaterThan(0)
    expect(moved('chorus_rpc_call_duration_seconds_bucket', { method: 'tx_submit', le: '+Inf' })).toBe(N)

    // the dry runs and executions read alice's account through the state read cache
    const reads = moved('chorus_state_read_cache_reads_total', { result: 'hit' }) + moved('chorus_state_read_cache_reads_total', { result: 'miss' })
    expect(reads).toBeGreaterThanOrEqual(2 * N)
    expect(value(after, 'chorus_state_read_cache_reads_total', { result: 'hit' })).toBeLessThanOrEqual(node.store.readCacheStats!.hits)
    expect(value(after, 'chorus_state_read_cache_bytes')).toBeGreaterThan(0)
    expect(value(after, 'chorus_state_read_cache_max_bytes')).toBe(DEFAULT_READ_CACHE_BYTES)
  })

  it('shows refused txs and calls under their codes', async () => {
    const before = await scrape()
    const gap = alice.sign({ chainId: CHAIN_ID, nonce: nonce + 1000, body: post('too far ahead') })
    expect((await call('tx_submit', [gap.hex])).error.data.code).toBe('BAD_NONCE')
    expect((await call('tx_submit', ['c0ffee'])).error.data.code).toBe('MALFORMED')
    expect((await call('no_such_method')).error.code).toBe(-32601)
    // a batch of 6 one-unit calls on one connection allowed 4 in flight and none waiting
    const batch = await rpc(Array.from({ length: 6 }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'chain_getHead', params: [] })))
    expect(batch.filter((a: any) => a.error?.data?.code === 'RATE_LIMITED')).toHaveLength(2)

    const after = await scrape()
    const moved = (name: string, labels: Record<string, string>) => value(after, name, labels) - value(before, name, labels)
    expect(moved('chorus_mempool_admissions_total', { origin: 'local', result: 'BAD_NONCE' })).toBe(1)
    expect(moved('chorus_mempool_admissions_total', { origin: 'local', result: 'MALFORMED' })).toBe(1)
    expect(moved('chorus_rpc_calls_total', { method: 'tx_submit', outcome: 'BAD_NONCE' })).toBe(1)
    expect(moved('chorus_rpc_calls_total', { method: 'tx_submit', outcome: 'MALFORMED' })).toBe(1)
    expect(moved('chorus_rpc_calls_total', { method: 'unknown', outcome: 'METHOD_NOT_FOUND' })).toBe(1)
    expect(moved('chorus_rpc_calls_total', { method: 'chain_getHead', outcome: 'ok' })).toBe(4)
    expect(moved('chorus_rpc_calls_total', { method: 'chain_getHead', outcome: 'RATE_LIMITED' })).toBe(2)
    expect(moved('chorus_rpc_refusals_total', { scope: 'call', code: 'RATE_LIMITED' })).toBe(2)
    expect(value(after, 'chorus_rpc_refusals_total', { scope: 'call', code: 'RATE_LIMITED' })).toBe(node.rpcServer!.admission.refusals.RATE_LIMITED)
  })

  it('counts WebSocket connections and subscriptions', async () => {
    const before = await scrape()
    const ws = new WebSocket(`ws://127.0.0.1:${node.rpcPort}/ws`)
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
    const replies: any[] = []
    ws.on('message', (d) => replies.push(JSON.parse(d.toString())))
    ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'subscribe', params: ['newHeads'] }))
    await waitFor(() => replies.some((m) => m.id === 1), 'the subscribe reply')
    const open = await scrape()
    expect(value(open, 'chorus_ws_connections')).toBe(1)
    expect(value(open, 'chorus_ws_subscriptions')).toBe(1)
    expect(value(open, 'chorus_rpc_connections')).toBeGreaterThanOrEqual(1)
    expect(value(open, 'chorus_rpc_calls_total', { method: 'subscribe', outcome: 'ok' }) - value(before, 'chorus_rpc_calls_total', { method: 'subscribe', outcome: 'ok' })).toBe(1)
    ws.close()
    await waitFor(async () => {
      const s = await scrape()
      return value(s, 'chorus_ws_connections') === 0 && value(s, 'chorus_ws_subscriptions') === 0
    }, 'the WebSocket gauges back at 0')
  })

  it('exports process and libp2p series on the same registry', async () => {
    const names = seriesNames(await scrape())
    for (const name of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes',
      'libp2p_connection_manager_connections', 'libp2p_data_transfer_bytes_total', 'nodejs_fs_usage_bytes']) {
      expect(names, name).toContain(name)
    }
  })
})

describe('docs', () => {
  it('docs/metrics.md documents every chorus_ series exported, and no other', async () => {
    const s = await scrape()
    const exported = [...s.types.keys()].filter((n) => n.startsWith('chorus_')).sort()
    const doc = readFileSync(join(DOCS, 'metrics.md'), 'utf8')
    const documented = [...new Set([...doc.matchAll(/`(chorus_\w+)(?:\{[^`]*\})?`/g)].map((m) => m[1]!.replace(/_(bucket|sum|count)$/, '')))].sort()
    expect(documented).toEqual(exported)
    // each in a table row of its own, with its type
    for (const name of exported) expect(doc, name).toMatch(new RegExp(`^\\| \`${name}\` \\| ${s.types.get(name)} \\|`, 'm'))
  })

  it('docs/grafana-dashboard.json is a dashboard whose every expr reads series the node exports', async () => {
    const dashboard = JSON.parse(readFileSync(join(DOCS, 'grafana-dashboard.json'), 'utf8'))
    expect(dashboard.title).toMatch(/Chorus/)
    const panels: any[] = (dashboard.panels as any[]).flatMap((p) => [p, ...(p.panels ?? [])])
    const exprs: string[] = panels.flatMap((p) => (p.targets ?? []).map((t: { expr?: string }) => t.expr)).filter((e): e is string => typeof e === 'string')
    expect(exprs.length).toBeGreaterThanOrEqual(15)
    const names = seriesNames(await scrape())
    const missing: string[] = []
    for (const expr of exprs) {
      const used = [...expr.matchAll(/\b((?:chorus|process|nodejs|libp2p)_\w+)/g)].map((m) => m[1]!)
      expect(used.length, expr).toBeGreaterThan(0)
      for (const name of used) if (!names.has(name)) missing.push(`${name} in ${expr}`)
    }
    expect(missing).toEqual([])
    // the main series each have a panel
    const all = exprs.join('\n')
    for (const name of ['chorus_chain_height', 'chorus_block_interval_seconds', 'chorus_block_txs', 'chorus_block_tx_bytes', 'chorus_consensus_rounds', 'chorus_consensus_timeouts_total',
      'chorus_mempool_txs', 'chorus_mempool_bytes', 'chorus_mempool_admissions_total', 'chorus_rpc_calls_total', 'chorus_rpc_call_duration_seconds', 'chorus_rpc_refusals_total',
      'chorus_ws_connections', 'chorus_ws_subscriptions', 'chorus_p2p_peers', 'process_cpu_seconds_total', 'libp2p_connection_manager_connections']) {
      expect(all, name).toContain(name)
    }
  })
})
