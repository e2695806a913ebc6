import type { Connection, MultiaddrConnection, PeerId } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { describe, expect, it } from 'vitest'
import { silentLogger } from '../../../src/logger.ts'
import { chorusConnectionGater } from '../../../src/p2p/libp2p-gater.ts'

const peer = (id: string): PeerId => ({ toString: () => id }) as unknown as PeerId
const conn = (addr: string, peerId: string): Connection => ({ remoteAddr: multiaddr(addr), remotePeer: peer(peerId) }) as unknown as Connection
const maConn = (addr: string): MultiaddrConnection => ({ remoteAddr: multiaddr(addr) }) as unknown as MultiaddrConnection

describe('chorusConnectionGater', () => {
  it('refuses an IP that already holds maxPeersPerIp peers, whichever way they connected', () => {
    // two connections to p1 (each dialled the other) count once
    const conns = [conn('/ip4/10.0.0.1/tcp/1000', 'p1'), conn('/ip4/10.0.0.1/tcp/1001', 'p1'), conn('/ip4/10.0.0.2/tcp/1000', 'p3')]
    const lenient = chorusConnectionGater({ isBanned: () => false, connections: () => conns, maxPeersPerIp: 2, log: silentLogger })
    expect(lenient.denyInboundConnection?.(maConn('/ip4/10.0.0.1/tcp/2000'))).toBe(false)
    conns.push(conn('/ip4/10.0.0.1/tcp/1002', 'p2'))
    const gater = chorusConnectionGater({ isBanned: () => false, connections: () => conns, maxPeersPerIp: 2, log: silentLogger })
    expect(gater.denyInboundConnection?.(maConn('/ip4/10.0.0.1/tcp/2000'))).toBe(true)
    expect(gater.denyInboundConnection?.(maConn('/ip4/10.0.0.2/tcp/2000'))).toBe(false)
    expect(gater.denyInboundConnection?.(maConn('/ip6/::1/tcp/2000'))).toBe(false)
  })

  it('refuses banned peers both ways', () => {
    const gater = chorusConnectionGater({ isBanned: (p) => p === 'bad', connections: () => [], maxPeersPerIp: 2, log: silentLogger })
    const ma = maConn('/ip4/10.0.0.1/tcp/1')
    expect(gater.denyDialPeer?.(peer('bad'))).toBe(true)
    expect(gater.denyInboundEncryptedConnection?.(peer('bad'), ma)).toBe(true)
    expect(gater.denyOutboundEncryptedConnection?.(peer('bad'), ma)).toBe(true)
    expect(gater.denyDialPeer?.(peer('good'))).toBe(false)
    expect(gater.denyInboundEncryptedConnection?.(peer('good'), ma)).toBe(false)
  })
})
