/**
 * Validators in one process: every message reaches every other node on the
 * next turn of the event loop. For `chorus localnet`, tests and benchmarks.
 */
import type { ConsensusMessage, ConsensusTransport } from './transport.ts'

export class MemoryNetwork {
  private readonly handlers = new Map<string, (msg: ConsensusMessage, from: string) => void>()
  /** Every message sent, when `record` is set (tests inspect them). */
  readonly sent: Array<{ from: string, msg: ConsensusMessage }> = []

  constructor (private readonly record = false) {}

  transport (id: string): ConsensusTransport {
    return {
      broadcast: (msg) => {
        if (this.record) this.sent.push({ from: id, msg })
        for (const [peer, h] of this.handlers) if (peer !== id) setImmediate(() => h(msg, id))
      },
      send: (peer, msg) => {
        if (this.record) this.sent.push({ from: id, msg })
        const h = this.handlers.get(peer)
        if (h !== undefined) setImmediate(() => h(msg, id))
      },
      onMessage: (h) => { this.handlers.set(id, h) }
    }
  }

  /** Cuts a node off (a crashed process hears nothing). */
  remove (id: string): void { this.handlers.delete(id) }
}
