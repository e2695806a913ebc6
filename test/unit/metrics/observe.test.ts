import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Metric } from 'prom-client'
import { post } from '../../../src/client/transactions.ts'
import type { ConsensusDriver } from '../../../src/consensus/driver.ts'
import { Metrics } from '../../../src/metrics/metrics.ts'
import { NodeObservers, rpcOutcome } from '../../../src/metrics/observe.ts'
import type { ChorusNetwork } from '../../../src/p2p/network.ts'
import type { Transport } from '../../../src/p2p/transport.ts'
import { RpcCode } from '../../../src/rpc/errors.ts'
import type { Syncer } from '../../../src/sync/syncer.ts'
import { type Fixture, commitFor, makeFixture } from '../../support/chain.ts'

/** A metric's value for exactly these labels (0 when it has none yet). */
async function val (metric: Metric, labels: Record<string, string> = {}): Promise<number> {
  const { values } = await metric.get()
  const want = JSON.stringify(Object.entries(labels).sort())
  return values.find((v) => JSON.stringify(Object.entries(v.labels).sort()) === want && (v as { metricName?: string }).metricName === undefined)?.value ?? 0
}

/** A histogram's _count or _sum. */
async function hist (metric: Metric, part: 'count' | 'sum', labels: Record<string, string> = {}): Promise<number> {
  const { values } = await metric.get()
  const want = JSON.stringify(Object.entries(labels).sort())
  return values.find((v) => (v as { metricName?: string }).metricName?.endsWith(`_${part}`) === true && JSON.stringify(Object.entries(v.labels).sort()) === want)?.value ?? 0
}

let fx: Fixture
let metrics: Metrics
let observers: NodeObservers
beforeEach(async () => {
  fx = await makeFixture({ users: 2 })
  metrics = new Metrics({ process: false })
  observers = new NodeObservers(metrics)
})
afterEach(async () => { await fx.close() })

describe('rpcOutcome', () => {
  it('names an answer by its typed code, else by its JSON-RPC code', () => {
    expect(rpcOutcome(null)).toBe('ok')
    expect(rpcOutcome({ code: RpcCode.UNAVAILABLE, message: '', data: { code: 'RATE_LIMITED' } })).toBe('RATE_LIMITED')
    expect(rpcOutcome({ code: RpcCode.METHOD_NOT_FOUND, message: '' })).toBe('METHOD_NOT_FOUND')
    expect(rpcOutcome({ code: RpcCode.PARSE_ERROR, message: '' })).toBe('PARSE_ERROR')
    expect(rpcOutcome({ code: 12345, message: '' })).toBe('INTERNAL')
  })
})

describe('NodeObservers', () => {
  it('counts each tx offered to the pool once, by origin and result', async () => {
    observers.meterTxPool(fx.pool)
    const [a, b] = fx.users
    const first = await fx.tx(a!, post('one'))
    expect(await fx.submitCode(first.bytes)).toBe('OK')
    expect(await fx.submitCode(first.bytes)).toBe('ALREADY_KNOWN')
    expect(await fx.submitCode(new Uint8Array([1, 2, 3]))).toBe('MALFORMED')
    expect(await fx.submitCode(await fx.tx(a!, post('gap'), { nonce: 50 }))).toBe('BAD_NONCE')
    await fx.pool.submitDecoded(await fx.tx(b!, post('from a peer')), 'gossip')
    const m = metrics.admissions
    expect(await val(m, { origin: 'local', result: 'accepted' })).toBe(1)
    expect(await val(m, { origin: 'local', result: 'ALREADY_KNOWN' })).toBe(1)
    expect(await val(m, { origin: 'local', result: 'MALFORMED' })).toBe(1)
    expect(await val(m, { origin: 'local', result: 'BAD_NONCE' })).toBe(1)
    expect(await val(m, { origin: 'gossip', result: 'accepted' })).toBe(1)
    expect((await m.get()).values.reduce((n, v) => n + v.value, 0)).toBe(5)
  })

  it('turns commits into block, tx, interval, round and timeout series, and reads gauges from the parts', async () => {
    const driver = { height: 7, round: 2 } as unknown as ConsensusDriver
    const unobserve = observers.observe({
      chain: fx.chain, pool: fx.pool, driver, rpc: null, clock: { now: () => fx.chain.head.timeMs + 1500, after: () => () => {} },
      network: { counts: { tx: { ACCEPT: 3, STALE: 1 }, consensus: {}, block: {} } } as unknown as ChorusNetwork,
      transport: { peers: () => [{}, {}] } as unknown as Transport,
      syncer: { syncing: false, syncTarget: null } as unknown as Syncer,
      timeline: { lag: 3 },
      version: '9.9.9'
    })
    const [a] = fx.users
    await fx.pool.submitDecoded(await fx.tx(a!, post('x')))
    await fx.pool.submitDecoded(await fx.tx(a!, post('y')))
    expect(await val(metrics.mempoolTxs)).toBe(2)
    expect(await val(metrics.mempoolBytes)).toBe(fx.pool.mempool.bytes)
    const b1 = await fx.block() // fixture blocks are 1 s apart
    observers.consensus.timeout('propose', 2, 0)
    observers.consensus.timeout('prevote', 2, 1)
    // height 2, decided in round 1
    const b2 = await fx.chain.buildBlock([], fx.validator.publicKey, fx.chain.head.timeMs + 1000, null)
    await fx.chain.commitBlock(b2, commitFor(b2, fx.validator, 1))

    expect(await val(metrics.blocks)).toBe(2)
    expect(await val(metrics.txs)).toBe(2)
    expect(await hist(metrics.blockTxs, 'sum')).toBe(2)
    expect(await hist(metrics.blockTxBytes, 'sum')).toBe(b1.block.txs.reduce((n, t) => n + t.bytes.length, 0))
    expect(await hist(metrics.blockInterval, 'count')).toBe(1) // height 1 has no interval
    expect(await hist(metrics.blockInterval, 'sum')).toBe(1)
    expect(await hist(metrics.rounds, 'sum')).toBe(1 + 2)
    expect(await val(metrics.timeouts, { step: 'propose' })).toBe(1)
    expect(await val(metrics.timeouts, { step: 'prevote' })).toBe(1)
    expect(await hist(metrics.heightTimeouts, 'count')).toBe(2)
    expect(await hist(metrics.heightTimeouts, 'sum')).toBe(2)

    expect(await val(metrics.height)).toBe(2)
    expect(await val(metrics.headAge)).toBe(1.5)
    expect(await val(metrics.mempoolTxs)).toBe(0)
    expect(await val(metrics.consensusHeight)).toBe(7)
    expect(await val(metrics.consensusRound)).toBe(2)
    expect(await val(metrics.peers)).toBe(2)
    expect(await val(metrics.timelineLag)).toBe(3)
    expect(await val(metrics.syncing)).toBe(0)
    expect(await val(metrics.syncTarget)).toBe(2)
    expect(await val(metrics.gossip, { topic: 'tx', code: 'STALE' })).toBe(1)
    expect(await val(metrics.info, { version: '9.9.9', chain_id: fx.chain.chainId, role: 'validator' })).toBe(1)
    // no RPC: its gauges have no sample
    expect((await metrics.rpcConnections.get()).values).toEqual([])

    unobserve()
    await fx.block()
    expect(await val(metrics.blocks)).toBe(2)
    expect((await metrics.height.get()).values).toEqual([])
  })

  it('counts RPC calls by method and outcome, and load refusals by scope and code', async () => {
    const rpc = observers.rpc
    rpc.call('chain_getHead', null, 0.002)
    rpc.call('chain_getHead', { code: RpcCode.UNAVAILABLE, message: '', data: { code: 'BUSY' } }, 0.0001)
    rpc.call('unknown', { code: RpcCode.METHOD_NOT_FOUND, message: '' }, 0.0001)
    rpc.refused('connection', 'RATE_LIMITED')
    rpc.refused('websocket', 'BUSY')
    rpc.dropped('SLOW_READER')
    expect(await val(metrics.rpcCalls, { method: 'chain_getHead', outcome: 'ok' })).toBe(1)
    expect(await val(metrics.rpcCalls, { method: 'chain_getHead', outcome: 'BUSY' })).toBe(1)
    expect(await val(metrics.rpcCalls, { method: 'unknown', outcome: 'METHOD_NOT_FOUND' })).toBe(1)
    expect(await hist(metrics.rpcDuration, 'count', { method: 'chain_getHead' })).toBe(2)
    expect(await val(metrics.rpcRefusals, { scope: 'call', code: 'BUSY' })).toBe(1)
    expect(await val(metrics.rpcRefusals, { scope: 'connection', code: 'RATE_LIMITED' })).toBe(1)
    expect(await val(metrics.rpcRefusals, { scope: 'websocket', code: 'BUSY' })).toBe(1)
    expect(await val(metrics.wsDrops, { reason: 'SLOW_READER' })).toBe(1)
  })
})
