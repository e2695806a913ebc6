/**
 * The composition root: builds every part in dependency order (store → chain →
 * mempool → network → sync → consensus → RPC → metrics) and stops them in reverse.
 * Nothing else constructs these parts: the CLI, the in-process tests, the
 * simulator and the benchmarks all build nodes here, replacing parts through
 * `NodeModules` (a memory transport, a virtual clock, a memory store).
 */
import { Chain, DEFAULT_RECENT_BLOCK_BYTES } from './chain/chain.ts'
import { EvidencePool, type Evidence } from './chain/evidence.ts'
import type { Genesis } from './chain/genesis.ts'
import { DEFAULT_MEMPOOL_LIMITS, Mempool, type MempoolLimits } from './chain/mempool.ts'
import { TxPool } from './chain/tx-pool.ts'
import { TxWaiters } from './chain/tx-waiters.ts'
import { type Clock, systemClock } from './consensus/clock.ts'
import { ConsensusDriver, type ConsensusMessage, DEFAULT_TIMEOUTS, type Timeouts, type ValidatorIdentity } from './consensus/driver.ts'
import { SignState, type SignStore, fileSignStore } from './consensus/sign-state.ts'
import type { ConsensusBugs } from './consensus/state-machine.ts'
import { type Wal, fileWal } from './consensus/wal.ts'
import { fileConsensusLog } from './consensus/consensus-log.ts'
import { encodeAddress } from './crypto/address.ts'
import { equalBytes } from './crypto/bytes.ts'
import { publicKeyOf } from './crypto/keys.ts'
import { inlineBatchVerify } from './crypto/signature-batch.ts'
import { verifySignature } from './crypto/verify.ts'
import { VerifyPool } from './crypto/verify-pool.ts'
import type { Logger } from './logger.ts'
import { Metrics } from './metrics/metrics.ts'
import { NodeObservers, libp2pMetrics } from './metrics/observe.ts'
import { MetricsServer, type MetricsServerOptions } from './metrics/server.ts'
import { loadOrCreateNodeKey } from './p2p/identity.ts'
import { DEFAULT_LIBP2P_TRANSPORT_OPTIONS, type Libp2pTransportModules, createLibp2pTransport } from './p2p/libp2p-transport.ts'
import { MemoryHub } from './p2p/memory-transport.ts'
import { ChorusNetwork, DEFAULT_NETWORK_OPTIONS, type NetworkOptions } from './p2p/network.ts'
import type { PeerInfo, Transport } from './p2p/transport.ts'
import type { VerifyFn } from './protocol/validate.ts'
import type { RpcContext } from './rpc/context.ts'
import { DEFAULT_HTTP_POLICY } from './rpc/http-policy.ts'
import { DEFAULT_RPC_OPTIONS, RpcServer } from './rpc/server.ts'
import { Views } from './rpc/views.ts'
import type { AdmissionLimits } from './rpc/admission.ts'
import { planDescriptors, softFdLimit } from './util/descriptors.ts'
import { readFileSync } from 'node:fs'
import { ErrorCode, fail } from './protocol/errors.ts'
import { DEV_CHAIN_ID } from './protocol/params.ts'
import { Faucet } from './rpc/faucet.ts'
import { DEFAULT_TIMELINE_OPTIONS, TimelineIndexer, type TimelineOptions } from './feed/timeline-indexer.ts'
import { Feeds } from './feed/feeds.ts'
import { Queries } from './state/queries.ts'
import { DEFAULT_READ_CACHE_BYTES } from './state/read-cache.ts'
import { Store } from './state/store.ts'
import { DEFAULT_SYNC_OPTIONS, type SyncOptions, Syncer } from './sync/syncer.ts'
import { VERSION } from './version.ts'

export interface P2pOptions {
  /** Multiaddrs to listen on, e.g. /ip4/0.0.0.0/tcp/36656. */
  listen: string[]
  /** Multiaddrs to tell peers instead of the listen addresses (a public IP behind NAT); empty: the listen ones. */
  announce: string[]
  /** Full multiaddrs (ending in /p2p/<peerId>) of peers to dial at start and redial forever. */
  bootstrap: string[]
  /** HOME/node-key.json: the libp2p identity, made on first start. */
  nodeKeyPath: string
  maxPeers?: number
  maxPeersPerIp?: number
}

export interface RpcOptions {
  host: string
  port: number
  corsOrigins?: string[]
  allowedHosts?: string[]
  /** Wanted caps; the total is lowered to fit under the open-file limit (util/descriptors.ts). */
  maxConnections?: number
  maxConnectionsPerIp?: number
  maxResponseBytes?: number
  admission?: Partial<AdmissionLimits>
  /** The web app's built files (rpc/web.ts; the CLI gives dist/web unless --no-web); absent: no app. */
  webDir?: string | null
}

export interface NodeOptions {
  /** The LevelDB directory (unused when `NodeModules.store` is given). */
  dataDir: string
  genesis: Genesis
  /** The validator's secret key, and where its sign state and consensus WAL live; null for a full node. */
  validator: { secretKey: Uint8Array, signStatePath: string, walPath: string } | null
  /** JSON-RPC; null for none (the simulator). Unset fields default as in rpc/server.ts and rpc/http-policy.ts. */
  rpc: RpcOptions | null
  /** The libp2p network; null for a node with no peers (unless `NodeModules.transport` gives one). */
  p2p: P2pOptions | null
  timeouts?: Timeouts
  mempool?: MempoolLimits
  sync?: SyncOptions
  network?: NetworkOptions
  commitWaitMs?: number
  /** Prometheus metrics at http://host:port/metrics (docs/metrics.md); null or absent for none. */
  metrics?: MetricsServerOptions | null
  /** Worker threads verifying tx signatures (default: one fewer than the machine's cores, at least 1); 0 verifies on the main thread. */
  verifyThreads?: number
  /** On a dev chain: the dev key dev_faucet sends from (refused on any other chain); null or absent for none. */
  faucet?: { secretKey: Uint8Array } | null
  /** The home-timeline index feeds are read from (feed/timeline-indexer.ts); null turns it off. Default DEFAULT_TIMELINE_OPTIONS. */
  timeline?: TimelineOptions | null
  /** The process's memory target in bytes (`chorus start --memory-target`); 0 or absent for none. The node's largest caches are sized from it (cacheSizesFor). */
  memoryTargetBytes?: number
}

export interface CacheSizes {
  readCacheBytes: number
  recentBlockBytes: number
}

/**
 * The node's largest caches for a memory target of `targetBytes` (0: none): the state read cache
 * a 32nd of it and recent blocks a 128th, neither above its default. At 512 MiB that is 16 and 4
 * MiB against 32 and 16: `growth.ts` to 1M posts with `--memory-target 512` ended at 471 MB RSS
 * against 518–526 with the default sizes, its rate per node CPU-second within the runs' noise
 * (docs/performance.md, "RSS: the caches sized from the memory target").
 */
export function cacheSizesFor (targetBytes: number): CacheSizes {
  if (!(targetBytes > 0)) return { readCacheBytes: DEFAULT_READ_CACHE_BYTES, recentBlockBytes: DEFAULT_RECENT_BLOCK_BYTES }
  return {
    readCacheBytes: Math.min(DEFAULT_READ_CACHE_BYTES, Math.floor(targetBytes / 32)),
    recentBlockBytes: Math.min(DEFAULT_RECENT_BLOCK_BYTES, Math.floor(targetBytes / 128))
  }
}

/** The parts a test, the simulator or a benchmark replaces; each defaults to the real one. */
export interface NodeModules {
  logger: Logger
  clock?: Clock
  /** How this node reaches peers: libp2p from `NodeOptions.p2p` by default. */
  transport?: Transport
  /** An open store the caller owns (not closed on stop). */
  store?: Store
  signStore?: SignStore
  wal?: Wal
  verify?: VerifyFn
  bugs?: ConsensusBugs
  /** Test seam: runs before each consensus message leaves; a throw there is a crash at that point. */
  beforeSend?: (msg: ConsensusMessage) => void
  /** Told of each equivocation found (besides storing it). */
  onEvidence?: (e: Evidence) => void
  /**
   * Told, once the node has stopped itself, why: consensus could not go on (a write of its
   * state kept failing past `Timeouts.persist`, or failed in a way that does not pass, or a
   * consensus task failed unexpectedly). The node has logged it at ERROR; `chorus start` exits 1.
   */
  onFatal?: (error: Error) => void
}

export interface NodeStatusExtra {
  syncing: boolean
  syncTarget: number | null
}

export class ChorusNode implements AsyncDisposable {
  private constructor (
    readonly store: Store,
    readonly chain: Chain,
    readonly pool: TxPool,
    readonly network: ChorusNetwork,
    readonly transport: Transport,
    readonly syncer: Syncer,
    /** Null on a node with no validator key. */
    readonly driver: ConsensusDriver | null,
    private readonly rpc: RpcServer | null,
    private readonly waiters: TxWaiters,
    private readonly ownsStore: boolean,
    private readonly logger: Logger,
    private readonly metrics: { server: MetricsServer, unobserve: () => void } | null,
    private readonly verifier: VerifyPool | null,
    /** The home-timeline index, unless NodeOptions.timeline turned it off. */
    readonly timeline: TimelineIndexer | null
  ) {}

  static async start (opts: NodeOptions, modules: NodeModules): Promise<ChorusNode> {
    const log = modules.logger
    const clock = modules.clock ?? systemClock
    const faucet = opts.faucet == null ? null : devFaucet(opts.genesis.chainId, opts.faucet.secretKey)
    const fds = planDescriptors(openFileLimit(), {
      rpcConnections: opts.rpc?.maxConnections ?? DEFAULT_RPC_OPTIONS.maxConnections,
      peers: opts.p2p === null ? 0 : opts.p2p.maxPeers ?? DEFAULT_LIBP2P_TRANSPORT_OPTIONS.maxPeers
    })
    const caches = cacheSizesFor(opts.memoryTargetBytes ?? 0)
    const store = modules.store ?? await Store.open(opts.dataDir, { maxOpenFiles: fds.storeFiles, readCacheBytes: caches.readCacheBytes })
    const stops: Array<() => Promise<void>> = []
    try {
      // tx signatures on the other cores; a given verify (the simulator's) runs on this thread
      const threads = modules.verify === undefined ? opts.verifyThreads ?? VerifyPool.defaultThreads() : 0
      const verifier = threads > 0 ? new VerifyPool(threads) : null
      if (verifier !== null) stops.push(async () => await verifier.close())
      const verify = modules.verify ?? verifySignature
      const chain = await Chain.open(store, opts.genesis, verify, verifier?.verifyBatch ?? inlineBatchVerify(verify), { recentBlockBytes: caches.recentBlockBytes })
      chain.events.onListenerError = (e) => log.error('A commit listener failed', { error: (e as Error).message })
      const timeline = opts.timeline === null ? null : await TimelineIndexer.open(store, chain, opts.timeline ?? DEFAULT_TIMELINE_OPTIONS, log.child('timeline'))
      if (timeline !== null) {
        timeline.start()
        stops.push(async () => await timeline.close())
      }
      const pool = new TxPool(chain, new Mempool(opts.mempool ?? DEFAULT_MEMPOOL_LIMITS))
      // metrics: observers handed to the parts built below, which know nothing of Prometheus
      const observers = opts.metrics == null ? null : new NodeObservers(new Metrics({ process: true }))
      observers?.meterTxPool(pool)
      const waiters = new TxWaiters(chain.events, (id) => pool.droppedReason(id))
      const evidence = new EvidencePool(store, chain.verify)

      const transport = modules.transport ?? (opts.p2p === null
        ? new MemoryHub().transport('local')
        : await libp2pTransport(opts.p2p, chain.chainId, log, observers === null ? undefined : libp2pMetrics(observers.metrics, opts.dataDir)))
      const network = new ChorusNetwork(opts.network ?? DEFAULT_NETWORK_OPTIONS, { transport, chain, pool, clock, logger: log.child('p2p') })
      const syncer = new Syncer(opts.sync ?? DEFAULT_SYNC_OPTIONS, { chain, peers: network, clock, logger: log.child('sync') })
      network.onFutureHeight((h) => syncer.hint(h))

      const identity = opts.validator === null ? null : await validatorIdentity(opts.validator, modules)
      // the driver's tasks run from driver.start() on, below, once `node` is set
      let node: ChorusNode | undefined
      const driver = identity === null
        ? null
        : new ConsensusDriver(identity, opts.timeouts ?? DEFAULT_TIMEOUTS, {
          chain, pool, outbox: network.outbox, clock, logger: log.child('consensus'), bugs: modules.bugs, beforeSend: modules.beforeSend, observer: observers?.consensus ?? null,
          onFatal: (e) => node!.fail(e, modules.onFatal),
          onEvidence: (e) => {
            modules.onEvidence?.(e)
            evidence.add(e).catch((err: unknown) => log.error('Storing evidence failed', { error: (err as Error).message }))
          }
        })
      if (driver !== null) {
        network.setConsensus(driver)
        // a block's proposer announces it once committed, for full nodes and for peers that missed the
        // decision (one copy, not one per validator; sync's poll covers a proposer that dies first)
        const self = identity!.publicKey
        chain.events.onCommitted(({ checked, commit }) => {
          if (equalBytes(checked.block.header.proposer, self)) network.publishBlock(checked.block, commit)
        })
      }

      const prefix = opts.genesis.addressPrefix
      const ctx: RpcContext = {
        chain, pool, queries: new Queries(store), feeds: new Feeds(store, timeline), views: new Views(prefix), evidence,
        commitWaitMs: opts.commitWaitMs ?? 30_000,
        faucet,
        waitForInclusion: async (id, ms) => await waiters.wait(id, ms, async () => await chain.txLocation(id)),
        status: () => ({
          version: VERSION, chainId: chain.chainId, height: chain.head.height,
          syncing: syncer.syncing, syncTarget: syncer.syncTarget,
          peerCount: transport.peers().length, peerId: modules.transport === undefined && opts.p2p === null ? null : transport.peerId,
          listenAddrs: transport.listenAddrs(),
          validator: identity === null ? null : encodeAddress(identity.publicKey, prefix),
          lastBlockAgeMs: Math.max(0, clock.now() - chain.head.timeMs)
        }),
        health: () => {
          const io = driver?.failingIo
          if (io != null) return { ok: false, reason: `consensus cannot ${io.what}: ${io.error} (retrying for ${Math.round(io.forMs / 1000)} s)` }
          if (syncer.syncing) return { ok: false, reason: `syncing: at ${chain.head.height} of ${syncer.syncTarget ?? '?'}` }
          const age = clock.now() - chain.head.timeMs
          // a validator whose head stands still for several block times is stuck (peers gone, or worse)
          const limit = Math.max(5 * chain.rules.params.blockTimeMs, 10_000)
          if (driver !== null && age > limit) return { ok: false, reason: `the head has not advanced for ${Math.round(age / 1000)} s (height ${chain.head.height})` }
          return { ok: true }
        },
        peers: (): PeerInfo[] => transport.peers()
      }
      const rpc = opts.rpc === null
        ? null
        : new RpcServer({
          ...DEFAULT_RPC_OPTIONS, host: opts.rpc.host, port: opts.rpc.port, version: VERSION,
          http: { corsOrigins: opts.rpc.corsOrigins ?? DEFAULT_HTTP_POLICY.corsOrigins, allowedHosts: opts.rpc.allowedHosts ?? DEFAULT_HTTP_POLICY.allowedHosts },
          maxConnections: fds.rpcConnections,
          maxConnectionsPerIp: opts.rpc.maxConnectionsPerIp ?? DEFAULT_RPC_OPTIONS.maxConnectionsPerIp,
          maxResponseBytes: opts.rpc.maxResponseBytes ?? DEFAULT_RPC_OPTIONS.maxResponseBytes,
          admission: { ...DEFAULT_RPC_OPTIONS.admission, ...opts.rpc.admission },
          webDir: opts.rpc.webDir ?? null
        }, ctx, log.child('rpc'), observers?.rpc ?? null)
      if (rpc !== null) {
        log.info('Descriptor limits', { openFiles: fds.softLimit ?? 'unknown', storeFiles: fds.storeFiles, peers: fds.peerFiles / 2, rpcConnections: fds.rpcConnections, rpcConnectionsPerIp: rpc.connections.maxPerIp })
        if (fds.warning !== null) log.warn(fds.warning)
      }

      const metrics = observers === null || opts.metrics == null
        ? null
        : {
            server: new MetricsServer(opts.metrics, observers.metrics, log.child('metrics')),
            unobserve: observers.observe({ chain, pool, network, transport, syncer, driver, rpc, timeline, clock, version: VERSION })
          }

      await network.start()
      stops.push(async () => await network.stop())
      syncer.start()
      if (rpc !== null) await rpc.start()
      stops.push(async () => await rpc?.stop())
      await metrics?.server.start()
      node = new ChorusNode(store, chain, pool, network, transport, syncer, driver, rpc, waiters, modules.store === undefined, log, metrics, verifier, timeline)
      if (identity !== null) {
        if (chain.validators.powerOf(identity.publicKey) === 0n) log.warn('This key is not in the validator set; following only')
        await driver!.start()
      }
      // a node that cannot make blocks alone says so while it has nobody to talk to
      const alone = identity !== null && chain.validators.size === 1 && chain.validators.powerOf(identity.publicKey) > 0n
      if (!alone) node.watchPeers(clock)
      log.info('Node started', {
        chainId: chain.chainId, height: chain.head.height, role: driver === null ? 'full node' : 'validator',
        ...(rpc === null ? {} : { rpc: `http://${opts.rpc!.host}:${rpc.port}` }),
        ...(rpc?.servesWeb === true ? { web: `http://${browsableHost(opts.rpc!.host)}:${rpc.port}/` } : {}),
        ...(metrics === null ? {} : { metrics: metrics.server.url }),
        ...(transport.listenAddrs().length === 0 ? {} : { p2p: transport.listenAddrs()[0] })
      })
      return node
    } catch (e) {
      for (const stop of stops.reverse()) await stop().catch(() => {})
      if (modules.store === undefined) await store.close()
      throw e
    }
  }

  get rpcPort (): number { return this.rpc?.port ?? 0 }
  /** Where Prometheus scrapes this node, if metrics are on (NodeOptions.metrics). */
  get metricsUrl (): string | null { return this.metrics?.server.url ?? null }
  /** The RPC server (its admission and connection counts), if the node serves one. */
  get rpcServer (): RpcServer | null { return this.rpc }

  private cancelWatch: () => void = () => {}

  /** Every 10 s without a peer: a warning with what to check. */
  private watchPeers (clock: Clock): void {
    this.cancelWatch = clock.after(10_000, () => {
      if (this.transport.peers().length === 0) {
        this.logger.warn('No peers connected; waiting for them (check the bootstrap addresses and that the peers run)', { height: this.chain.head.height })
      }
      this.watchPeers(clock)
    })
  }

  private stopping: Promise<void> | null = null
  private fatal: Error | null = null

  /** Why the node stopped itself (see NodeModules.onFatal), or null. */
  get failure (): Error | null { return this.fatal }

  /** Consensus cannot go on: one ERROR line saying why, a clean stop, then `onFatal`. */
  private fail (error: Error, onFatal?: (error: Error) => void): void {
    if (this.fatal !== null) return
    this.fatal = error
    this.logger.error('Consensus halted; stopping the node', { error: error.message, height: this.chain.head.height })
    this.stop()
      .catch((e: unknown) => this.logger.error('Stop failed', { error: (e as Error).message }))
      .finally(() => onFatal?.(error))
  }

  /** Stops every part in reverse order; a second call waits for the first. */
  async stop (): Promise<void> {
    this.stopping ??= this.stopParts()
    await this.stopping
  }

  private async stopParts (): Promise<void> {
    this.cancelWatch()
    await this.metrics?.server.stop()
    this.metrics?.unobserve()
    await this.rpc?.stop()
    this.waiters.close()
    await this.driver?.stop()
    // the network first: requests in flight fail at once, so a sync round ends without waiting out its timeouts
    await this.network.stop()
    await this.syncer.stop()
    await this.verifier?.close()
    await this.timeline?.close()
    if (this.ownsStore) await this.store.close()
    this.logger.info('Node stopped', { height: this.chain.head.height })
  }

  /** Stops dead, as a killed process would: no flush, nothing closed (the simulator's crashes). */
  halt (): void {
    this.cancelWatch()
    this.driver?.halt()
    void this.syncer.stop()
    void this.network.stop()
    void this.verifier?.close()
    void this.timeline?.close()
  }

  async [Symbol.asyncDispose] (): Promise<void> { await this.stop() }
}

/** Where a browser on this machine opens a server listening on `host` (every interface: loopback). */
function browsableHost (host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1'
  if (host === '::' || host === '[::]') return '[::1]'
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host
}

/** A faucet hands out the dev key's coins: it is for dev chains only, whatever the caller says. */
function devFaucet (chainId: string, secretKey: Uint8Array): Faucet {
  if (chainId !== DEV_CHAIN_ID) fail(ErrorCode.INVALID_FIELD, `a faucet runs only on the dev chain ${DEV_CHAIN_ID}, not on ${chainId}`)
  return new Faucet(secretKey)
}

async function libp2pTransport (p2p: P2pOptions, chainId: string, log: Logger, metrics: Libp2pTransportModules['metrics']): Promise<Transport> {
  const key = await loadOrCreateNodeKey(p2p.nodeKeyPath)
  return await createLibp2pTransport({
    chainId, privateKey: key.privateKey, listen: p2p.listen, announce: p2p.announce, bootstrap: p2p.bootstrap,
    ...(p2p.maxPeers === undefined ? {} : { maxPeers: p2p.maxPeers }),
    ...(p2p.maxPeersPerIp === undefined ? {} : { maxPeersPerIp: p2p.maxPeersPerIp })
  }, { logger: log.child('libp2p'), ...(metrics === undefined ? {} : { metrics }) })
}

/** This process's soft limit on open files, or null where it cannot be read (not Linux). */
function openFileLimit (): number | null {
  try {
    return softFdLimit(readFileSync('/proc/self/limits', 'utf8'))
  } catch {
    return null
  }
}

/**
 * The validator's guard and WAL: by default one log (consensus-log.ts), where one fsync per
 * signature makes both durable; a store or WAL handed in (tests) is used with the file-backed
 * other half, as two files.
 */
async function validatorIdentity (v: NonNullable<NodeOptions['validator']>, modules: NodeModules): Promise<ValidatorIdentity> {
  const log = modules.signStore === undefined && modules.wal === undefined ? fileConsensusLog(v.walPath, v.signStatePath) : null
  return {
    publicKey: publicKeyOf(v.secretKey),
    signState: await SignState.load(log?.signStore ?? modules.signStore ?? fileSignStore(v.signStatePath), v.secretKey),
    wal: log?.wal ?? modules.wal ?? fileWal(v.walPath)
  }
}
