/**
 * The byte-level seam between Chorus and whatever carries its messages: gossip
 * topics and request/response protocols (DESIGN §8). libp2p implements it for
 * real networks (libp2p-transport.ts); the simulator and in-process tests use
 * memory. Everything above it (codecs, validation, consensus, sync) is the same
 * code whichever carries the bytes.
 */

/** The gossip topics: `/chorus/<chainId>/<topic>/1`. */
export type Topic = 'tx' | 'consensus' | 'block'
export const TOPICS: readonly Topic[] = ['tx', 'consensus', 'block']

/** The request/response protocols: `/chorus/<chainId>/<protocol>/1`. */
export type Protocol = 'sync' | 'txs'
export const PROTOCOLS: readonly Protocol[] = ['sync', 'txs']

export const topicName = (chainId: string, t: Topic): string => `/chorus/${chainId}/${t}/1`
export const protocolName = (chainId: string, p: Protocol): string => `/chorus/${chainId}/${p}/1`

/** A topic validator's answer: gossipsub's Accept / Ignore / Reject. */
export type Verdict = 'accept' | 'ignore' | 'reject'

/** A peer, by its libp2p peer id string (`12D3Koo…`) or a simulator's name. */
export type PeerId = string

export interface TopicSpec {
  /** Larger messages are rejected before they are decoded. */
  maxBytes: number
}

export interface ProtocolSpec {
  maxRequestBytes: number
  maxResponseBytes: number
  /** For the whole exchange: dial, write, read. */
  timeoutMs: number
  /** Requests served per peer per window; more are refused (and count against the peer). */
  rateLimit: { requests: number, windowMs: number }
}

const MiB = 1024 * 1024

/** The limits of every topic and protocol, as data (DESIGN §8): sized for the protocol's own limits. */
export const TOPIC_SPECS: Record<Topic, TopicSpec> = {
  // a batch of txs (each ≤ 8 KiB), flushed at 256 KiB
  tx: { maxBytes: 1 * MiB },
  // a compact proposal: header, ≤ 5,000 tx ids (32 B each) and the parent's commit
  consensus: { maxBytes: 1 * MiB },
  // a compact committed block and its commit
  block: { maxBytes: 1 * MiB }
}

export const PROTOCOL_SPECS: Record<Protocol, ProtocolSpec> = {
  // status, or a range of blocks (bounded by count and bytes)
  // (an honest syncer sends a peer at most 2 requests per 100 ms window: 20 a second)
  sync: { maxRequestBytes: 64, maxResponseBytes: 24 * MiB, timeoutMs: 20_000, rateLimit: { requests: 300, windowMs: 10_000 } },
  // txs by id, to fill a compact proposal or block
  txs: { maxRequestBytes: 200_000, maxResponseBytes: 24 * MiB, timeoutMs: 10_000, rateLimit: { requests: 200, windowMs: 10_000 } }
}

export interface PeerInfo {
  peerId: PeerId
  /** The remote multiaddr (or the simulator's name). */
  remoteAddr: string
  direction: 'inbound' | 'outbound'
  /** The gossipsub score (app penalties included); 0 where the transport keeps none. */
  score: number
}

/**
 * Validates and handles one gossip message; 'accept' means it was valid and has been
 * handed on. Must not throw (a transport treats a throw as 'ignore').
 */
export type TopicHandler = (from: PeerId, data: Uint8Array) => Promise<Verdict>

/** Answers one request; a throw fails the exchange (the requester sees an error). */
export type RequestHandler = (from: PeerId, request: Uint8Array) => Promise<Uint8Array>

export interface Transport {
  /** This node's peer id. */
  readonly peerId: PeerId
  /** Registers `handler` for every message on `topic` (call before start). */
  subscribe (topic: Topic, handler: TopicHandler): void
  /** Serves `protocol` (call before start). */
  handle (protocol: Protocol, handler: RequestHandler): void
  start (): Promise<void>
  stop (): Promise<void>
  /** Sends to the topic's peers. Never throws: with no peers (a lone dev validator) it is a no-op. */
  publish (topic: Topic, data: Uint8Array): void
  /** One request, one response; rejects on timeout, a refused or oversized answer, or a closed stream. */
  request (peer: PeerId, protocol: Protocol, body: Uint8Array, signal?: AbortSignal): Promise<Uint8Array>
  /** Connected peers. */
  peers (): PeerInfo[]
  /** Counts against `peer` (bad data over request/response, timeouts); enough of it disconnects the peer for a while. */
  penalize (peer: PeerId, reason: string): void
  /** Full multiaddrs ending in /p2p/<peerId>; empty for memory. */
  listenAddrs (): string[]
}
