/**
 * Every Prometheus series the node exports, on one prom-client Registry of its
 * own (not the global one: several nodes in one process, as in the tests, keep
 * apart). Nothing here reads a part of the node: counters and histograms are
 * moved by observers (observe.ts), and gauges read `readings` at scrape time,
 * which observe.ts fills in for the parts the node has. A gauge with no reading
 * is not exported. docs/metrics.md lists every series; a test keeps the two equal.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

/** What the gauges read when scraped; a part the node lacks (no RPC, no validator key) leaves its own unset. */
export interface Readings {
  /** The head's height, and how long ago its block's header time was (on the node's clock). */
  head?: () => { height: number, ageMs: number }
  mempool?: () => { txs: number, bytes: number }
  /** The state read cache (state/read-cache.ts): what it holds and may hold, its hits and misses; null with the cache off. */
  readCache?: () => { bytes: number, maxBytes: number, hits: number, misses: number } | null
  /** Blocks committed but not yet in the home-timeline index (absent with the index off). */
  timelineLag?: () => number
  consensus?: () => { height: number, round: number }
  sync?: () => { syncing: boolean, target: number | null }
  peers?: () => number
  /** Gossip verdicts so far, per topic and code ('ACCEPT' or an error code): ChorusNetwork.counts. */
  gossip?: () => Record<string, Record<string, number>>
  rpc?: () => { connections: number, inFlight: number }
  ws?: () => { connections: number, subscriptions: number, queuedBytes: number }
}

/** Wall-clock seconds for the block interval, around sub-second to minute-long block times. */
const INTERVAL_BUCKETS = [0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30, 60]
const TXS_BUCKETS = [0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000]
/** Bytes: 0, then 256 B to 16 MiB by fours. */
const BYTES_BUCKETS = [0, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216]
const ROUNDS_BUCKETS = [1, 2, 3, 4, 5, 6, 8, 10, 15, 20]
const TIMEOUTS_BUCKETS = [0, 1, 2, 3, 4, 6, 8, 12, 20]
/** An RPC call: a cached read takes well under a millisecond; tx_submit with wait "commit" takes a block time or more. */
const RPC_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

export interface MetricsOptions {
  /** Process and Node.js runtime series (CPU, memory, event loop lag, GC, handles): prom-client's default metrics. */
  process: boolean
}

export class Metrics {
  readonly registry = new Registry()
  /** Filled in by observe.ts for the parts the node has. */
  readonly readings: Readings = {}

  // node
  readonly info: Gauge<'version' | 'chain_id' | 'role'>

  // chain
  readonly height: Gauge
  readonly headAge: Gauge
  readonly blocks: Counter
  readonly txs: Counter
  readonly blockInterval: Histogram
  readonly blockTxs: Histogram
  readonly blockTxBytes: Histogram

  // consensus
  readonly consensusHeight: Gauge
  readonly consensusRound: Gauge
  readonly rounds: Histogram
  readonly timeouts: Counter<'step'>
  readonly heightTimeouts: Histogram

  // mempool
  readonly mempoolTxs: Gauge
  readonly mempoolBytes: Gauge
  readonly admissions: Counter<'origin' | 'result'>

  // network and sync
  readonly peers: Gauge
  readonly gossip: Counter<'topic' | 'code'>
  readonly syncing: Gauge
  readonly syncTarget: Gauge

  // RPC
  readonly rpcCalls: Counter<'method' | 'outcome'>
  readonly rpcDuration: Histogram<'method'>
  readonly rpcRefusals: Counter<'scope' | 'code'>
  readonly rpcConnections: Gauge
  readonly rpcInFlight: Gauge
  readonly timelineLag: Gauge
  readonly readCacheBytes: Gauge
  readonly readCacheMaxBytes: Gauge
  readonly readCacheReads: Counter<'result'>
  readonly wsConnections: Gauge
  readonly wsSubscriptions: Gauge
  readonly wsQueuedBytes: Gauge
  readonly wsDrops: Counter<'reason'>

  constructor (opts: MetricsOptions) {
    const registers = [this.registry]
    const r = this.readings
    /** A gauge set from a reading at each scrape, absent while there is none. */
    const gauge = (name: string, help: string, read: () => number | undefined): Gauge => new Gauge({
      name, help, registers,
      collect () {
        const v = read()
        // an unlabelled gauge holds 0 until removed
        if (v === undefined) this.remove()
        else this.set(v)
      }
    })

    this.info = new Gauge({ name: 'chorus_node_info', help: 'Always 1; its labels say which node this is', labelNames: ['version', 'chain_id', 'role'], registers })

    this.height = gauge('chorus_chain_height', 'Height of the head block', () => r.head?.().height)
    this.headAge = gauge('chorus_chain_head_age_seconds', 'Seconds since the head block\'s time (its header timestamp)', () => {
      const h = r.head?.()
      return h === undefined ? undefined : Math.max(0, h.ageMs) / 1000
    })
    this.blocks = new Counter({ name: 'chorus_chain_blocks_total', help: 'Blocks committed since start, by consensus or by sync', registers })
    this.txs = new Counter({ name: 'chorus_chain_txs_total', help: 'Transactions in the blocks committed since start', registers })
    this.blockInterval = new Histogram({ name: 'chorus_block_interval_seconds', help: 'Time between a committed block and the one before it, from their header timestamps', buckets: INTERVAL_BUCKETS, registers })
    this.blockTxs = new Histogram({ name: 'chorus_block_txs', help: 'Transactions per committed block', buckets: TXS_BUCKETS, registers })
    this.blockTxBytes = new Histogram({ name: 'chorus_block_tx_bytes', help: 'Encoded bytes of the transactions of each committed block', buckets: BYTES_BUCKETS, registers })

    this.consensusHeight = gauge('chorus_consensus_height', 'Height the consensus driver is deciding (validators only)', () => r.consensus?.().height)
    this.consensusRound = gauge('chorus_consensus_round', 'Round the consensus driver is in at its height (validators only)', () => r.consensus?.().round)
    this.rounds = new Histogram({ name: 'chorus_consensus_rounds', help: 'Rounds each committed height took: 1 when decided in its first round (from the commit\'s round)', buckets: ROUNDS_BUCKETS, registers })
    this.timeouts = new Counter({ name: 'chorus_consensus_timeouts_total', help: 'Consensus timeouts that fired, by step (propose, prevote, precommit)', labelNames: ['step'], registers })
    this.heightTimeouts = new Histogram({ name: 'chorus_consensus_height_timeouts', help: 'Consensus timeouts this validator hit while deciding each committed height', buckets: TIMEOUTS_BUCKETS, registers })

    this.mempoolTxs = gauge('chorus_mempool_txs', 'Transactions in the mempool', () => r.mempool?.().txs)
    this.mempoolBytes = gauge('chorus_mempool_bytes', 'Memory the mempool\'s transactions count against its byte limit (encoded bytes, decoded text, per-tx overhead)', () => r.mempool?.().bytes)
    this.admissions = new Counter({ name: 'chorus_mempool_admissions_total', help: 'Transactions offered to the mempool, by origin (local: RPC; gossip: peers) and result (accepted, or the error code that refused it)', labelNames: ['origin', 'result'], registers })

    this.readCacheBytes = gauge('chorus_state_read_cache_bytes', 'Bytes the state read cache holds, as it counts them (values, keys and per-entry overhead)', () => r.readCache?.()?.bytes)
    this.readCacheMaxBytes = gauge('chorus_state_read_cache_max_bytes', 'The state read cache\'s bound in bytes (32 MiB, or a 32nd of the memory target if that is less)', () => r.readCache?.()?.maxBytes)
    this.readCacheReads = new Counter({
      name: 'chorus_state_read_cache_reads_total', help: 'State reads through the read cache, by result: hit (answered from it) or miss (read from LevelDB)', labelNames: ['result'], registers,
      collect () {
        // the cache keeps the counts; read at each scrape
        const c = r.readCache?.()
        this.reset()
        if (c != null) { this.inc({ result: 'hit' }, c.hits); this.inc({ result: 'miss' }, c.misses) }
      }
    })

    this.timelineLag = gauge('chorus_timeline_lag_blocks', 'Blocks committed but not yet in the home-timeline index feeds are read from (absent with --no-timeline-index)', () => r.timelineLag?.())

    this.peers = gauge('chorus_p2p_peers', 'Connected peers', () => r.peers?.())
    this.gossip = new Counter({
      name: 'chorus_gossip_messages_total', help: 'Gossip messages validated, by topic and verdict code (ACCEPT, or the error code that made them ignored or rejected)', labelNames: ['topic', 'code'], registers,
      collect () {
        const counts = r.gossip?.()
        this.reset()
        for (const [topic, byCode] of Object.entries(counts ?? {})) for (const [code, n] of Object.entries(byCode)) this.inc({ topic, code }, n)
      }
    })
    this.syncing = gauge('chorus_sync_syncing', '1 while the node syncs (more than a few blocks behind its peers), else 0', () => {
      const s = r.sync?.()
      return s === undefined ? undefined : s.syncing ? 1 : 0
    })
    this.syncTarget = gauge('chorus_sync_target_height', 'Height sync is heading for while syncing, else the head height', () => {
      const s = r.sync?.()
      return s === undefined ? undefined : s.target ?? r.head?.().height
    })

    this.rpcCalls = new Counter({ name: 'chorus_rpc_calls_total', help: 'JSON-RPC calls over HTTP and WebSocket, by method and outcome (ok, or the error code of the answer)', labelNames: ['method', 'outcome'], registers })
    this.rpcDuration = new Histogram({ name: 'chorus_rpc_call_duration_seconds', help: 'Time from a call\'s arrival to its answer, waiting for admission included, by method', labelNames: ['method'], buckets: RPC_BUCKETS, registers })
    this.rpcRefusals = new Counter({ name: 'chorus_rpc_refusals_total', help: 'RPC work refused, by scope (call, connection, request, websocket) and code (RATE_LIMITED, BUSY, FORBIDDEN, TOO_LARGE, NOT_FOUND)', labelNames: ['scope', 'code'], registers })
    this.rpcConnections = gauge('chorus_rpc_connections', 'Open RPC connections, HTTP and WebSocket together', () => r.rpc?.().connections)
    this.rpcInFlight = gauge('chorus_rpc_inflight_cost', 'Cost of the RPC calls running now, in units of one small read (admission.ts)', () => r.rpc?.().inFlight)
    this.wsConnections = gauge('chorus_ws_connections', 'Open WebSocket connections', () => r.ws?.().connections)
    this.wsSubscriptions = gauge('chorus_ws_subscriptions', 'Live WebSocket subscriptions', () => r.ws?.().subscriptions)
    this.wsQueuedBytes = gauge('chorus_ws_queued_bytes', 'Bytes queued for WebSocket clients and not yet taken by them', () => r.ws?.().queuedBytes)
    this.wsDrops = new Counter({ name: 'chorus_ws_drops_total', help: 'WebSocket connections dropped for holding too much unread, by reason (SLOW_READER, RATE_LIMITED, BUSY)', labelNames: ['reason'], registers })

    if (opts.process) collectDefaultMetrics({ register: this.registry })
  }

  /** The text exposition format, for GET /metrics. */
  async scrape (): Promise<string> { return await this.registry.metrics() }
  get contentType (): string { return this.registry.contentType }
}
