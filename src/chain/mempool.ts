/**
 * Pending transactions, bounded by count and bytes.
 *
 * Per sender, txs form a gapless nonce chain starting at the account's next
 * nonce (the admission path checks the start; `add` checks the links). Blocks
 * take txs by fee per byte across senders, in nonce order within a sender.
 * When full, a new tx evicts the cheapest chain tail if it pays more per byte;
 * otherwise it is refused with MEMPOOL_FULL. Pure data: no state reads here.
 */
import { toHex } from '../crypto/bytes.ts'
import { ErrorCode, fail } from '../protocol/errors.ts'
import type { PublicKey, SignedTx } from '../protocol/types.ts'
import { BinaryHeap } from '../util/binary-heap.ts'

export interface MempoolLimits {
  maxTxs: number
  maxBytes: number
  /** Longest nonce chain one sender may queue. */
  maxPerSender: number
}

export const DEFAULT_MEMPOOL_LIMITS: MempoolLimits = { maxTxs: 20_000, maxBytes: 64 * 1024 * 1024, maxPerSender: 256 }

/** fee per byte, scaled to keep precision in integer comparisons */
const feeRate = (tx: SignedTx): bigint => (tx.unsigned.fee * 1_000_000n) / BigInt(tx.bytes.length)

export class Mempool {
  private readonly byId = new Map<string, SignedTx>()
  private readonly bySender = new Map<string, SignedTx[]>()
  private totalBytes = 0

  constructor (private readonly limits: MempoolLimits = DEFAULT_MEMPOOL_LIMITS) {}

  get size (): number { return this.byId.size }
  get bytes (): number { return this.totalBytes }

  has (id: Uint8Array): boolean { return this.byId.has(toHex(id)) }
  get (id: Uint8Array): SignedTx | undefined { return this.byId.get(toHex(id)) }

  /** The sender's queued txs, in nonce order. */
  pendingFor (sender: PublicKey): readonly SignedTx[] {
    return this.bySender.get(toHex(sender)) ?? []
  }

  /**
   * Queues `tx` and returns what it evicted. Throws ALREADY_KNOWN for a
   * duplicate, BAD_NONCE if it does not extend the sender's chain, MEMPOOL_FULL
   * if there is no room and nothing cheaper to evict.
   */
  add (tx: SignedTx): SignedTx[] {
    const id = toHex(tx.id)
    if (this.byId.has(id)) fail(ErrorCode.ALREADY_KNOWN, 'tx is already pending')
    const sender = toHex(tx.unsigned.sender)
    const chain = this.bySender.get(sender) ?? []
    const last = chain[chain.length - 1]
    if (last !== undefined && tx.unsigned.nonce !== last.unsigned.nonce + 1) {
      fail(ErrorCode.BAD_NONCE, `expected nonce ${last.unsigned.nonce + 1}, got ${tx.unsigned.nonce}`, { expected: last.unsigned.nonce + 1 })
    }
    if (chain.length >= this.limits.maxPerSender) fail(ErrorCode.MEMPOOL_FULL, `sender has ${chain.length} pending txs`)
    const evicted: SignedTx[] = []
    while (this.byId.size + 1 > this.limits.maxTxs || this.totalBytes + tx.bytes.length > this.limits.maxBytes) {
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
    const sender = toHex(tx.unsigned.sender)
    const chain = this.bySender.get(sender) ?? []
    chain.push(tx) // in nonce order: `add` checked the link, and a put-back victim was a chain's tail
    this.bySender.set(sender, chain)
    this.byId.set(toHex(tx.id), tx)
    this.totalBytes += tx.bytes.length
  }

  private remove (tx: SignedTx): void {
    const id = toHex(tx.id)
    if (!this.byId.delete(id)) return
    this.totalBytes -= tx.bytes.length
    const sender = toHex(tx.unsigned.sender)
    const chain = (this.bySender.get(sender) ?? []).filter((t) => toHex(t.id) !== id)
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
    const senders = new Map<string, PublicKey>()
    for (const tx of included) {
      this.remove(tx)
      senders.set(toHex(tx.unsigned.sender), tx.unsigned.sender)
    }
    for (const [key, sender] of senders) {
      const nonce = nextNonce(sender)
      if (nonce === undefined) continue
      for (const tx of [...(this.bySender.get(key) ?? [])]) if (tx.unsigned.nonce < nonce) this.remove(tx)
    }
  }

  /** Drops `tx` and every later tx of its sender (they can no longer execute). */
  dropWithSuccessors (tx: SignedTx): SignedTx[] {
    const chain = this.bySender.get(toHex(tx.unsigned.sender)) ?? []
    const gone = chain.filter((t) => t.unsigned.nonce >= tx.unsigned.nonce)
    for (const t of gone) this.remove(t)
    return gone
  }
}
