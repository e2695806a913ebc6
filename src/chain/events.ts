/**
 * The one place "block committed" comes from (DESIGN §8, chain events). The
 * chain emits it right after the block's batch is durable (not under its lock:
 * admissions against the decided block may be under way), whoever committed it
 * (consensus or sync); mempool upkeep, tx
 * waiters, RPC subscriptions, the block topic and the consensus driver
 * subscribe. Listeners run synchronously, in subscription order, and must not
 * throw: an error is reported to `onListenerError` and the rest still run.
 */
import type { Commit } from '../protocol/types.ts'
import type { CheckedBlock } from './chain.ts'

export interface BlockCommitted {
  checked: CheckedBlock
  commit: Commit
  /** Per sender (binaryKey), the nonce its next tx needs after the block (mempool.nextNonces): made once a block. */
  nextNonces: ReadonlyMap<string, number>
}

export type CommitListener = (e: BlockCommitted) => void

export class ChainEvents {
  private readonly listeners: CommitListener[] = []
  /** Where a listener's error goes (the node logs it). */
  onListenerError: (e: unknown) => void = () => {}

  /** Subscribes; the returned function unsubscribes. */
  onCommitted (fn: CommitListener): () => void {
    this.listeners.push(fn)
    return () => {
      const i = this.listeners.indexOf(fn)
      if (i >= 0) this.listeners.splice(i, 1)
    }
  }

  emitCommitted (e: BlockCommitted): void {
    for (const fn of [...this.listeners]) {
      try {
        fn(e)
      } catch (err) {
        this.onListenerError(err)
      }
    }
  }
}
