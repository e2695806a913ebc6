/**
 * Who may connect: banned peers may not (either way), and no new inbound
 * connection comes from an IP address that already holds `maxPeersPerIp` peers. Pending inbound handshakes are
 * bounded apart from this, by libp2p's maxIncomingPendingConnections and its
 * per-host inboundConnectionThreshold (connections per second).
 */
import type { Connection, ConnectionGater, MultiaddrConnection, PeerId } from '@libp2p/interface'
import { tryGetNetConfig } from '@libp2p/utils'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Logger } from '../logger.ts'

export interface GaterDeps {
  isBanned (peerId: string): boolean
  /** The open connections (libp2p's getConnections), to count peers per IP. */
  connections (): Connection[]
  maxPeersPerIp: number
  log: Logger
}

/** The IP (or DNS name) a multiaddr starts with; null for other transports, which the per-IP limit leaves alone. */
export function hostOf (ma: Multiaddr): string | null {
  return tryGetNetConfig(ma)?.host ?? null
}

/**
 * A connection gater over `deps`. Invariants: it never throws (a throw would
 * fail the upgrade with an unclear error), and it denies nothing unless the
 * peer is banned or its IP is full.
 */
export function chorusConnectionGater (deps: GaterDeps): ConnectionGater {
  const banned = (peer: PeerId): boolean => deps.isBanned(peer.toString())
  return {
    denyDialPeer: banned,
    denyInboundEncryptedConnection: banned,
    denyOutboundEncryptedConnection: banned,
    denyInboundConnection: (maConn: MultiaddrConnection): boolean => {
      const host = hostOf(maConn.remoteAddr)
      if (host === null) return false
      // peers, not connections: two nodes that dial each other at once hold two
      const peers = new Set<string>()
      for (const c of deps.connections()) if (hostOf(c.remoteAddr) === host) peers.add(c.remotePeer.toString())
      if (peers.size < deps.maxPeersPerIp) return false
      deps.log.debug('Inbound connection refused: too many peers on one IP', { host, peers: peers.size })
      return true
    }
  }
}
