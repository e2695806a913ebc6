/** Callers waiting for a tx to be included (tx_submit with wait: "commit", the CLI). */
import { parseHex, toHex } from '../crypto/bytes.ts'
import { ChorusError, ErrorCode } from '../protocol/errors.ts'
import type { Block } from '../protocol/types.ts'
import type { ChainEvents } from './events.ts'

/** Where a tx was included. */
type Location = { height: number, index: number }

interface Waiter {
  resolve: (at: Location) => void
  reject: (e: Error) => void
  timer: NodeJS.Timeout
}

export class TxWaiters {
  private readonly waiting = new Map<string, Waiter[]>()

  /** Settles waiters at every commit; `gone` says why a tx left the mempool without inclusion. */
  constructor (events: ChainEvents, private readonly gone: (id: Uint8Array) => ChorusError | undefined) {
    events.onCommitted(({ checked }) => this.onBlock(checked.block))
  }

  /**
   * Resolves with where `id` is included: at once when `where` (the tx index) finds it, else at
   * the commit that includes it. The waiter is in place before `where` reads, so a block that
   * commits while it reads is heard: looking first and listening after missed such a block, and
   * the caller waited out `timeoutMs` for a tx already in the chain.
   */
  async wait (id: Uint8Array, timeoutMs: number, where: () => Promise<Location | null> = async () => null): Promise<Location> {
    const key = toHex(id)
    let w!: Waiter
    const included = new Promise<Location>((resolve, reject) => {
      w = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.remove(key, w)
          reject(new ChorusError(ErrorCode.TIMEOUT, `tx ${key} not included within ${timeoutMs} ms; it may still be`, { id: key }))
        }, timeoutMs)
      }
      const list = this.waiting.get(key) ?? []
      list.push(w)
      this.waiting.set(key, list)
    })
    // it may be rejected (its time, the node stopping, the tx dropped) while `where` reads: not unhandled then
    included.catch(() => {})
    let found: Location | null
    try {
      found = await where()
    } catch (e) {
      this.settle(key, w)
      throw e
    }
    if (found === null) return await included
    this.settle(key, w) // the index answered (a commit meanwhile may have too)
    return found
  }

  /** Stops `w` waiting (its timer and its place). */
  private settle (key: string, w: Waiter): void {
    clearTimeout(w.timer)
    this.remove(key, w)
  }

  /**
   * After a commit: resolves waiters of included txs; rejects those whose tx
   * `gone` says left the mempool without inclusion, with the reason.
   */
  private onBlock (block: Block): void {
    const gone = this.gone
    block.txs.forEach((tx, index) => {
      const key = toHex(tx.id)
      for (const w of this.waiting.get(key) ?? []) { clearTimeout(w.timer); w.resolve({ height: block.header.height, index }) }
      this.waiting.delete(key)
    })
    for (const [key, list] of this.waiting) {
      const why = gone(parseHex(key)!)
      if (why === undefined) continue
      for (const w of list) { clearTimeout(w.timer); w.reject(why) }
      this.waiting.delete(key)
    }
  }

  /** Fails every waiter (the node is stopping). */
  close (): void {
    for (const list of this.waiting.values()) for (const w of list) { clearTimeout(w.timer); w.reject(new ChorusError(ErrorCode.UNAVAILABLE, 'node is stopping')) }
    this.waiting.clear()
  }

  private remove (key: string, w: Waiter): void {
    const list = (this.waiting.get(key) ?? []).filter((x) => x !== w)
    if (list.length === 0) this.waiting.delete(key)
    else this.waiting.set(key, list)
  }
}
