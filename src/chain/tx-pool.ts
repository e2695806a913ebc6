/**
 * The way into the mempool: decode, the stateless rules, then a dry run
 * against the head state after the sender's own pending txs, so a tx that
 * would fail in a block (a taken username, a wrong nonce) is refused now,
 * with its code. Admissions and block commits take turns (the chain's lock),
 * so a dry run never sees a half-applied head. After each commit (a chain
 * event) the mempool drops what the block included or made stale.
 */
import { decodeSignedTx } from '../codec/tx.ts'
import { ChorusError, ErrorCode, fail } from '../protocol/errors.ts'
import { binaryKey } from '../crypto/bytes.ts'
import type { PublicKey, SignedTx } from '../protocol/types.ts'
import { checkTxRules } from '../protocol/validate.ts'
import { applyTx, readAccount } from '../state/transition.ts'
import { StateView } from '../state/view.ts'
import type { Chain } from './chain.ts'
import { type Mempool, pendingAfter } from './mempool.ts'

/** How many dropped txs' reasons are remembered, for waiters and tx_get. */
const DROPPED_MEMORY = 10_000

/**
 * Txs admitted per signature batch and turn of the lock. A turn's gathered txs (8 JSON-RPC
 * batches of 50 in `load.ts`) went as one signature batch, and this thread idled until the
 * worker had checked them all, then dry-ran them all while the worker idled: a quarter of the
 * thread's time. In chunks, one chunk is dry-run while the worker checks the next.
 */
const ADMIT_CHUNK = 64

/** Senders whose pending state is kept between admissions, at most. */
const SENDER_VIEWS = 4_096

/**
 * What a sender view holds per pending tx it applied, beyond the tx's encoded
 * size: the writes (a post's record holds its text again), their keys and map
 * entries. Measured at ~1 KiB a tiny post (scripts/bench/mempool-memory.ts).
 */
const VIEW_TX_OVERHEAD_BYTES = 1_024

/**
 * The sender views together may hold what the mempool leaves free of its
 * maxBytes, and at least this share of it; the least recently used go first.
 * So a mempool with room caches every sender, and a full one still caches the
 * senders it is admitting from, within maxBytes × (1 + this).
 */
const SENDER_VIEWS_MIN_SHARE = 1 / 8

const viewCost = (tx: SignedTx): number => tx.bytes.length + VIEW_TX_OVERHEAD_BYTES

interface SenderView { height: number, pending: number, view: StateView, bytes: number }
interface Gathered { txs: SignedTx[], origins: TxOrigin[], settle: Array<(r: SignedTx | Error) => void> }

export type TxOrigin = 'local' | 'gossip'
/** What became of an offered tx: admitted, or the code it was refused with. */
export type AdmissionResult = 'accepted' | ErrorCode | 'INTERNAL'

export class TxPool {
  private readonly dropped = new Map<string, ChorusError>()
  /**
   * Per sender: the head state with its pending txs applied, so admitting the
   * n-th pending tx costs one dry run, not n. Valid while the head and the
   * sender's pending count are what they were when it was made; all are
   * dropped at a commit. In recency order, the most recently used last, and
   * bounded by count and by `viewBytesMax()` (their writes hold the txs' data again).
   */
  private readonly senderViews = new Map<string, SenderView>()
  private viewBytes = 0

  constructor (
    private readonly chain: Chain,
    readonly mempool: Mempool
  ) {
    chain.events.onCommitted(({ checked, nextNonces }) => {
      // every view is of the old head now
      this.senderViews.clear()
      this.viewBytes = 0
      mempool.onBlock(checked.block.txs, (sender) => nextNonces.get(binaryKey(sender)))
    })
  }

  private readonly localListeners: Array<(tx: SignedTx) => void> = []
  /** Txs offered in this turn of the event loop, admitted together at its end (submitDecoded). */
  private gathering: Gathered | null = null
  private readonly admissionListeners: Array<(origin: TxOrigin, result: AdmissionResult) => void> = []

  /** Calls `fn` with every tx admitted from this node's own clients (not from gossip): the network gossips them. */
  onLocalTx (fn: (tx: SignedTx) => void): void { this.localListeners.push(fn) }

  /** Calls `fn` once for every tx offered, with where it came from and what became of it (metrics). */
  onAdmission (fn: (origin: TxOrigin, result: AdmissionResult) => void): void { this.admissionListeners.push(fn) }

  /** Admits a signed tx given as bytes; throws the typed reason it cannot be. */
  async submit (bytes: Uint8Array): Promise<SignedTx> {
    let tx: SignedTx
    try {
      tx = decodeSignedTx(bytes, this.chain.rules.params.maxTxBytes)
    } catch (e) {
      this.tell('local', e)
      throw e
    }
    return await this.submitDecoded(tx)
  }

  /**
   * Admits a decoded tx; `origin` 'gossip' for txs that came from peers (they are not announced again).
   * Txs offered in the same turn of the event loop (a JSON-RPC batch's calls, concurrent clients)
   * are admitted together, as `submitMany` does.
   */
  async submitDecoded (tx: SignedTx, origin: TxOrigin = 'local'): Promise<SignedTx> {
    if (this.gathering === null) {
      const batch: Gathered = { txs: [], origins: [], settle: [] }
      this.gathering = batch
      setImmediate(() => {
        this.gathering = null
        this.admitInChunks(batch.txs, batch.origins, (from, results) => results.forEach((r, i) => batch.settle[from + i]!(r)))
          .catch((e: unknown) => batch.settle.forEach((settle) => settle(e instanceof Error ? e : new Error(String(e)))))
      })
    }
    const batch = this.gathering
    const result = await new Promise<SignedTx | Error>((resolve) => {
      batch.txs.push(tx)
      batch.origins.push(origin)
      batch.settle.push(resolve)
    })
    if (result instanceof Error) throw result
    return result
  }

  /**
   * Admits several txs together (a gossip batch): the stateless rules of each, their signatures
   * in batches (off the main thread with a verify pool), then turns of the lock for their dry
   * runs, in order (admitInChunks). Answers each with the tx admitted or the error it was refused with.
   */
  async submitMany (txs: readonly SignedTx[], origin: TxOrigin = 'local'): Promise<Array<SignedTx | Error>> {
    const results = new Array<SignedTx | Error>(txs.length)
    await this.admitInChunks(txs, txs.map(() => origin), (from, chunk) => chunk.forEach((r, i) => { results[from + i] = r }))
    return results
  }

  /**
   * Admits `txs` ADMIT_CHUNK at a time: every chunk's signatures go to the verifier at once, and
   * each chunk's dry runs take their turn of the lock once its answers are in and the chunk
   * before it has had its turn, so txs are still dry-run in order (a sender's nonces) while this
   * thread dry-runs one chunk as the verifier checks the next. `done` hears each chunk's results.
   */
  private async admitInChunks (txs: readonly SignedTx[], origins: readonly TxOrigin[], done: (from: number, results: Array<SignedTx | Error>) => void): Promise<void> {
    let previous: Promise<unknown> = Promise.resolve()
    const turns: Array<Promise<void>> = []
    for (let from = 0; from < txs.length; from += ADMIT_CHUNK) {
      const chunk = txs.slice(from, from + ADMIT_CHUNK)
      const checked = this.checkSignatures(chunk)
      const turn = previous.then(async () => { done(from, await this.admitChecked(chunk, origins.slice(from, from + ADMIT_CHUNK), await checked)) })
      previous = turn.catch(() => {})
      turns.push(turn)
    }
    await Promise.all(turns)
  }

  /** The stateless rules and the signature of each tx: null where both pass, else the error. */
  private async checkSignatures (txs: readonly SignedTx[]): Promise<Array<SignedTx | Error | null>> {
    const results: Array<SignedTx | Error | null> = txs.map((tx) => {
      try {
        if (this.mempool.has(tx.id)) fail(ErrorCode.ALREADY_KNOWN, 'tx is already pending')
        checkTxRules(tx, this.chain.rules)
        return null
      } catch (e) {
        return e as Error
      }
    })
    // a tx that came first in a proposal or block was verified when it was fetched: verifyTxSignatures knows
    const unchecked = txs.filter((_, i) => results[i] === null)
    const valid = await this.chain.verifyTxSignatures(unchecked)
    let k = 0
    for (const [i, r] of results.entries()) {
      if (r === null && !valid[k++]!) results[i] = new ChorusError(ErrorCode.BAD_SIGNATURE, 'signature does not verify')
    }
    return results
  }

  /** One turn of the lock for the dry runs of the txs `checkSignatures` passed (null), in order; then the listeners. */
  private async admitChecked (txs: readonly SignedTx[], origins: readonly TxOrigin[], results: Array<SignedTx | Error | null>): Promise<Array<SignedTx | Error>> {
    if (results.includes(null)) {
      await this.chain.lock.run(async () => {
        for (const [i, tx] of txs.entries()) {
          if (results[i] !== null) continue
          try {
            // the same tx twice in one batch: the second is already pending
            if (this.mempool.has(tx.id)) fail(ErrorCode.ALREADY_KNOWN, 'tx is already pending')
            results[i] = await this.admit(tx)
          } catch (e) {
            // a client is told a replay is in a block; a peer's late tx is only refused (the read is not worth it under the lock)
            results[i] = origins[i] === 'local' ? await this.explainRefusal(tx, e as Error) : e as Error
          }
        }
      })
    }
    const done = results as Array<SignedTx | Error>
    for (const [i, r] of done.entries()) {
      const origin = origins[i]!
      // a listener that throws must not turn an admitted tx into a failure, nor keep the others from hearing
      listenSafely(() => this.tell(origin, r instanceof Error ? r : null))
      if (origin === 'local' && !(r instanceof Error)) for (const fn of this.localListeners) listenSafely(() => fn(r))
    }
    return done
  }

  /** A replay fails on its used nonce: say what it is, once we know (a read only on this path). */
  private async explainRefusal (tx: SignedTx, e: Error): Promise<Error> {
    if (e instanceof ChorusError && e.code === ErrorCode.BAD_NONCE && await this.chain.txLocation(tx.id) !== null) {
      return new ChorusError(ErrorCode.ALREADY_KNOWN, 'tx is already in a block')
    }
    return e
  }

  private tell (origin: TxOrigin, error: unknown): void {
    const result = error === null ? 'accepted' : error instanceof ChorusError ? error.code : 'INTERNAL'
    for (const fn of this.admissionListeners) fn(origin, result)
  }

  /**
   * The dry run and the mempool insert; runs under the lock. While a decided block is being
   * written, against its result: the sender's txs it took are still pooled then, and skipped.
   */
  private async admit (tx: SignedTx): Promise<SignedTx> {
    const sender = binaryKey(tx.unsigned.sender)
    const base = this.chain.admissionBase()
    const pending = pendingAfter(this.mempool.pendingFor(tx.unsigned.sender), base.included?.get(sender))
    const { height, timeMs } = base.head
    const proposer = base.proposer
    const ctx = (index: number) => ({ height: height + 1, timeMs: timeMs + 1, index, proposer, params: this.chain.rules.params })
    let cached = this.takeView(sender)
    if (cached === undefined || cached.height !== height || cached.pending !== pending.length) {
      const view = new StateView(base.state)
      for (const [i, p] of pending.entries()) {
        const c = view.child()
        await applyTx(c, p, ctx(i))
        view.merge(c)
      }
      cached = { height, pending: pending.length, view, bytes: pending.reduce((n, p) => n + viewCost(p), 0) }
    }
    try {
      const trial = cached.view.child()
      const applied = applyTx(trial, tx, ctx(pending.length))
      if (applied !== undefined) await applied
      this.mempool.add(tx)
      cached.view.merge(trial)
      cached.pending += 1
      cached.bytes += viewCost(tx)
    } finally {
      this.putView(sender, cached)
    }
    return tx
  }

  /** How many senders' pending state is cached, and what the cache counts it at (for metrics and tests). */
  get senderViewStats (): { senders: number, bytes: number, maxBytes: number } {
    return { senders: this.senderViews.size, bytes: this.viewBytes, maxBytes: this.viewBytesMax() }
  }

  /** Takes `sender`'s view out of the cache (the caller puts it back, as the most recent). */
  private takeView (sender: string): SenderView | undefined {
    const cached = this.senderViews.get(sender)
    if (cached === undefined) return undefined
    this.senderViews.delete(sender)
    this.viewBytes -= cached.bytes
    return cached
  }

  /** Puts `sender`'s view back as the most recent; the bounds then drop the least recent. */
  private putView (sender: string, cached: SenderView): void {
    this.senderViews.set(sender, cached)
    this.viewBytes += cached.bytes
    this.trimViews()
  }

  private viewBytesMax (): number {
    const { maxBytes } = this.mempool.limits
    return Math.max(maxBytes - this.mempool.bytes, maxBytes * SENDER_VIEWS_MIN_SHARE)
  }

  /** Drops the least recently used views while over either bound (the newest one stays). */
  private trimViews (): void {
    const maxBytes = this.viewBytesMax()
    while (this.senderViews.size > 1 && (this.senderViews.size > SENDER_VIEWS || this.viewBytes > maxBytes)) {
      const [oldest, view] = this.senderViews.entries().next().value!
      this.senderViews.delete(oldest)
      this.viewBytes -= view.bytes
    }
  }

  /** Removes txs a block builder could not include (and their successors), remembering why. */
  dropRejected (rejected: ReadonlyArray<{ tx: SignedTx, error: ChorusError }>): void {
    for (const { tx, error } of rejected) {
      for (const gone of this.mempool.dropWithSuccessors(tx)) {
        this.dropped.set(binaryKey(gone.id), gone === tx ? error : new ChorusError(ErrorCode.BAD_NONCE, 'an earlier tx of this sender was dropped'))
        if (this.dropped.size > DROPPED_MEMORY) this.dropped.delete(this.dropped.keys().next().value!)
      }
    }
  }

  /** Why `id` left the mempool without being included, if it did recently; undefined while it is pending. */
  droppedReason (id: Uint8Array): ChorusError | undefined {
    return this.mempool.has(id) ? undefined : this.dropped.get(binaryKey(id))
  }

  /** The nonce `sender`'s next new tx should carry, counting its pending ones. */
  async nextNonce (sender: PublicKey): Promise<number> {
    const base = this.chain.admissionBase()
    const account = await readAccount(base.state, sender)
    return account.nonce + pendingAfter(this.mempool.pendingFor(sender), base.included?.get(binaryKey(sender))).length
  }
}

/** Runs a listener; what it throws is its own fault, not the admission's (listeners are metrics and gossip). */
function listenSafely (fn: () => void): void {
  try { fn() } catch { /* see above */ }
}
