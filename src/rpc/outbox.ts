/**
 * What is queued for each WebSocket connection, counted in bytes, and the node's
 * ledger of it: per connection, per IP and in total (issue #7, items 4 and 5).
 *
 * A connection's messages wait here as strings and are handed to its socket at
 * most `socketWindowBytes` ahead of what the socket has written out (ws's send
 * callback). What a connection holds ("its bytes") is what waits here plus what
 * its socket has not written yet (the larger of our count and ws.bufferedAmount).
 *
 *   bytes > pauseAboveBytes                the connection's requests are not read
 *                                          (ws.pause()) until it drains to the mark;
 *                                          replays wait for it too
 *   bytes, beyond the message being        the reader is too slow: dropped, SLOW_READER
 *   written, > maxBytes
 *   one IP's connections > maxBytesPerIp   that IP's connection holding most: RATE_LIMITED
 *   all connections > maxTotalBytes        the connection holding most: BUSY
 *
 * A single message may be larger than maxBytes (a response is bounded by the HTTP
 * server's maxResponseBytes); what may wait behind it is not.
 *
 * A dropped connection is closed with the code and reason of DROP_CLOSE (websocket.ts
 * sends each subscription's `subscriptionDropped` notification first). Close codes:
 *
 *   4008 "SLOW_READER"    more than maxBytes queued for this connection
 *   4029 "RATE_LIMITED"   its IP's connections together held more than maxBytesPerIp
 *   1013 "BUSY"           (Try Again Later) the node's connections together held more
 *                         than maxTotalBytes, and this one held most
 *
 * No timers and no sockets of its own: the socket is anything with `send(text, cb)`.
 */

export interface OutboxLimits {
  /** Bytes handed to the socket ahead of what it has written out. */
  socketWindowBytes: number
  /** Above this, the connection's requests are not read until it drains. */
  pauseAboveBytes: number
  /** Past this, queued behind the message being written, the connection is dropped (SLOW_READER). */
  maxBytes: number
  /** One IP's connections together; past it, its largest is dropped (RATE_LIMITED). */
  maxBytesPerIp: number
  /** Every connection together; past it, the largest is dropped (BUSY). */
  maxTotalBytes: number
}

export const DEFAULT_OUTBOX_LIMITS: OutboxLimits = {
  socketWindowBytes: 256 * 1024,
  pauseAboveBytes: 1024 * 1024,
  maxBytes: 4 * 1024 * 1024,
  maxBytesPerIp: 16 * 1024 * 1024,
  maxTotalBytes: 64 * 1024 * 1024
}

/** Why a connection was dropped; also its WebSocket close reason. */
export type DropReason = 'SLOW_READER' | 'RATE_LIMITED' | 'BUSY'

/** The WebSocket close code for each reason (4000–4999 are for applications; 1013 is "Try Again Later"). */
export const DROP_CLOSE: Record<DropReason, { code: number, reason: DropReason }> = {
  SLOW_READER: { code: 4008, reason: 'SLOW_READER' },
  RATE_LIMITED: { code: 4029, reason: 'RATE_LIMITED' },
  BUSY: { code: 1013, reason: 'BUSY' }
}

/** What an outbox writes to: ws's WebSocket (and, to cork, its TCP socket). */
export interface OutboxSocket {
  send (data: string, cb: (err?: Error) => void): void
  readonly bufferedAmount: number
  /** Holds writes until `uncork`, so that the messages of one turn go out in one system call. */
  cork?: () => void
  uncork?: () => void
}

export interface OutboxHooks<T> {
  /** A message was handed to the socket (after every earlier one); `tag` as pushed. */
  written: (tag: T) => void
  /** Crossed the pause mark: true, stop reading the connection's requests; false, read again. */
  pressure: (paused: boolean) => void
  /** The connection must be dropped; the outbox has already stopped taking messages. Called once. */
  dropped: (reason: DropReason) => void
}

/** A first-in first-out queue with O(1) shift. */
class Fifo<T> {
  private items: Array<T | undefined> = []
  private head = 0

  get length (): number { return this.items.length - this.head }
  peek (): T | undefined { return this.items[this.head] }
  push (item: T): void { this.items.push(item) }
  shift (): T | undefined {
    if (this.head >= this.items.length) return undefined
    const item = this.items[this.head]
    this.items[this.head++] = undefined
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head)
      this.head = 0
    }
    return item
  }

  clear (): void {
    this.items = []
    this.head = 0
  }
}

interface Item<T> { text: string, bytes: number, tag: T }

type State = 'open' | 'dropped' | 'closed'

export class Outbox<T> {
  private readonly queue = new Fifo<Item<T>>()
  /** Sizes of the messages handed to the socket and not yet written out, oldest first. */
  private readonly writing = new Fifo<number>()
  private queuedBytes = 0
  private writingBytes = 0
  private paused = false
  private corked = false
  private state: State = 'open'
  private waiters: Array<() => void> = []
  /** The most this connection has held at once. */
  peakBytes = 0

  constructor (readonly ip: string, private readonly socket: OutboxSocket, private readonly ledger: OutboxLedger, private readonly hooks: OutboxHooks<T>) {
    ledger.open(this)
  }

  /** What the connection holds: queued here, and handed to the socket but not written out. */
  get bytes (): number { return this.queuedBytes + Math.max(this.writingBytes, this.socket.bufferedAmount) }
  /** The same, as the ledger counts it (our own counts, no framing). */
  get countedBytes (): number { return this.queuedBytes + this.writingBytes }
  get isPaused (): boolean { return this.paused }
  get isOpen (): boolean { return this.state === 'open' }

  /** The message being written out (or next to be): what may exceed maxBytes on its own. */
  private get headBytes (): number { return this.writing.peek() ?? this.queue.peek()?.bytes ?? 0 }

  /** Whether more than maxBytes waits behind the message being written. */
  get overLimit (): boolean { return this.bytes - this.headBytes > this.ledger.limits.maxBytes }

  /**
   * Queues `text` (`bytes` long in UTF-8) and writes what the socket window allows.
   * False when the outbox no longer takes messages (dropped or closed). May drop this
   * connection, or another one, past a bound.
   */
  push (text: string, bytes: number, tag: T): boolean {
    if (this.state !== 'open') return false
    this.queue.push({ text, bytes, tag })
    this.queuedBytes += bytes
    this.ledger.grew(this, bytes)
    this.pump()
    const held = this.bytes
    if (held > this.peakBytes) this.peakBytes = held
    this.ledger.enforce(this)
    this.checkPressure()
    return true
  }

  /** Resolves once the connection holds no more than the pause mark (or is gone). */
  async ready (): Promise<void> {
    if (this.state !== 'open' || !this.paused) return
    await new Promise<void>((resolve) => this.waiters.push(resolve))
  }

  /**
   * Stops taking messages and forgets what waits here (what the socket holds it
   * still writes); the ledger no longer counts this connection.
   */
  drop (): void {
    if (this.state !== 'open') return
    this.state = 'dropped'
    this.forget()
  }

  /** The socket closed. */
  close (): void {
    if (this.state === 'closed') return
    const wasOpen = this.state === 'open'
    this.state = 'closed'
    if (wasOpen) this.forget()
  }

  /** Called by the ledger when a bound picks this connection. */
  evict (reason: DropReason): void {
    if (this.state !== 'open') return
    this.drop()
    this.hooks.dropped(reason)
  }

  private forget (): void {
    this.ledger.leave(this)
    this.queue.clear()
    this.queuedBytes = 0
    this.wake()
  }

  private pump (): void {
    const window = this.ledger.limits.socketWindowBytes
    if (!this.corked && this.socket.cork !== undefined && this.queue.length > 0 && this.writingBytes < window) {
      // what this turn writes goes out together (one writev, not one a message)
      this.corked = true
      this.socket.cork()
      process.nextTick(() => {
        this.corked = false
        this.socket.uncork?.()
      })
    }
    while (this.state === 'open' && this.queue.length > 0 && this.writingBytes < window) {
      const item = this.queue.shift()!
      this.queuedBytes -= item.bytes
      this.writingBytes += item.bytes
      this.writing.push(item.bytes)
      this.socket.send(item.text, () => this.written(item.bytes))
      this.hooks.written(item.tag)
    }
  }

  /** The socket wrote a message out (or failed to: it is closing). */
  private written (bytes: number): void {
    if (this.state === 'closed') return
    this.writing.shift()
    this.writingBytes -= bytes
    if (this.state !== 'open') return
    this.ledger.shrank(this, bytes)
    this.pump()
    this.checkPressure()
  }

  private checkPressure (): void {
    if (this.state !== 'open') return
    const over = this.bytes > this.ledger.limits.pauseAboveBytes
    if (over !== this.paused) {
      this.paused = over
      this.hooks.pressure(over)
    }
    if (!over) this.wake()
  }

  private wake (): void {
    const waiters = this.waiters
    this.waiters = []
    for (const w of waiters) w()
  }
}

/** What the ledger sees of an outbox. */
interface Metered {
  readonly ip: string
  readonly countedBytes: number
  readonly overLimit: boolean
  evict (reason: DropReason): void
}

interface IpLoad { bytes: number, outboxes: Set<Metered> }

/** The node's count of bytes held for WebSocket connections, and who gets dropped past its bounds. */
export class OutboxLedger {
  private total = 0
  private readonly all = new Set<Metered>()
  private readonly ips = new Map<string, IpLoad>()

  constructor (readonly limits: OutboxLimits = DEFAULT_OUTBOX_LIMITS) {}

  /** Bytes held for every connection. */
  get totalBytes (): number { return this.total }
  /** Bytes held for the connections from `ip`. */
  bytesOf (ip: string): number { return this.ips.get(ip)?.bytes ?? 0 }

  open (o: Metered): void {
    this.all.add(o)
    let ip = this.ips.get(o.ip)
    if (ip === undefined) {
      ip = { bytes: 0, outboxes: new Set() }
      this.ips.set(o.ip, ip)
    }
    ip.outboxes.add(o)
  }

  /** Forgets `o` and what it held. */
  leave (o: Metered): void {
    if (!this.all.delete(o)) return
    const n = o.countedBytes
    this.total -= n
    const ip = this.ips.get(o.ip)!
    ip.bytes -= n
    ip.outboxes.delete(o)
    if (ip.outboxes.size === 0) this.ips.delete(o.ip)
  }

  grew (o: Metered, n: number): void { this.add(o, n) }
  shrank (o: Metered, n: number): void { this.add(o, -n) }

  private add (o: Metered, n: number): void {
    this.total += n
    this.ips.get(o.ip)!.bytes += n
  }

  /** After `o` grew: drops `o` past its own bound, else its IP's largest past the IP's, else the node's largest past the total. */
  enforce (o: Metered): void {
    if (o.overLimit) {
      o.evict('SLOW_READER')
      return
    }
    const ip = this.ips.get(o.ip)
    while (ip !== undefined && ip.bytes > this.limits.maxBytesPerIp) {
      if (!evictLargest(ip.outboxes, 'RATE_LIMITED')) break
    }
    while (this.total > this.limits.maxTotalBytes) {
      if (!evictLargest(this.all, 'BUSY')) break
    }
  }
}

function evictLargest (outboxes: Iterable<Metered>, reason: DropReason): boolean {
  let largest: Metered | null = null
  for (const o of outboxes) if (largest === null || o.countedBytes > largest.countedBytes) largest = o
  if (largest === null || largest.countedBytes === 0) return false
  largest.evict(reason)
  return true
}
