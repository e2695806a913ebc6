/**
 * File descriptors are shared by everything a node opens: LevelDB's tables, the
 * WAL and sign state, peers, and RPC connections. Clients must not be able to
 * take the ones consensus needs, so the RPC connection caps are fitted under the
 * soft limit found at start, after a reserve for the node's own files and peers.
 */
/** The soft limit on open files in the text of a Linux `/proc/PID/limits`, or null if it has none. */
export function softFdLimit (limits: string): number | null {
  const line = limits.split('\n').find((l) => l.startsWith('Max open files'))
  const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0]
  if (soft === 'unlimited') return Number.MAX_SAFE_INTEGER
  const n = Number(soft)
  return Number.isSafeInteger(n) && n > 0 ? n : null
}

export interface DescriptorWants {
  /** RPC connections (HTTP and WebSocket) the node would accept at once. */
  rpcConnections: number
  /** Peers the node may hold. */
  peers: number
}

export interface DescriptorPlan {
  softLimit: number | null
  /** LevelDB's table cache (classic-level's maxOpenFiles). */
  storeFiles: number
  /** Descriptors kept for peers (a connection each, and dials in progress). */
  peerFiles: number
  /** Kept for everything else: the WAL, sign state, logs, stdio, epoll, DNS. */
  otherFiles: number
  rpcConnections: number
  /** Why a wanted cap was lowered to fit, when it was. */
  warning: string | null
}

const STORE_FILES = 1000 // classic-level's own default
const OTHER_FILES = 64
const MIN_RPC_CONNECTIONS = 16

/** Fits the wanted caps under `softLimit` (null: unknown, take them as asked). */
export function planDescriptors (softLimit: number | null, wants: DescriptorWants): DescriptorPlan {
  const peerFiles = 2 * wants.peers
  if (softLimit === null) return { softLimit, storeFiles: STORE_FILES, peerFiles, otherFiles: OTHER_FILES, rpcConnections: wants.rpcConnections, warning: null }
  // the table cache only speeds reads up: a quarter of a small limit is plenty for it
  const storeFiles = Math.max(64, Math.min(STORE_FILES, Math.floor(softLimit / 4)))
  const room = softLimit - storeFiles - peerFiles - OTHER_FILES
  const rpcConnections = Math.min(wants.rpcConnections, Math.max(MIN_RPC_CONNECTIONS, room))
  const warning = rpcConnections >= wants.rpcConnections
    ? null
    : `the open-file limit (ulimit -n) is ${softLimit}: RPC connections are capped at ${rpcConnections}, not ${wants.rpcConnections}; raise the limit to ${wants.rpcConnections + storeFiles + peerFiles + OTHER_FILES} or more for a public RPC`
  return { softLimit, storeFiles, peerFiles, otherFiles: OTHER_FILES, rpcConnections, warning }
}
