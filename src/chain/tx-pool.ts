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
import { toHex } from '../crypto/bytes.ts'
import type { PublicKey, SignedTx } from '../protocol/types.ts'
import { alreadyVerified, validateTxStateless } from '../protocol/validate.ts'
import { applyTx, readAccount } from '../state/transition.ts'
import { StateView } from '../state/view.ts'
import type { Chain } from './chain.ts'
import type { Mempool } from './mempool.ts'

/** How many dropped txs' reasons are remembered, for waiters and tx_get. */
const DROPPED_MEMORY = 10_000

/** Senders whose pending state is kept between admissions. */
const SENDER_VIEWS = 4_096

export class TxPool {
  private readonly dropped = new Map<string, ChorusError>()
  /**
   * Per sender: the head state with its pending txs applied, so admitting the
   * n-th pending tx costs one dry run, not n. Valid while the head and the
   * sender's pending count are what they were when it was made.
   */
  private readonly senderViews = new Map<string, { height: number, pending: number, view: StateView }>()

  constructor (
    private readonly chain: Chain,
    readonly mempool: Mempool
  ) {
    chain.events.onCommitted(({ checked }) => {
      const nonces = new Map<string, number>()
      for (const tx of checked.block.txs) nonces.set(toHex(tx.unsigned.sender), tx.unsigned.nonce + 1)
      mempool.onBlock(checked.block.txs, (sender) => nonces.get(toHex(sender)))
    })
  }

  private readonly localListeners: Array<(tx: SignedTx) => void> = []

  /** Calls `fn` with every tx admitted from this node's own clients (not from gossip): the network gossips them. */
  onLocalTx (fn: (tx: SignedTx) => void): void { this.localListeners.push(fn) }

  /** Admits a signed tx given as bytes; throws the typed reason it cannot be. */
  async submit (bytes: Uint8Array): Promise<SignedTx> {
    const tx = decodeSignedTx(bytes, this.chain.rules.params.maxTxBytes)
    return await this.submitDecoded(tx)
  }

  /** Admits a decoded tx; `origin` 'gossip' for txs that came from peers (they are not announced again). */
  async submitDecoded (tx: SignedTx, origin: 'local' | 'gossip' = 'local'): Promise<SignedTx> {
    const admitted = await this.admitChecked(tx)
    if (origin === 'local') for (const fn of this.localListeners) fn(admitted)
    return admitted
  }

  private async admitChecked (tx: SignedTx): Promise<SignedTx> {
    if (this.mempool.has(tx.id)) fail(ErrorCode.ALREADY_KNOWN, 'tx is already pending')
    // a tx that came first in a proposal or block was verified when it was fetched
    validateTxStateless(tx, this.chain.rules, this.chain.isVerified(tx) ? alreadyVerified : this.chain.verify)
    this.chain.markVerified(tx)
    return await this.chain.lock.run(async () => {
      try {
        return await this.admit(tx)
      } catch (e) {
        // a replay fails on its used nonce: say what it is, once we know (a read only on this path)
        if (e instanceof ChorusError && e.code === ErrorCode.BAD_NONCE && await this.chain.txLocation(tx.id) !== null) {
          fail(ErrorCode.ALREADY_KNOWN, 'tx is already in a block')
        }
        throw e
      }
    })
  }

  /** The dry run and the mempool insert; runs under the lock. */
  private async admit (tx: SignedTx): Promise<SignedTx> {
    const sender = toHex(tx.unsigned.sender)
    const pending = this.mempool.pendingFor(tx.unsigned.sender)
    const { height, timeMs } = this.chain.head
    const proposer = this.chain.validators.proposerAt(0)
    const ctx = (index: number) => ({ height: height + 1, timeMs: timeMs + 1, index, proposer, params: this.chain.rules.params })
    let cached = this.senderViews.get(sender)
    if (cached === undefined || cached.height !== height || cached.pending !== pending.length) {
      const view = new StateView(this.chain.store)
      for (const [i, p] of pending.entries()) await applyTx(view, p, ctx(i))
      cached = { height, pending: pending.length, view }
    }
    const trial = cached.view.child()
    await applyTx(trial, tx, ctx(pending.length))
    this.mempool.add(tx)
    cached.view.merge(trial)
    cached.pending += 1
    this.senderViews.set(sender, cached)
    if (this.senderViews.size > SENDER_VIEWS) this.senderViews.delete(this.senderViews.keys().next().value!)
    return tx
  }

  /** Removes txs a block builder could not include (and their successors), remembering why. */
  dropRejected (rejected: ReadonlyArray<{ tx: SignedTx, error: ChorusError }>): void {
    for (const { tx, error } of rejected) {
      for (const gone of this.mempool.dropWithSuccessors(tx)) {
        this.dropped.set(toHex(gone.id), gone === tx ? error : new ChorusError(ErrorCode.BAD_NONCE, 'an earlier tx of this sender was dropped'))
        if (this.dropped.size > DROPPED_MEMORY) this.dropped.delete(this.dropped.keys().next().value!)
      }
    }
  }

  /** Why `id` left the mempool without being included, if it did recently; undefined while it is pending. */
  droppedReason (id: Uint8Array): ChorusError | undefined {
    return this.mempool.has(id) ? undefined : this.dropped.get(toHex(id))
  }

  /** The nonce `sender`'s next new tx should carry, counting its pending ones. */
  async nextNonce (sender: PublicKey): Promise<number> {
    const account = await readAccount(this.chain.store, sender)
    return account.nonce + this.mempool.pendingFor(sender).length
  }
}
