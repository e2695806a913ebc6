/**
 * Pending transactions, bounded by count and by what they cost in memory.
 *
 * Per sender, txs form a gapless nonce chain starting at the account's next
 * nonce (the admission path checks the start; `add` checks the links). Blocks
 * take txs by fee per byte across senders, in nonce order within a sender.
 * When full, a new tx evicts the cheapest chain tail if it pays more per byte;
 * otherwise it is refused with MEMPOOL_FULL. Pure data: no state reads here.
 *
 * The byte bound counts `txCost`: a tx's encoded bytes, the JS strings its
 * text was decoded into, and a measured per-tx overhead (decoded objects, the
 * views into its bytes, its id, index entries and keys). Fees are still per
 * encoded byte. A full mempool's heap and buffers then stay close to
 * `maxBytes` (scripts/bench/mempool-memory.ts measures it).
 */
import { binaryKey } from '../crypto/bytes.ts'
import { ErrorCode, fail } from '../protocol/errors.ts'
import type { PublicKey, SignedTx, TxBody } from '../protocol/types.ts'
import { BinaryHeap } from '../util/binary-heap.ts'

export interface MempoolLimits {
  maxTxs: number
  /** Memory the pending txs may take, as `txCost` counts it (not only their encoded bytes). */
  maxBytes: number
  /** Longest nonce chain one sender may queue. */
  maxPerSender: number
}

export const DEFAULT_MEMPOOL_LIMITS: MempoolLimits = { maxTxs: 20_000, maxBytes: 64 * 1024 * 1024, maxPerSender: 256 }

/**
 * What one pending tx costs beyond its encoded bytes and decoded text: the tx,
 * unsigned and body objects, the Uint8Array views into its bytes and its id,
 * the fee bigint and chain id string (~980 B of heap), its entries and
 * keys in the indexes (~150 B), and its buffer's native bookkeeping. Measured
 * on Node 20 x64 with tiny posts decoded from hex, heap after a full GC
 * (scripts/bench/mempool-memory.ts).
 */
export const TX_OVERHEAD_BYTES = 1_280

/** Heap bytes of a JS string's characters: one a char while every char is Latin-1, else two (V8). */
const stringBytes = (s: string | null): number => s === null ? 0 : s.length * (/[^\u0000-\u00ff]/.test(s) ? 2 : 1)

function textBytes (body: TxBody): number {
  switch (body.kind) {
    case 'post': return stringBytes(body.text)
    case 'profile': return stringBytes(body.username) + stringBytes(body.displayName) + stringBytes(body.bio) + stringBytes(body.avatarUrl)
    default: return 0
  }
}

/**
 * What `tx` counts against `maxBytes`: its encoded bytes (which every field but
 * the text is a view into, once decoded), its text as JS strings, and
 * TX_OVERHEAD_BYTES. Pure: the same tx always costs the same.
 */
export function txCost (tx: SignedTx): number {
  return tx.bytes.length + textBytes(tx.unsigned.body) + TX_OVERHEAD_BYTES
}

/** Per sender (by binaryKey), the nonce its next tx needs after `txs` (a block's, in order). */
export function nextNonces (txs: readonly SignedTx[]): Map<string, number> {
  const nonces = new Map<string, number>()
  for (const tx of txs) nonces.set(binaryKey(tx.unsigned.sender), tx.unsigned.nonce + 1)
  return nonces
}

/** `chain` (a sender's pending txs, in nonce order) without those below `next` (a block being written took them). */
export function pendingAfter (chain: readonly SignedTx[], next: number | undefined): readonly SignedTx[] {
  if (next === undefined) return chain
  let cut = 0
  while (cut < chain.length && chain[cut]!.unsigned.nonce < next) cut++
  return cut === 0 ? chain : chain.slice(cut)
}

/** fee per byte, scaled to keep precision in integer comparisons */
const feeRate = (tx: SignedTx): bigint => (tx.unsigned.fee * 1_000_000n) / BigInt(tx.bytes.length)

interface FillWatcher { txs: number, bytes: number, fn: () => void }

export class Mempool {
  private readonly byId = new Map<string, SignedTx>()
  private readonly bySender = new Map<string, SignedTx[]>()
  private totalBytes = 0
  /** The pending txs' encoded bytes: what they would take of a block. */
  private encodedBytes = 0
  private readonly fillWatchers = new Set<FillWatcher>()

  constructor (readonly limits: MempoolLimits = DEFAULT_MEMPOOL_LIMITS) {}

  /**
   * Calls `fn` once (in a microtask) when the pool holds `txs` txs or `bytes` encoded bytes,
   * at once if it does already: a proposer need not wait for the target block time with a
   * full block's worth pending. Returns a function that cancels the watch.
   */
  whenHolds (txs: number, bytes: number, fn: () => void): () => void {
    const watcher: FillWatcher = { txs, bytes, fn }
    this.fillWatchers.add(watcher)
    this.checkFill()
    return () => { this.fillWatchers.delete(watcher) }
  }

  private checkFill (): void {
    for (const w of this.fillWatchers) {
      if (this.byId.size < w.txs && this.encodedBytes < w.bytes) continue
      this.fillWatchers.delete(w)
      queueMicrotask(w.fn)
    }
  }

  get size (): number { return this.byId.size }
  /** What the pending txs count against maxBytes: the sum of their `txCost`. */
  get bytes (): number { return this.totalBytes }

  has (id: Uint8Array): boolean { return this.byId.has(binaryKey(id)) }
  get (id: Uint8Array): SignedTx | undefined { return this.byId.get(binaryKey(id)) }

  /** The sender's queued txs, in nonce order. */
  pendingFor (sender: PublicKey): readonly SignedTx[] {
    return this.bySender.get(binaryKey(sender)) ?? []
  }

  /**
   * Queues `tx` and returns what it evicted. Throws ALREADY_KNOWN for a
   * duplicate, BAD_NONCE if it does not extend the sender's chain, MEMPOOL_FULL
   * if there is no room and nothing cheaper to evict.
   */
  add (tx: SignedTx): SignedTx[] {
    const id = binaryKey(tx.id)
    if (this.byId.has(id)) fail(ErrorCode.ALREADY_KNOWN, 'tx is already pending')
    const sender = binaryKey(tx.unsigned.sender)
    const chain = this.bySender.get(sender) ?? []
    const last = chain[chain.length - 1]
    if (last !== undefined && tx.unsigned.nonce !== last.unsigned.nonce + 1) {
      fail(ErrorCode.BAD_NONCE, `expected nonce ${last.unsigned.nonce + 1}, got ${tx.unsigned.nonce}`, { expected: last.unsigned.nonce + 1 })
    }
    if (chain.length >= this.limits.maxPerSender) fail(ErrorCode.MEMPOOL_FULL, `sender has ${chain.length} pending txs`)
    const evicted: SignedTx[] = []
    const cost = txCost(tx)
    while (this.byId.size + 1 > this.limits.maxTxs || this.totalBytes + cost > this.limits.maxBytes) {
      const victim = this.cheapestTail(sender)
      if (victim === undefined || feeRate(victim) >= feeRate(tx)) {
        // put back, last evicted first: a chain lost its tail newest-first, so it regrows in nonce order
        for (const e of evicted.reverse()) this.insert(e)
        fail(ErrorCode.MEMPOOL_FULL, 'mempool is full and this tx pays too little to replace another')
      }
      this.remove(victim)
      evicted.push(victim)
    }
    this.insert(tx)
    return evicted
  }

  private insert (tx: SignedTx): void {
    const sender = binaryKey(tx.unsigned.sender)
    const chain = this.bySender.get(sender) ?? []
    chain.push(tx) // in nonce order: `add` checked the link, and a put-back victim was a chain's tail
    this.bySender.set(sender, chain)
    this.byId.set(binaryKey(tx.id), tx)
    this.totalBytes += txCost(tx)
    this.encodedBytes += tx.bytes.length
    if (this.fillWatchers.size > 0) this.checkFill()
  }

  private remove (tx: SignedTx): void {
    const id = binaryKey(tx.id)
    // the pooled object: `tx` may be another decoding of it (from a block)
    const pooled = this.byId.get(id)
    if (pooled === undefined) return
    this.forget(pooled)
    const sender = binaryKey(pooled.unsigned.sender)
    const chain = (this.bySender.get(sender) ?? []).filter((t) => t !== pooled)
    if (chain.length === 0) this.bySender.delete(sender)
    else this.bySender.set(sender, chain)
  }

  /** The lowest-paying last tx of any chain but `exceptSender`'s. */
  private cheapestTail (exceptSender: string): SignedTx | undefined {
    let worst: SignedTx | undefined
    for (const [sender, chain] of this.bySender) {
      if (sender === exceptSender) continue
      const tail = chain[chain.length - 1]!
      if (worst === undefined || feeRate(tail) < feeRate(worst)) worst = tail
    }
    return worst
  }

  /** Txs in the order a block should take them: best fee rate first, nonce order within a sender. */
  *ordered (): Generator<SignedTx> {
    const heads = [...this.bySender.values()].map((chain) => ({ chain, next: 0 }))
    // each sender's next tx, best fee rate on top
    const rate = (h: { chain: SignedTx[], next: number }) => feeRate(h.chain[h.next]!)
    const heap = new BinaryHeap<{ chain: SignedTx[], next: number }>((a, b) => rate(a) > rate(b))
    for (const h of heads) heap.push(h)
    while (heap.size > 0) {
      const top = heap.pop()!
      yield top.chain[top.next]!
      top.next += 1
      if (top.next < top.chain.length) heap.push(top)
    }
  }

  /** After a block: drops what it included and whatever its nonces made stale. */
  onBlock (included: readonly SignedTx[], nextNonce: (sender: PublicKey) => number | undefined): void {
    const senders = new Map<string, { sender: PublicKey, txs: SignedTx[] }>()
    for (const tx of included) {
      const key = binaryKey(tx.unsigned.sender)
      const entry = senders.get(key)
      if (entry === undefined) senders.set(key, { sender: tx.unsigned.sender, txs: [tx] })
      else entry.txs.push(tx)
    }
    for (const [key, { sender, txs }] of senders) {
      const nonce = nextNonce(sender)
      if (nonce === undefined) {
        for (const tx of txs) this.remove(tx)
        continue
      }
      // the block took a nonce prefix of the sender's chain (and made any other tx at those nonces stale): cut it in one go
      const chain = this.bySender.get(key)
      if (chain === undefined) continue
      const rest = pendingAfter(chain, nonce)
      for (const tx of chain.slice(0, chain.length - rest.length)) this.forget(tx)
      if (rest.length === 0) this.bySender.delete(key)
      else if (rest !== chain) this.bySender.set(key, rest as SignedTx[]) // a slice: an array of its own
    }
  }

  /** Drops `tx` from the id index and the byte counts (its sender's chain is the caller's to fix). */
  private forget (tx: SignedTx): void {
    if (!this.byId.delete(binaryKey(tx.id))) return
    this.totalBytes -= txCost(tx)
    this.encodedBytes -= tx.bytes.length
  }

  /** Drops `tx` and every later tx of its sender (they can no longer execute). */
  dropWithSuccessors (tx: SignedTx): SignedTx[] {
    const chain = this.bySender.get(binaryKey(tx.unsigned.sender)) ?? []
    const gone = chain.filter((t) => t.unsigned.nonce >= tx.unsigned.nonce)
    for (const t of gone) this.remove(t)
    return gone
  }
}
