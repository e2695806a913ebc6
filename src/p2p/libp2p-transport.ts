/**
 * The Transport seam over libp2p 3: TCP + noise + yamux, gossipsub for the
 * topics, length-prefixed streams for request/response. Around them it keeps
 * the network healthy on its own: configured peers are redialled forever
 * (libp2p-redial.ts), and a peer whose score falls below the threshold is
 * disconnected and banned for a while (peer-score.ts, libp2p-gater.ts).
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { bootstrap } from '@libp2p/bootstrap'
import { gossipsub, type GossipSub, type TopicValidatorFn } from '@libp2p/gossipsub'
import { identify, type Identify } from '@libp2p/identify'
import type { Libp2p, PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { ping, type Ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { type Libp2pOptions, createLibp2p } from 'libp2p'
import type { Logger } from '../logger.ts'
import { ErrorCode, fail } from '../protocol/errors.ts'
import { VERSION } from '../version.ts'
import { chorusConnectionGater } from './libp2p-gater.ts'
import { gossipOptions, gossipScore, toTopicValidatorResult } from './libp2p-gossip.ts'
import { Redialer, redialTargets, DEFAULT_REDIAL_TIMING, type RedialTarget } from './libp2p-redial.ts'
import { sendRequest, serveStream } from './libp2p-reqresp.ts'
import { BanList, PenaltyBook } from './peer-score.ts'
import { RateLimiter } from './rate-limit.ts'
import {
  PROTOCOL_SPECS, PROTOCOLS, TOPIC_SPECS, protocolName, topicName,
  type PeerInfo, type Protocol, type ProtocolSpec, type RequestHandler, type Topic, type TopicHandler, type Transport, type Verdict
} from './transport.ts'

export interface Libp2pTransportOptions {
  chainId: string
  /** The node key (identity.ts loadOrCreateNodeKey): the peer id survives restarts. */
  privateKey: PrivateKey
  /** Multiaddrs to listen on, e.g. /ip4/0.0.0.0/tcp/36656. */
  listen: string[]
  /** Addresses told to peers instead of the listen ones (a public IP behind NAT); empty: the listen ones. */
  announce?: string[]
  /** Full multiaddrs ending in /p2p/<peerId>, dialled at start and redialled forever. */
  bootstrap?: string[]
  /** At most this many connections (libp2p prunes beyond it and refuses inbound at it). */
  maxPeers?: number
  /** At most this many connections with one IP. */
  maxPeersPerIp?: number
  /** How long a peer disconnected for its score may not reconnect. */
  banMs?: number
  /** A peer whose score falls below this (< 0) is disconnected and banned. */
  scoreThreshold?: number
  /** The request/response limits; tests shorten timeouts and limits here. */
  protocolSpecs?: Record<Protocol, ProtocolSpec>
}

type Resolved = Required<Libp2pTransportOptions>

/**
 * Defaults, as plain data:
 * - maxPeers 50: a validator set plus full nodes, with room to spare; each
 *   peer costs buffers (up to GOSSIP_BUFFER_BYTES queued) and score upkeep.
 * - maxPeersPerIp 16: stops one host from filling our slots, yet lets a small
 *   localnet (all on 127.0.0.1) or a NATed office connect.
 * - banMs 60 s: long enough to shed a misbehaving peer, short enough that a
 *   misconfigured honest one (a node on the wrong version) recovers on its own.
 * - scoreThreshold −20: honest peers sit at 0 (every positive score term is
 *   off, libp2p-gossip.ts). It takes 5 rejected messages in quick succession
 *   (−n² = −25), or 5 penalties in about a minute (5 points each, half-life
 *   60 s); a peer that relays one disputed message a minute settles near −5
 *   and stays.
 */
export const DEFAULT_LIBP2P_TRANSPORT_OPTIONS: Omit<Resolved, 'chainId' | 'privateKey' | 'listen'> = {
  announce: [],
  bootstrap: [],
  maxPeers: 50,
  maxPeersPerIp: 16,
  banMs: 60_000,
  scoreThreshold: -20,
  protocolSpecs: PROTOCOL_SPECS
}

/** What one penalize() costs, in score points, and how fast it is forgiven. */
const PENALTY_POINTS = 5
const PENALTY_HALF_LIFE_MS = 60_000
/** How often scores are checked (gossipsub refreshes them once a heartbeat, 1 s). */
const SCORE_CHECK_MS = 1_000
/** Streams per connection per protocol, each way. */
const MAX_STREAMS = 16

export interface Libp2pTransportStats {
  /** Validator verdicts per topic; an oversized message counts as a reject, a throwing handler as an ignore. */
  verdicts: Record<Topic, Record<Verdict, number>>
  /** Messages gossipsub took for publishing (duplicates and failures excluded). */
  published: Record<Topic, number>
  /** Their payload bytes (no envelope, no per-peer copies). */
  publishedBytes: Record<Topic, number>
  /** Payload bytes × first-hop recipients: what our publishing put on the wire, roughly. */
  sentBytes: Record<Topic, number>
}

type Services = { identify: Identify, ping: Ping, pubsub: GossipSub }

const perTopic = <T>(f: () => T): Record<Topic, T> => ({ tx: f(), consensus: f(), block: f() })

/** Uses only what is defined: an `undefined` option keeps its default. */
function resolve (opts: Libp2pTransportOptions): Resolved {
  const set = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined))
  const o = { ...DEFAULT_LIBP2P_TRANSPORT_OPTIONS, ...set } as Resolved
  if (!(o.scoreThreshold < 0)) fail(ErrorCode.INVALID_FIELD, 'scoreThreshold must be below 0')
  if (!(o.maxPeers >= 1) || !(o.maxPeersPerIp >= 1)) fail(ErrorCode.INVALID_FIELD, 'maxPeers and maxPeersPerIp must be at least 1')
  return o
}

export interface Libp2pTransportModules {
  logger: Logger
  /** libp2p's own metrics (connections, dials, streams, bytes per protocol): @libp2p/prometheus-metrics on the node's registry; absent for none. */
  metrics?: Libp2pOptions['metrics']
}

/**
 * Builds a libp2p transport, not yet started: register topics and protocols,
 * then `start()`. Throws INVALID_ADDRESS for a bootstrap address without
 * /p2p/<id>, INVALID_FIELD for a nonsensical limit.
 */
export async function createLibp2pTransport (opts: Libp2pTransportOptions, modules: Libp2pTransportModules): Promise<Libp2pTransport> {
  const o = resolve(opts)
  const log = modules.logger
  const bans = new BanList()
  const penalties = new PenaltyBook(PENALTY_HALF_LIFE_MS)
  // checked before libp2p sees them; our own address (a shared validator list) is left out
  const targets = redialTargets(o.bootstrap, peerIdFromPrivateKey(o.privateKey).toString())
  // the gater counts connections per IP, so it needs the node it guards
  let node: Libp2p<Services> | undefined
  node = await createLibp2p({
    privateKey: o.privateKey,
    start: false,
    nodeInfo: { name: 'chorus', version: VERSION },
    ...(modules.metrics === undefined ? {} : { metrics: modules.metrics }),
    addresses: { listen: o.listen, ...(o.announce.length > 0 ? { announce: o.announce } : {}) },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    // bootstrap() throws on an empty list
    peerDiscovery: targets.length > 0 ? [bootstrap({ list: targets.map((t) => t.addr) })] : [],
    connectionManager: {
      maxConnections: o.maxPeers,
      // one host may open as many connections a second as it may hold
      inboundConnectionThreshold: o.maxPeersPerIp
    },
    connectionGater: chorusConnectionGater({
      isBanned: (p) => bans.isBanned(p),
      connections: () => node?.getConnections() ?? [],
      maxPeersPerIp: o.maxPeersPerIp,
      log
    }),
    services: {
      identify: identify(),
      ping: ping(),
      pubsub: gossipsub(gossipOptions(o.chainId, {
        scoreThreshold: o.scoreThreshold,
        maxPeersPerIp: o.maxPeersPerIp,
        retainScoreMs: o.banMs / 2,
        appScore: (p) => -penalties.get(p)
      }))
    }
  })
  return new Libp2pTransport(o, node, bans, penalties, targets, log)
}

/**
 * A Transport over a libp2p node. Invariants: `publish` never throws, topic
 * validators never throw, request handlers never crash the process, and
 * `stop()` leaves no timer behind (calling it again is a no-op).
 */
export class Libp2pTransport implements Transport {
  readonly peerId: string
  private readonly topicHandlers = new Map<Topic, TopicHandler>()
  private readonly requestHandlers = new Map<Protocol, RequestHandler>()
  private readonly limiters: Record<Protocol, RateLimiter>
  private readonly redialer: Redialer
  private readonly counters: Libp2pTransportStats = {
    verdicts: perTopic(() => ({ accept: 0, ignore: 0, reject: 0 })),
    published: perTopic(() => 0),
    publishedBytes: perTopic(() => 0),
    sentBytes: perTopic(() => 0)
  }

  private state: 'new' | 'started' | 'stopped' = 'new'
  private stopping: Promise<void> | undefined
  private timer: ReturnType<typeof setInterval> | undefined

  /** Use createLibp2pTransport. */
  constructor (
    private readonly opts: Resolved,
    /** The node itself, for what the seam does not cover (metrics, tests). */
    readonly libp2p: Libp2p<Services>,
    private readonly bans: BanList,
    private readonly penalties: PenaltyBook,
    targets: RedialTarget[],
    private readonly log: Logger
  ) {
    this.peerId = libp2p.peerId.toString()
    this.limiters = Object.fromEntries(PROTOCOLS.map((p) => [p, new RateLimiter(opts.protocolSpecs[p].rateLimit)])) as Record<Protocol, RateLimiter>
    this.redialer = new Redialer(targets, {
      isConnected: (p) => this.libp2p.getConnections(peerIdFromString(p)).length > 0,
      isBanned: (p) => this.bans.isBanned(p),
      // no signal: libp2p bounds a dial by its dialTimeout (10 s) and aborts it on stop
      dial: async (t) => { await this.libp2p.dial(multiaddr(t.addr)) },
      now: Date.now
    }, DEFAULT_REDIAL_TIMING)
  }

  private get pubsub (): GossipSub {
    return this.libp2p.services.pubsub
  }

  subscribe (topic: Topic, handler: TopicHandler): void {
    if (this.topicHandlers.has(topic)) throw new Error(`topic ${topic} already has a handler`)
    this.topicHandlers.set(topic, handler)
    const name = topicName(this.opts.chainId, topic)
    this.pubsub.topicValidators.set(name, this.validator(topic, handler))
    if (this.state === 'started') this.pubsub.subscribe(name)
  }

  handle (protocol: Protocol, handler: RequestHandler): void {
    if (this.requestHandlers.has(protocol)) throw new Error(`protocol ${protocol} already has a handler`)
    this.requestHandlers.set(protocol, handler)
    if (this.state === 'started') {
      this.register(protocol, handler).catch((e: unknown) => this.log.error('Protocol handler not registered', { protocol, error: (e as Error).message }))
    }
  }

  async start (): Promise<void> {
    if (this.state !== 'new') return
    this.state = 'started'
    for (const [protocol, handler] of this.requestHandlers) await this.register(protocol, handler)
    await this.libp2p.start()
    for (const topic of this.topicHandlers.keys()) this.pubsub.subscribe(topicName(this.opts.chainId, topic))
    this.timer = setInterval(() => this.tick(), SCORE_CHECK_MS)
    this.timer.unref()
    this.redialer.tick()
    this.log.info('P2P started', { peerId: this.peerId, listen: this.listenAddrs() })
  }

  async stop (): Promise<void> {
    this.stopping ??= this.shutdown()
    await this.stopping
  }

  private async shutdown (): Promise<void> {
    this.state = 'stopped'
    clearInterval(this.timer)
    await this.libp2p.stop()
  }

  publish (topic: Topic, data: Uint8Array): void {
    if (this.state !== 'started') {
      this.log.debug('Gossip not published: transport not running', { topic })
      return
    }
    if (data.byteLength > TOPIC_SPECS[topic].maxBytes) {
      // peers would reject it and score us down for it
      this.log.warn('Gossip over the topic limit not published', { topic, bytes: data.byteLength })
      return
    }
    this.pubsub.publish(topicName(this.opts.chainId, topic), data).then((r) => {
      this.counters.published[topic]++
      this.counters.publishedBytes[topic] += data.byteLength
      this.counters.sentBytes[topic] += data.byteLength * r.recipients.length
    }, (e: unknown) => {
      // PublishError.Duplicate (same bytes twice: StrictNoSign ids are hashes), or a stop racing us
      this.log.debug('Gossip not published', { topic, error: (e as Error).message })
    })
  }

  async request (peer: string, protocol: Protocol, body: Uint8Array, signal?: AbortSignal): Promise<Uint8Array> {
    return await sendRequest(this.libp2p, peer, protocolName(this.opts.chainId, protocol), this.opts.protocolSpecs[protocol], body, signal)
  }

  peers (): PeerInfo[] {
    const byPeer = new Map<string, PeerInfo>()
    for (const c of this.libp2p.getConnections()) {
      const peerId = c.remotePeer.toString()
      if (c.status !== 'open' || byPeer.has(peerId)) continue
      byPeer.set(peerId, { peerId, remoteAddr: c.remoteAddr.toString(), direction: c.direction, score: this.score(peerId) })
    }
    return [...byPeer.values()]
  }

  penalize (peer: string, reason: string): void {
    const points = this.penalties.add(peer, PENALTY_POINTS)
    this.log.debug('Peer penalized', { peer, reason, points })
    if (-points < this.opts.scoreThreshold) this.disconnect(peer, -points, reason)
  }

  listenAddrs (): string[] {
    return this.libp2p.getMultiaddrs().map((ma) => ma.toString())
  }

  /** Counters for tests and benchmarks; a copy. */
  stats (): Libp2pTransportStats {
    return structuredClone(this.counters)
  }

  /** Peers we know to be subscribed to `topic`. */
  topicPeers (topic: Topic): string[] {
    return this.pubsub.getSubscribers(topicName(this.opts.chainId, topic)).map((p) => p.toString())
  }

  /** The peer's score: gossipsub's (app penalties included), or our penalties alone where gossipsub's lags or is missing. */
  private score (peer: string): number {
    // every score term is ≤ 0 (libp2p-gossip.ts), so the lower of the two is the fresher
    return Math.min(gossipScore(this.pubsub, peer), 0 - this.penalties.get(peer))
  }

  private tick (): void {
    for (const peer of new Set(this.libp2p.getConnections().map((c) => c.remotePeer.toString()))) {
      // a banned peer still here was mid-handshake when banned: the gater had already let it by
      if (this.bans.isBanned(peer)) this.hangUp(peer)
      else {
        const score = this.score(peer)
        if (score < this.opts.scoreThreshold) this.disconnect(peer, score, 'score')
      }
    }
    this.redialer.tick()
    this.bans.prune()
    this.penalties.prune()
    for (const p of PROTOCOLS) this.limiters[p].prune()
  }

  /** Bans `peer` and hangs up on it; the ban is its punishment, so its penalties are cleared. */
  private disconnect (peer: string, score: number, reason: string): void {
    if (this.bans.isBanned(peer)) return
    this.bans.ban(peer, this.opts.banMs)
    this.penalties.clear(peer)
    this.log.warn('Peer disconnected for a low score', { peer, score, reason, banMs: this.opts.banMs })
    this.hangUp(peer)
  }

  private hangUp (peer: string): void {
    let id
    try {
      id = peerIdFromString(peer)
    } catch {
      return // not a libp2p peer id, so never connected
    }
    this.libp2p.hangUp(id).catch((e: unknown) => this.log.debug('Hang-up failed', { peer, error: (e as Error).message }))
  }

  private validator (topic: Topic, handler: TopicHandler): TopicValidatorFn {
    const maxBytes = TOPIC_SPECS[topic].maxBytes
    return async (from, msg) => {
      const verdict: Verdict = msg.data.byteLength > maxBytes ? 'reject' : await this.runHandler(topic, handler, from.toString(), msg.data)
      this.counters.verdicts[topic][verdict]++
      return toTopicValidatorResult(verdict)
    }
  }

  /** The handler's verdict; 'ignore' when it throws or answers nonsense (a bug of ours, not the peer's). */
  private async runHandler (topic: Topic, handler: TopicHandler, from: string, data: Uint8Array): Promise<Verdict> {
    try {
      const v = await handler(from, data)
      if (v === 'accept' || v === 'ignore' || v === 'reject') return v
      this.log.debug('Gossip handler gave no verdict', { topic, verdict: String(v) })
    } catch (e) {
      this.log.debug('Gossip handler threw', { topic, error: (e as Error)?.message })
    }
    return 'ignore'
  }

  private async register (protocol: Protocol, handler: RequestHandler): Promise<void> {
    const ctx = {
      protocol,
      spec: this.opts.protocolSpecs[protocol],
      handler,
      limiter: this.limiters[protocol],
      penalize: (peer: string, reason: string) => this.penalize(peer, reason),
      log: this.log
    }
    await this.libp2p.handle(protocolName(this.opts.chainId, protocol), (stream, connection) => serveStream(stream, connection, ctx), {
      maxInboundStreams: MAX_STREAMS,
      maxOutboundStreams: MAX_STREAMS
    })
  }
}
