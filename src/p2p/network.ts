/**
 * Chorus over a Transport (DESIGN §8): the three gossip topics and the two
 * request/response protocols, in terms of the chain, the mempool, the consensus
 * driver and sync. The same code runs over libp2p and over memory (the
 * simulator), so both encode to bytes and validate alike.
 *
 * - tx: locally submitted txs go out in batches (every `txFlushMs`, or at
 *   `txBatchBytes`); a batch that arrives is admitted with the RPC's rules.
 * - consensus: the driver's proposals go out compact (tx ids, not txs); an
 *   arriving one is validated, filled from the mempool, and what is missing is
 *   fetched from the peer that sent it; votes are validated and handed on.
 *   Each publish carries a fresh sequence number, so a re-gossip is not a duplicate.
 * - block: a block's proposer publishes it once committed (compact, with its
 *   commit); a node that lacks it fills it in and imports it.
 * - sync serves status and ranges of stored blocks; txs serves txs by id.
 */
import {
  type CompactBlock, MAX_SYNC_BLOCKS, type SyncStatus, compactOf, decodeBlockGossip, decodeConsensusGossip, decodeSyncBlocks, decodeSyncRequest,
  decodeSyncStatus, decodeTxBatch, decodeTxsRequest, decodeTxsResponse, encodeBlockGossip, encodeConsensusGossip, encodeSyncBlocks,
  encodeSyncRequest, encodeSyncStatus, encodeTxBatch, encodeTxsRequest, encodeTxsResponse
} from '../codec/gossip.ts'
import { txRootOf } from '../codec/block.ts'
import { binaryKey, equalBytes, toHex } from '../crypto/bytes.ts'
import type { Chain } from '../chain/chain.ts'
import type { TxPool } from '../chain/tx-pool.ts'
import { validateCommittedBlock } from '../chain/validation/block.ts'
import { type ConsensusContext, validateProposal, validateVote } from '../chain/validation/consensus.ts'
import { type GossipAction, gossipAction, ignore } from '../chain/validation/gossip-error.ts'
import { admitTxBatch } from '../chain/validation/tx-batch.ts'
import type { Clock } from '../consensus/clock.ts'
import type { ConsensusMessage, ConsensusOutbox } from '../consensus/driver.ts'
import type { Logger } from '../logger.ts'
import { ErrorCode, fail } from '../protocol/errors.ts'
import type { Block, SignedProposal, SignedTx, SignedVote } from '../protocol/types.ts'
import { checkTxRules, failSignature } from '../protocol/validate.ts'
import type { ValidatorSet } from '../protocol/validator-set.ts'
import type { SyncPeers } from '../sync/syncer.ts'
import { BoundedMap } from '../util/bounded-map.ts'
import { BoundedSet } from '../util/bounded-set.ts'
import { PROTOCOL_SPECS, type PeerId, type Topic, type Transport, type Verdict } from './transport.ts'

export interface NetworkOptions {
  /** Longest a submitted tx waits before its batch goes out. */
  txFlushMs: number
  /** A batch goes out at once when it reaches this size. */
  txBatchBytes: number
  /** Most bytes of blocks in one sync response. */
  maxSyncResponseBytes: number
}

export const DEFAULT_NETWORK_OPTIONS: NetworkOptions = { txFlushMs: 25, txBatchBytes: 256 * 1024, maxSyncResponseBytes: 16 * 1024 * 1024 }

/** What the network hands accepted consensus messages to: the driver, on a validator. */
export interface ConsensusInbox {
  receiveProposal (proposal: SignedProposal, block: Block): void
  receiveVote (vote: SignedVote): void
}

export interface NetworkModules {
  transport: Transport
  chain: Chain
  pool: TxPool
  clock: Clock
  logger: Logger
}

/** Verdict counts per topic and code: what a metrics exporter or a test reads. */
export type GossipCounts = Record<Topic, Record<string, number>>

/** Block messages up to this many heights ahead are kept until the chain gets there, a few per height. */
const MAX_AHEAD = 16
const AHEAD_PER_HEIGHT = 3
/** Txs of recent proposals and blocks, kept to fill and serve compact blocks after the mempool let them go: four full blocks. */
const RECENT_TXS = 20_000
const SEEN_MESSAGES = 100_000
/** Block ranges served at once, to all peers together. */
const MAX_SERVING = 4

export class ChorusNetwork implements SyncPeers {
  readonly counts: GossipCounts = { tx: {}, consensus: {}, block: {} }
  private consensus: ConsensusInbox | null = null
  private futureHeight: (height: number) => void = () => {}
  private pendingTxs: SignedTx[] = []
  private pendingBytes = 0
  private cancelFlush: (() => void) | null = null
  private seq = 0
  private readonly seen = new BoundedSet(SEEN_MESSAGES)
  private readonly recent = new BoundedMap<string, SignedTx>(RECENT_TXS)
  /**
   * Block messages a few heights ahead (IGNOREd as FUTURE when they came), by height: once
   * the chain reaches the height before, the next is imported from here, so a node a block
   * or two behind (just synced, on a fast chain) follows gossip instead of polling.
   */
  private readonly ahead = new Map<number, Array<{ data: Uint8Array, from: PeerId }>>()
  private stopped = false
  private serving = 0

  constructor (private readonly opts: NetworkOptions, private readonly m: NetworkModules) {
    const t = m.transport
    t.subscribe('tx', async (from, data) => await this.verdict('tx', async () => await this.onTxBatch(data), from))
    t.subscribe('consensus', async (from, data) => await this.verdict('consensus', async () => await this.onConsensus(from, data), from))
    t.subscribe('block', async (from, data) => await this.verdict('block', async () => await this.onBlock(from, data), from))
    t.handle('sync', async (_from, req) => await this.serveSync(req))
    t.handle('txs', async (_from, req) => this.serveTxs(req))
    m.pool.onLocalTx((tx) => this.queueTx(tx))
    m.chain.events.onCommitted(() => this.importAhead())
  }

  /** A validator's driver: accepted proposals and votes go to it. */
  setConsensus (inbox: ConsensusInbox): void { this.consensus = inbox }
  /** Called when a message shows a height beyond the next: sync looks. */
  onFutureHeight (fn: (height: number) => void): void { this.futureHeight = fn }

  /** Where the driver publishes. */
  readonly outbox: ConsensusOutbox = { publish: (msg) => this.publishConsensus(msg) }

  /** Publishes a committed block on the block topic (its proposer, after the commit). */
  publishBlock (block: Block, commit: Parameters<typeof encodeBlockGossip>[1]): void {
    if (this.nobodyListens()) return
    // peers fetch its txs from here: remembered when it was proposed, unless nobody was there then
    const first = block.txs[0]
    if (first !== undefined && !this.recent.has(binaryKey(first.id))) this.remember(block.txs)
    this.m.transport.publish('block', encodeBlockGossip(compactOf(block), commit))
  }

  async start (): Promise<void> { await this.m.transport.start() }

  async stop (): Promise<void> {
    this.stopped = true
    this.cancelFlush?.()
    await this.m.transport.stop()
  }

  // ---- outgoing ----

  private queueTx (tx: SignedTx): void {
    this.pendingTxs.push(tx)
    this.pendingBytes += tx.bytes.length
    if (this.pendingBytes >= this.opts.txBatchBytes) this.flushTxs()
    else if (this.cancelFlush === null) this.cancelFlush = this.m.clock.after(this.opts.txFlushMs, () => this.flushTxs())
  }

  private flushTxs (): void {
    this.cancelFlush?.()
    this.cancelFlush = null
    if (this.pendingTxs.length === 0 || this.stopped) return
    const batch = this.pendingTxs
    this.pendingTxs = []
    this.pendingBytes = 0
    if (this.nobodyListens()) return
    this.m.transport.publish('tx', encodeTxBatch(batch))
  }

  /**
   * With no peer, a publish goes nowhere: nothing is encoded, and nobody will ask for a
   * proposal's txs, so none are kept (a lone dev node kept its last 50,000). The driver
   * sends its messages again once peers come; txs reach them in blocks.
   */
  private nobodyListens (): boolean {
    return this.m.transport.peers().length === 0
  }

  private publishConsensus (msg: ConsensusMessage): void {
    if (this.nobodyListens()) return
    if (msg.type === 'proposal') {
      this.remember(msg.block.txs)
      this.m.transport.publish('consensus', encodeConsensusGossip({ type: 'proposal', proposal: msg.proposal, block: compactOf(msg.block) }, this.seq++))
    } else {
      this.m.transport.publish('consensus', encodeConsensusGossip(msg, this.seq++))
    }
  }

  private remember (txs: readonly SignedTx[]): void {
    for (const tx of txs) {
      this.recent.set(binaryKey(tx.id), tx)
    }
  }

  // ---- incoming gossip ----

  /** Runs a topic's validation and maps its outcome to a verdict, counted by code (one mapping, DESIGN §8). */
  private async verdict (topic: Topic, run: () => Promise<void>, from: PeerId): Promise<Verdict> {
    let action: GossipAction | 'ACCEPT' = 'ACCEPT'
    let code = 'ACCEPT'
    try {
      await run()
    } catch (e) {
      try {
        ({ action, code } = gossipAction(e))
      } catch (bug) {
        this.m.logger.error('Gossip handler failed', { topic, error: (bug as Error).message })
        return 'ignore'
      }
    }
    const counts = this.counts[topic]
    counts[code] = (counts[code] ?? 0) + 1
    if (action === 'REJECT') this.m.logger.debug('Gossip rejected', { topic, code, peer: from })
    return action === 'ACCEPT' ? 'accept' : action === 'IGNORE' ? 'ignore' : 'reject'
  }

  /**
   * Tx batches are admitted one after another, in the order they came: a sender's txs arrive in
   * nonce order, batch after batch, and a later batch admitted first would find a nonce gap and
   * be refused (BAD_NONCE), its txs then fetched again with the block that holds them.
   */
  private txBatches: Promise<unknown> = Promise.resolve()

  private async onTxBatch (data: Uint8Array): Promise<void> {
    const all = decodeTxBatch(data, this.m.chain.rules.params.maxTxBytes)
    // a tx a proposal or block has brought already is not admitted again (a batch that came late, under load)
    const txs = all.filter((tx) => !this.recent.has(binaryKey(tx.id)))
    if (txs.length === 0) ignore(ErrorCode.ALREADY_KNOWN, 'every tx of the batch came in a block')
    const admitted = this.txBatches.then(async () => await admitTxBatch(txs, this.m.pool))
    this.txBatches = admitted.catch(() => {})
    await admitted
  }

  /** The next height's set, as the chain will have it after the current height (computed once a head). */
  private next: { head: Uint8Array, set: ValidatorSet | null } | null = null

  private consensusContext (): ConsensusContext {
    const { chain } = this.m
    const height = chain.head.height + 1
    if (this.next?.head !== chain.head.hash) {
      // the set advances one proposer step a height, and may change at an epoch's last block
      const epochEnds = height % chain.rules.params.epochBlocks === 0
      this.next = { head: chain.head.hash, set: epochEnds ? null : chain.validators.advance(1) }
    }
    return {
      chainId: chain.chainId, height, validators: chain.validators, nextValidators: this.next.set,
      maxBlockTxs: chain.rules.params.maxBlockTxs, verify: chain.verify, seen: this.seen
    }
  }

  private async onConsensus (from: PeerId, data: Uint8Array): Promise<void> {
    const msg = decodeConsensusGossip(data)
    if (this.consensus === null) ignore(ErrorCode.UNAVAILABLE, 'not a validator')
    const ctx = this.consensusContext()
    try {
      if (msg.type === 'vote') validateVote(msg.vote, ctx)
      else validateProposal(msg.proposal, msg.block, ctx)
    } catch (e) {
      const height = msg.type === 'vote' ? msg.vote.vote.height : msg.proposal.proposal.height
      if ((e as { code?: string }).code === ErrorCode.FUTURE) this.futureHeight(height)
      throw e
    }
    if (msg.type === 'vote') {
      this.consensus.receiveVote(msg.vote)
      return
    }
    let block: Block
    try {
      block = await this.fill(msg.block, from)
    } catch (e) {
      this.seen.delete(toHex(msg.proposal.signature)) // a re-gossip may find the txs
      throw e
    }
    this.consensus.receiveProposal(msg.proposal, block)
  }

  private async onBlock (from: PeerId, data: Uint8Array): Promise<void> {
    const { block, commit } = decodeBlockGossip(data)
    let verdict: 'import' | 'head'
    try {
      verdict = validateCommittedBlock(block, commit, this.m.chain)
    } catch (e) {
      const height = block.header.height
      if ((e as { code?: string }).code === ErrorCode.FUTURE) {
        this.keepAhead(height, data, from)
        this.futureHeight(height)
      }
      throw e
    }
    if (verdict === 'head') return
    const full = await this.fill(block, from)
    // a bad block with a valid commit is a bad sender (or a broken chain): importBlock throws BAD_BLOCK → REJECT
    await this.m.chain.importBlock(full, commit)
  }

  /** Keeps a block message a few heights ahead; the first few per height, none replacing another. */
  private keepAhead (height: number, data: Uint8Array, from: PeerId): void {
    if (height > this.m.chain.head.height + MAX_AHEAD) return
    const kept = this.ahead.get(height) ?? []
    if (kept.length >= AHEAD_PER_HEIGHT || (kept.length === 0 && this.ahead.size >= MAX_AHEAD)) return
    kept.push({ data, from })
    this.ahead.set(height, kept)
  }

  /** After a commit: drops kept block messages the chain has passed, and imports the next one if it is kept. */
  private importAhead (): void {
    const head = this.m.chain.head.height
    for (const h of this.ahead.keys()) if (h <= head) this.ahead.delete(h)
    const next = this.ahead.get(head + 1)
    if (next === undefined || this.stopped) return
    this.ahead.delete(head + 1)
    // their verdicts (IGNORE) were given when they came; try each in turn; a failure leaves the block to sync
    void (async () => {
      for (const k of next) {
        try {
          await this.onBlock(k.from, k.data)
          return
        } catch (e) {
          this.m.logger.debug('A kept block did not import', { height: head + 1, error: (e as Error).message })
        }
      }
    })()
  }

  /** The block with its txs: from the mempool and recent blocks, the rest from `from`. IGNORE if they cannot be had. */
  private async fill (c: CompactBlock, from: PeerId): Promise<Block> {
    const txs: Array<SignedTx | undefined> = c.txIds.map((id) => this.m.pool.mempool.get(id) ?? this.recent.get(binaryKey(id)))
    const missing = c.txIds.filter((_, i) => txs[i] === undefined)
    if (missing.length > 0) {
      let got: Array<SignedTx | null>
      try {
        got = await this.requestTxs(from, missing)
      } catch (e) {
        return ignore(ErrorCode.UNAVAILABLE, `could not fetch ${missing.length} txs: ${(e as Error).message}`)
      }
      const byId = new Map<string, SignedTx>()
      // the id does not cover the signature: a fetched tx is checked before it is used, kept or served
      const fetched = got.filter((tx): tx is SignedTx => tx !== null)
      for (const tx of fetched) checkTxRules(tx, this.m.chain.rules)
      const valid = await this.m.chain.verifyTxSignatures(fetched)
      for (const [i, tx] of fetched.entries()) {
        if (!valid[i]) failSignature()
        byId.set(toHex(tx.id), tx)
      }
      for (const [i, id] of c.txIds.entries()) if (txs[i] === undefined) txs[i] = byId.get(toHex(id))
    }
    if (txs.some((t) => t === undefined)) ignore(ErrorCode.UNAVAILABLE, 'the sender does not have the block\'s txs')
    const full = txs as SignedTx[]
    // the ids are covered by txRoot, which the header (and so the signature or commit) covers
    if (!equalBytes(txRootOf(full), c.header.txRoot)) ignore(ErrorCode.BAD_BLOCK, 'txs do not match txRoot')
    this.remember(full)
    return { header: c.header, txs: full, lastCommit: c.lastCommit }
  }

  // ---- request/response ----

  private async requestTxs (peer: PeerId, ids: readonly Uint8Array[]): Promise<Array<SignedTx | null>> {
    const res = await this.m.transport.request(peer, 'txs', encodeTxsRequest(ids))
    const txs = decodeTxsResponse(res, PROTOCOL_SPECS.txs.maxResponseBytes)
    // a tx whose id was not asked for is dropped (the id is its hash: it cannot lie about which it is)
    const asked = new Set(ids.map(toHex))
    return txs.map((t) => (t !== null && asked.has(toHex(t.id)) ? t : null))
  }

  private serveTxs (req: Uint8Array): Uint8Array {
    const ids = decodeTxsRequest(req)
    let bytes = 0
    const out = ids.map((id) => {
      const tx = this.m.pool.mempool.get(id) ?? this.recent.get(binaryKey(id))
      if (tx === undefined || bytes + tx.bytes.length > PROTOCOL_SPECS.txs.maxResponseBytes - 1024 * 1024) return null
      bytes += tx.bytes.length
      return tx.bytes
    })
    return encodeTxsResponse(out)
  }

  private async serveSync (req: Uint8Array): Promise<Uint8Array> {
    const r = decodeSyncRequest(req)
    const { chain } = this.m
    if (r.type === 'status') return encodeSyncStatus({ height: chain.head.height, headHash: chain.head.hash })
    // ranges are the dear requests (up to 16 MiB read and held each): a few at a time for all peers together
    if (this.serving >= MAX_SERVING) fail(ErrorCode.UNAVAILABLE, 'busy serving other ranges')
    this.serving++
    try {
      return await this.serveRange(r.from, r.count)
    } finally {
      this.serving--
    }
  }

  private async serveRange (from: number, count: number): Promise<Uint8Array> {
    const { chain } = this.m
    const out: Array<{ block: Uint8Array, commit: Uint8Array }> = []
    let bytes = 0
    const last = Math.min(chain.head.height, from + Math.min(count, MAX_SYNC_BLOCKS) - 1)
    for (let h = Math.max(1, from); h <= last; h++) {
      const stored = await chain.getStoredBlock(h)
      if (stored === null) break
      bytes += stored.block.length + stored.commit.length
      if (out.length > 0 && bytes > this.opts.maxSyncResponseBytes) break
      out.push(stored)
    }
    return encodeSyncBlocks(out)
  }

  // ---- SyncPeers: what sync asks of the network ----

  peers (): PeerId[] { return this.m.transport.peers().map((p) => p.peerId) }

  async status (peer: PeerId): Promise<SyncStatus> {
    return decodeSyncStatus(await this.m.transport.request(peer, 'sync', encodeSyncRequest({ type: 'status' })))
  }

  async blocks (peer: PeerId, from: number, count: number): Promise<Array<{ block: Uint8Array, commit: Uint8Array }>> {
    const res = await this.m.transport.request(peer, 'sync', encodeSyncRequest({ type: 'blocks', from, count }))
    return decodeSyncBlocks(res, PROTOCOL_SPECS.sync.maxResponseBytes)
  }

  penalize (peer: PeerId, reason: string): void { this.m.transport.penalize(peer, reason) }
}
