import { describe, expect, it } from 'vitest'
import { type DropReason, Outbox, OutboxLedger, type OutboxLimits, type OutboxSocket } from '../../../src/rpc/outbox.ts'

/** A socket that writes out only when told to. */
class FakeSocket implements OutboxSocket {
  readonly pending: Array<{ text: string, cb: (err?: Error) => void }> = []
  readonly sent: string[] = []
  get bufferedAmount (): number { return this.pending.reduce((n, p) => n + p.text.length, 0) }
  send (text: string, cb: (err?: Error) => void): void {
    this.pending.push({ text, cb })
    this.sent.push(text)
  }

  /** Writes out the oldest `n` messages. */
  flush (n = Infinity): void {
    for (let i = 0; i < n && this.pending.length > 0; i++) this.pending.shift()!.cb()
  }
}

const LIMITS: OutboxLimits = { socketWindowBytes: 100, pauseAboveBytes: 300, maxBytes: 1000, maxBytesPerIp: 2500, maxTotalBytes: 4000 }

function outbox (ledger: OutboxLedger, ip = '10.0.0.1') {
  const socket = new FakeSocket()
  const log = { written: [] as number[], pressure: [] as boolean[], dropped: [] as DropReason[] }
  const box = new Outbox<number>(ip, socket, ledger, {
    written: (tag) => log.written.push(tag),
    pressure: (paused) => log.pressure.push(paused),
    dropped: (reason) => log.dropped.push(reason)
  })
  const push = (bytes: number, tag = 0) => box.push('x'.repeat(bytes), bytes, tag)
  return { box, socket, log, push }
}

describe('outbox', () => {
  it('hands the socket only its window, counts what waits, pauses above the mark and resumes once drained', async () => {
    const ledger = new OutboxLedger(LIMITS)
    const { box, socket, log, push } = outbox(ledger)
    for (let i = 0; i < 10; i++) push(50, i)
    expect(socket.sent.length).toBe(2) // 100 bytes: the window
    expect(box.bytes).toBe(500)
    expect(ledger.totalBytes).toBe(500)
    expect(log.written).toEqual([0, 1])
    expect(box.isPaused).toBe(true)
    expect(log.pressure).toEqual([true])

    let ready = false
    void box.ready().then(() => { ready = true })
    socket.flush(2) // two out: two more in
    expect(socket.sent.length).toBe(4)
    expect(box.bytes).toBe(400)
    expect(box.isPaused).toBe(true)
    socket.flush(2)
    expect(box.bytes).toBe(300)
    expect(box.isPaused).toBe(false)
    expect(log.pressure).toEqual([true, false])
    await new Promise((resolve) => setImmediate(resolve))
    expect(ready).toBe(true)
    socket.flush()
    socket.flush()
    socket.flush()
    expect(log.written).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    expect(box.bytes).toBe(0)
    expect(ledger.totalBytes).toBe(0)
  })

  it('drops a connection with more than maxBytes waiting behind the message being written, and lets one large message through', () => {
    const ledger = new OutboxLedger({ ...LIMITS, maxBytesPerIp: 1e9, maxTotalBytes: 1e9 })
    const { box, socket, log, push } = outbox(ledger)
    expect(push(5000)).toBe(true) // one answer larger than the bound: it is written
    expect(log.dropped).toEqual([])
    push(600)
    push(400)
    expect(log.dropped).toEqual([])
    push(1) // 1001 behind the one being written
    expect(log.dropped).toEqual(['SLOW_READER'])
    expect(box.isOpen).toBe(false)
    expect(push(10)).toBe(false)
    expect(ledger.totalBytes).toBe(0)
    socket.flush() // late write callbacks change nothing
    expect(ledger.totalBytes).toBe(0)
  })

  it('past its IP\'s bound drops that IP\'s connection holding most; past the node\'s, the one holding most of all', () => {
    const ledger = new OutboxLedger({ ...LIMITS, maxBytes: 2000 })
    const a1 = outbox(ledger, 'a')
    const a2 = outbox(ledger, 'a')
    const b = outbox(ledger, 'b')
    for (let i = 0; i < 9; i++) a1.push(100)
    for (let i = 0; i < 8; i++) a2.push(100)
    expect(ledger.bytesOf('a')).toBe(1700)
    for (let i = 0; i < 9; i++) a2.push(100) // a: 2600 > 2500; a2 holds most
    expect(a2.log.dropped).toEqual(['RATE_LIMITED'])
    expect(a1.log.dropped).toEqual([])
    expect(ledger.bytesOf('a')).toBe(900)

    const c = outbox(ledger, 'c')
    for (let i = 0; i < 10; i++) b.push(100)
    for (let i = 0; i < 10; i++) c.push(100)
    for (let i = 0; i < 9; i++) c.push(10)
    expect(ledger.totalBytes).toBe(900 + 1000 + 1090)
    const d = outbox(ledger, 'd')
    for (let i = 0; i < 10; i++) d.push(100)
    for (let i = 0; i < 2; i++) d.push(10) // 4010 > 4000
    expect(ledger.totalBytes).toBe(4010 - 1090)
    expect(c.log.dropped).toEqual(['BUSY']) // c held most (1090)
    expect([a1, b, d].every((o) => o.log.dropped.length === 0)).toBe(true)
  })
})
