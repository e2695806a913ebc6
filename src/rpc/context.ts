/** What every RPC method is handed: built once by the node. */
import type { Chain } from '../chain/chain.ts'
import type { EvidencePool } from '../chain/evidence.ts'
import type { TxPool } from '../chain/tx-pool.ts'
import type { Feeds } from '../feed/feeds.ts'
import type { Queries } from '../state/queries.ts'
import type { PeerInfo } from '../p2p/transport.ts'
import type { Faucet } from './faucet.ts'
import type { Views } from './views.ts'

export interface NodeStatus {
  version: string
  chainId: string
  height: number
  syncing: boolean
  /** The height being synced to, while syncing; null otherwise. */
  syncTarget: number | null
  peerCount: number
  peerId: string | null
  listenAddrs: string[]
  validator: string | null
  /** How long ago the head block was made (its header time), in ms. */
  lastBlockAgeMs: number
}

/** What GET /health answers: OK, or why not. */
export type Health = { ok: true } | { ok: false, reason: string }

export interface RpcContext {
  chain: Chain
  pool: TxPool
  queries: Queries
  feeds: Feeds
  evidence: EvidencePool
  views: Views
  status: () => NodeStatus
  health: () => Health
  /** Connected peers (net_peers). */
  peers: () => PeerInfo[]
  /** Resolves with where `id` was included; rejects TIMEOUT after `timeoutMs`, or with the code it was dropped for. */
  waitForInclusion: (id: Uint8Array, timeoutMs: number) => Promise<{ height: number, index: number }>
  /** Longest a tx_submit with wait: "commit" may wait. */
  commitWaitMs: number
  /** dev_faucet's sender: on a dev chain started with its dev key; null elsewhere. */
  faucet: Faucet | null
}
