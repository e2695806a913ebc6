/** An in-memory consensus network for in-process validators (real timers, asynchronous delivery). */
import type { ConsensusMessage, ConsensusTransport } from '../../src/consensus/transport.ts'

export class MemoryNetwork {
  private readonly handlers = new Map<string, (msg: ConsensusMessage, from: string) => void>()
  /** Every message sent, for the test to inspect. */
  readonly sent: Array<{ from: string, msg: ConsensusMessage }> = []

  transport (id: string): ConsensusTransport {
    return {
      broadcast: (msg) => {
        this.sent.push({ from: id, msg })
        for (const [peer, h] of this.handlers) if (peer !== id) setImmediate(() => h(msg, id))
      },
      send: (peer, msg) => {
        this.sent.push({ from: id, msg })
        const h = this.handlers.get(peer)
        if (h !== undefined) setImmediate(() => h(msg, id))
      },
      onMessage: (h) => { this.handlers.set(id, h) }
    }
  }

  /** Cuts a node off (a crashed process hears nothing). */
  remove (id: string): void { this.handlers.delete(id) }
}
