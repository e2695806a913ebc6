/**
 * How the node's parts move the series of metrics.ts, through the hooks they
 * already have: the chain's commit event (blocks, txs, intervals, rounds), the
 * consensus driver's and the RPC server's observers, libp2p's metrics slot,
 * and, at scrape time, the counts the parts keep (mempool size, connections,
 * gossip verdicts). The composition root (node.ts) builds one NodeObservers when
 * metrics are on, hands its observers to the parts it builds, then calls
 * `observe` with the parts.
 */
import { existsSync } from 'node:fs'
import { prometheusMetrics } from '@libp2p/prometheus-metrics'
import type { Libp2pOptions } from 'libp2p'
import { Gauge } from 'prom-client'
import type { Chain } from '../chain/chain.ts'
import type { TxPool } from '../chain/tx-pool.ts'
import type { Clock } from '../consensus/clock.ts'
import type { ConsensusDriver, ConsensusObserver } from '../consensus/driver.ts'
import type { ChorusNetwork } from '../p2p/network.ts'
import type { Transport } from '../p2p/transport.ts'
import { RpcCode, type RpcError } from '../rpc/errors.ts'
import type { RpcObserver, RpcServer } from '../rpc/server.ts'
import type { Syncer } from '../sync/syncer.ts'
import { memoryTargetInEffect } from '../util/memory-target.ts'
import type { Metrics } from './metrics.ts'

/** The parts `observe` reads; a node without a validator key or an RPC has null there. */
export interface ObservedParts {
  chain: Chain
  pool: TxPool
  network: ChorusNetwork
  transport: Transport
  syncer: Syncer
  driver: ConsensusDriver | null
  rpc: RpcServer | null
  /** The home-timeline index, if the node keeps one. */
  timeline: { readonly lag: number } | null
  clock: Clock
  version: string
}

/** JSON-RPC's own error codes by number, for an error that carries no typed code. */
const RPC_CODE_NAMES = new Map<number, string>(Object.entries(RpcCode).map(([name, code]) => [code, name]))

/** The outcome label of an RPC answer: ok, its typed code (data.code), or the name of its JSON-RPC code. */
export function rpcOutcome (error: RpcError | null): string {
  if (error === null) return 'ok'
  const typed = error.data?.code
  return typeof typed === 'string' ? typed : RPC_CODE_NAMES.get(error.code) ?? 'INTERNAL'
}

const LOAD_CODES: ReadonlySet<string> = new Set(['RATE_LIMITED', 'BUSY'])


export class NodeObservers {
  /** Timeouts fired at the height being decided, observed when it commits. */
  private timeoutsThisHeight = 0

  constructor (readonly metrics: Metrics) {}

  /** For the consensus driver: each timeout that fires. */
  readonly consensus: ConsensusObserver = {
    timeout: (step) => {
      this.metrics.timeouts.inc({ step })
      this.timeoutsThisHeight++
    }
  }

  /** For the RPC server and its WebSocket: each call's outcome and time, each refusal and drop. */
  readonly rpc: RpcObserver = {
    call: (method, error, seconds) => {
      const outcome = rpcOutcome(error)
      this.metrics.rpcCalls.inc({ method, outcome })
      this.metrics.rpcDuration.observe({ method }, seconds)
      // a call refused for load: admission's RATE_LIMITED and BUSY (or a subscribe the follow index cannot hold)
      if (LOAD_CODES.has(outcome)) this.metrics.rpcRefusals.inc({ scope: 'call', code: outcome })
    },
    refused: (scope, code) => { this.metrics.rpcRefusals.inc({ scope, code }) },
    dropped: (reason) => { this.metrics.wsDrops.inc({ reason }) }
  }

  /** Counts every tx offered to `pool`, by origin and result. */
  meterTxPool (pool: TxPool): void {
    pool.onAdmission((origin, result) => { this.metrics.admissions.inc({ origin, result }) })
  }

  /** Subscribes to the parts and points the gauges at them; the returned function lets go of them. */
  observe (p: ObservedParts): () => void {
    const m = this.metrics
    const r = m.readings
    const { chain, pool, driver, rpc } = p
    m.info.set({ version: p.version, chain_id: chain.chainId, role: driver === null ? 'full_node' : 'validator' }, 1)
    let lastTimeMs = chain.head.timeMs
    const unsubscribe = chain.events.onCommitted(({ checked, commit }) => {
      const { header, txs } = checked.block
      m.blocks.inc()
      m.txs.inc(txs.length)
      m.blockTxs.observe(txs.length)
      m.blockTxBytes.observe(txs.reduce((n, tx) => n + tx.bytes.length, 0))
      // the first block's "interval" would be the time since genesis was written
      if (header.height > 1) m.blockInterval.observe(Math.max(0, header.timeMs - lastTimeMs) / 1000)
      lastTimeMs = header.timeMs
      m.rounds.observe(commit.round + 1)
      if (driver !== null) m.heightTimeouts.observe(this.timeoutsThisHeight)
      this.timeoutsThisHeight = 0
    })
    r.head = () => ({ height: chain.head.height, ageMs: p.clock.now() - chain.head.timeMs })
    r.mempool = () => ({ txs: pool.mempool.size, bytes: pool.mempool.bytes })
    r.readCache = () => chain.store.readCacheStats
    const timeline = p.timeline
    if (timeline !== null) r.timelineLag = () => timeline.lag
    r.sync = () => ({ syncing: p.syncer.syncing, target: p.syncer.syncTarget })
    r.peers = () => p.transport.peers().length
    r.gossip = () => p.network.counts
    if (driver !== null) r.consensus = () => ({ height: driver.height, round: driver.round })
    if (rpc !== null) {
      r.rpc = () => ({ connections: rpc.connections.count, inFlight: rpc.admission.inFlight })
      r.ws = () => {
        const s = rpc.ws.stats()
        return { connections: s.clients.length, subscriptions: s.hub.subscriptions, queuedBytes: s.queuedBytes }
      }
    }
    const unregister = memoryTargetGauges(m)
    return () => {
      unsubscribe()
      unregister()
      for (const k of Object.keys(r) as Array<keyof typeof r>) delete r[k]
    }
  }
}

/**
 * The process's memory target (`chorus start --memory-target`, util/memory-target.ts): V8's
 * flags belong to the process, so these read the one setting in effect, 0 and 0 without one.
 */
function memoryTargetGauges (m: Metrics): () => void {
  const registers = [m.registry]
  const series: Array<[name: string, help: string, read: () => number]> = [
    ['chorus_memory_target_bytes', 'The process\'s memory target (RSS, bytes; chorus start --memory-target), 0 for none', () => memoryTargetInEffect.current?.targetBytes ?? 0],
    ['chorus_memory_target_heap_growing_percent', 'V8\'s heap growth past its live size after a full GC, as the memory target has set it (--heap-growing-percent); 0: V8\'s own', () => memoryTargetInEffect.current?.growingPercent ?? 0]
  ]
  for (const [name, help, read] of series) new Gauge({ name, help, registers, collect () { this.set(read()) } })
  return () => { for (const [name] of series) m.registry.removeSingleMetric(name) }
}

/**
 * libp2p's own series (libp2p_*: connections, dials, streams, bytes per protocol; and
 * nodejs_memory_usage_bytes, nodejs_fs_usage_bytes of `statfsDir`) on the node's registry.
 * prom-client's process series come from Metrics itself, not twice from here.
 *
 * @libp2p/prometheus-metrics keeps one module-wide table of metrics by name, and by
 * default (kept here) empties it, and prom-client's global registry, when a node is
 * built: each libp2p node then registers its series afresh on its own registry.
 */
export function libp2pMetrics (m: Metrics, statfsDir: string): NonNullable<Libp2pOptions['metrics']> {
  return prometheusMetrics({ registry: m.registry, collectDefaultMetrics: false, statfsLocation: existsSync(statfsDir) ? statfsDir : process.cwd() })
}
