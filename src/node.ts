/**
 * The composition root: builds every part in dependency order (store → chain
 * → mempool → consensus → RPC) and stops them in reverse. Nothing else
 * constructs these parts.
 */
import { Chain } from './chain/chain.ts'
import { EvidencePool } from './chain/evidence.ts'
import type { Genesis } from './chain/genesis.ts'
import { DEFAULT_MEMPOOL_LIMITS, Mempool, type MempoolLimits } from './chain/mempool.ts'
import { Lock, TxPool } from './chain/tx-pool.ts'
import { TxWaiters } from './chain/tx-waiters.ts'
import { type Clock, systemClock } from './consensus/clock.ts'
import { ConsensusDriver, DEFAULT_TIMEOUTS, type Timeouts } from './consensus/driver.ts'
import { SignState, fileSignStore } from './consensus/sign-state.ts'
import { fileWal } from './consensus/wal.ts'
import { type ConsensusTransport, NoPeers } from './consensus/transport.ts'
import { encodeAddress } from './crypto/address.ts'
import { publicKeyOf } from './crypto/keys.ts'
import { verifySignature } from './crypto/verify.ts'
import type { Logger } from './logger.ts'
import type { RpcContext } from './rpc/context.ts'
import { DEFAULT_RPC_OPTIONS, RpcServer } from './rpc/server.ts'
import { Views } from './rpc/views.ts'
import { Queries } from './state/queries.ts'
import { Store } from './state/store.ts'
import { VERSION } from './version.ts'

export interface NodeOptions {
  /** The LevelDB directory. */
  dataDir: string
  genesis: Genesis
  /** The validator's secret key, and where its sign state and consensus WAL live; null for a full node. */
  validator: { secretKey: Uint8Array, signStatePath: string, walPath: string } | null
  rpc: { host: string, port: number }
  /** The libp2p network; null for a node with no peers at all (in-process tests). */
  p2p: P2pOptions | null
  timeouts?: Timeouts
  mempool?: MempoolLimits
  commitWaitMs?: number
}

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

export interface NodeModules {
  logger: Logger
  clock?: Clock
  /** How consensus messages reach the other validators; none by default (a single validator). */
  transport?: ConsensusTransport
}

export class ChorusNode implements AsyncDisposable {
  private constructor (
    readonly store: Store,
    readonly chain: Chain,
    readonly pool: TxPool,
    private readonly driver: ConsensusDriver,
    private readonly rpc: RpcServer,
    private readonly waiters: TxWaiters,
    private readonly logger: Logger
  ) {}

  static async start (opts: NodeOptions, modules: NodeModules): Promise<ChorusNode> {
    const log = modules.logger
    const store = await Store.open(opts.dataDir)
    try {
      const chain = await Chain.open(store, opts.genesis, verifySignature)
      const pool = new TxPool(chain, new Mempool(opts.mempool ?? DEFAULT_MEMPOOL_LIMITS), new Lock())
      const waiters = new TxWaiters()
      const identity = opts.validator === null
        ? null
        : {
            publicKey: publicKeyOf(opts.validator.secretKey),
            signState: await SignState.load(fileSignStore(opts.validator.signStatePath), opts.validator.secretKey),
            wal: fileWal(opts.validator.walPath)
          }
      const evidence = new EvidencePool(store, verifySignature)
      const prefix = opts.genesis.addressPrefix
      const ctx: RpcContext = {
        chain, pool, queries: new Queries(store), views: new Views(prefix), evidence,
        commitWaitMs: opts.commitWaitMs ?? 30_000,
        waitForInclusion: async (id, ms) => {
          const at = await chain.txLocation(id)
          return at ?? await waiters.wait(id, ms)
        },
        status: () => ({
          version: VERSION, chainId: chain.chainId, height: chain.head.height, syncing: false,
          peerCount: 0, peerId: null, listenAddrs: [],
          validator: identity === null ? null : encodeAddress(identity.publicKey, prefix)
        })
      }
      const rpc = new RpcServer({ ...DEFAULT_RPC_OPTIONS, host: opts.rpc.host, port: opts.rpc.port, version: VERSION }, ctx, log.child('rpc'))
      const driver = new ConsensusDriver(identity, opts.timeouts ?? DEFAULT_TIMEOUTS, {
        chain, pool, transport: modules.transport ?? new NoPeers(), clock: modules.clock ?? systemClock, logger: log.child('consensus'),
        onCommit: (checked) => {
          waiters.onBlock(checked.block, (id) => pool.mempool.has(id) ? undefined : pool.droppedReason(id))
          void rpc.ws.hub.onBlock(checked.block)
        },
        onEvidence: (e) => { evidence.add(e).catch((err: unknown) => log.error('Storing evidence failed', { error: (err as Error).message })) }
      })
      await rpc.start()
      const node = new ChorusNode(store, chain, pool, driver, rpc, waiters, log)
      if (identity !== null) {
        if (chain.validators.powerOf(identity.publicKey) === 0n) log.warn('This key is not in the validator set; following only')
        await driver.start()
      }
      log.info('Node started', { chainId: chain.chainId, height: chain.head.height, rpc: `http://${opts.rpc.host}:${rpc.port}` })
      return node
    } catch (e) {
      await store.close()
      throw e
    }
  }

  get rpcPort (): number { return this.rpc.port }

  async stop (): Promise<void> {
    await this.rpc.stop()
    this.waiters.close()
    await this.driver.stop()
    await this.store.close()
    this.logger.info('Node stopped', { height: this.chain.head.height })
  }

  async [Symbol.asyncDispose] (): Promise<void> { await this.stop() }
}
