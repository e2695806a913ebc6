/**
 * Nodes in one process, for the simulator and in-process tests: a hub that
 * carries the same bytes a libp2p network would, through the same topic
 * handlers and request handlers. Every node is linked to every other (no
 * forwarding); `link` decides when (and whether) a message arrives, so the
 * simulator can delay, drop and partition.
 */
import { ChorusError, ErrorCode } from '../protocol/errors.ts'
import {
  PROTOCOL_SPECS, TOPIC_SPECS, type PeerId, type PeerInfo, type Protocol, type RequestHandler, type Topic, type TopicHandler, type Transport
} from './transport.ts'

export interface Link {
  /** Told once of each message published (before it goes to anyone). */
  published? (from: PeerId, topic: Topic, data: Uint8Array): void
  /** Schedules `deliver` for a gossip message from → to (it may pass other bytes: an adversary), or drops it by not calling it. */
  gossip (from: PeerId, to: PeerId, topic: Topic, data: Uint8Array, deliver: (data: Uint8Array) => void): void
  /** Whether a request from → to can be made now. */
  reachable (from: PeerId, to: PeerId): boolean
}

/** Delivery on the next turn of the event loop, always. */
export const IMMEDIATE_LINK: Link = {
  gossip: (_f, _t, _topic, data, deliver) => { setImmediate(() => deliver(data)) },
  reachable: () => true
}

interface Member {
  up: boolean
  topics: Map<Topic, TopicHandler>
  protocols: Map<Protocol, RequestHandler>
  penalties: Map<PeerId, number>
}

export class MemoryHub {
  private readonly members = new Map<PeerId, Member>()
  private inflight = new Set<Promise<unknown>>()

  constructor (private readonly link: Link = IMMEDIATE_LINK) {}

  /** A transport for node `id` (replacing any earlier one of that id); it joins the hub when started and leaves when stopped. */
  transport (id: PeerId): Transport {
    const member: Member = { up: false, topics: new Map(), protocols: new Map(), penalties: new Map() }
    this.members.set(id, member)
    const hub = this
    return {
      peerId: id,
      subscribe: (topic, handler) => { member.topics.set(topic, handler) },
      handle: (protocol, handler) => { member.protocols.set(protocol, handler) },
      start: async () => { member.up = true },
      stop: async () => { member.up = false },
      publish: (topic, data) => { if (member.up) hub.publish(id, topic, data) },
      request: async (peer, protocol, body) => await hub.request(id, peer, protocol, body),
      peers: (): PeerInfo[] => [...hub.members].filter(([p, m]) => p !== id && m.up && member.up)
        .map(([p]) => ({ peerId: p, remoteAddr: `memory/${p}`, direction: 'outbound', score: -(member.penalties.get(p) ?? 0) })),
      penalize: (peer) => { member.penalties.set(peer, (member.penalties.get(peer) ?? 0) + 1) },
      listenAddrs: () => []
    }
  }

  /** Resolves when every delivered message and request has been handled. */
  async idle (): Promise<void> {
    while (this.inflight.size > 0) await Promise.all([...this.inflight])
  }

  private track<T> (p: Promise<T>): Promise<T> {
    this.inflight.add(p)
    void p.finally(() => this.inflight.delete(p)).catch(() => {})
    return p
  }

  private publish (from: PeerId, topic: Topic, data: Uint8Array): void {
    if (data.length > TOPIC_SPECS[topic].maxBytes) return
    this.link.published?.(from, topic, data)
    for (const [to, m] of this.members) {
      if (to === from) continue
      this.link.gossip(from, to, topic, data, (data) => {
        const handler = m.topics.get(topic)
        if (!m.up || handler === undefined) return
        this.track(handler(from, data).catch(() => {}))
      })
    }
  }

  private async request (from: PeerId, to: PeerId, protocol: Protocol, body: Uint8Array): Promise<Uint8Array> {
    const spec = PROTOCOL_SPECS[protocol]
    const m = this.members.get(to)
    const handler = m?.protocols.get(protocol)
    if (m === undefined || !m.up || handler === undefined || !this.link.reachable(from, to)) throw new ChorusError(ErrorCode.UNAVAILABLE, `peer ${to} is unreachable`)
    if (body.length > spec.maxRequestBytes) throw new ChorusError(ErrorCode.TOO_LARGE, 'request too large')
    const res = await this.track(handler(from, body))
    if (res.length > spec.maxResponseBytes) throw new ChorusError(ErrorCode.TOO_LARGE, 'response too large')
    return res
  }
}
