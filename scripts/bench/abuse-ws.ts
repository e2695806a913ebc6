/**
 * A bare WebSocket client for the abuse bench (scripts/bench/abuse.ts): a TCP socket
 * bound to a chosen loopback source address, the RFC 6455 handshake by hand, text
 * frames out, and a frame reader that can skip payloads without buffering them. It
 * costs the client almost nothing per message, so thousands of subscriptions can be
 * read on a small machine, and `pause()` stops reading at the TCP level (a slow
 * reader: the node's send buffer is what fills).
 */
import { randomBytes } from 'node:crypto'
import { type Socket, connect } from 'node:net'

export interface RawWsOptions {
  host: string
  port: number
  /** Source address of the TCP connection (a loopback address). */
  localAddress: string
  /** Handshake time limit. */
  timeoutMs: number
  /**
   * Called with each text message whose payload is at most `collectBytes` bytes
   * (`payload` null for a larger one, which is skipped without being buffered).
   */
  onMessage?: (payload: Buffer | null, length: number) => void
  /** Largest payload handed to onMessage (default 64 KiB). */
  collectBytes?: number
}

/** A refused handshake: the HTTP status line the node answered with, or the socket error. */
export class HandshakeError extends Error {}

export class RawWs {
  bytesIn = 0
  messagesIn = 0
  /** Resolves when the socket has closed, for any reason. */
  readonly closed: Promise<void>
  private open = true
  // frame reader state
  private header: Buffer | null = null
  private remaining = 0
  private length = 0
  private opcode = 0
  private collect = false
  private chunks: Buffer[] = []

  private constructor (private readonly socket: Socket, private readonly opts: RawWsOptions) {
    this.closed = new Promise((resolve) => socket.once('close', () => { this.open = false; resolve() }))
  }

  get isOpen (): boolean { return this.open && !this.socket.destroyed }

  /** The TCP source port (to match the socket in `ss` output). */
  get localPort (): number | undefined { return this.socket.localPort }

  /** Connects and upgrades; rejects with HandshakeError if the node refuses or does not answer in time. */
  static async connect (opts: RawWsOptions): Promise<RawWs> {
    const socket = connect({ host: opts.host, port: opts.port, localAddress: opts.localAddress })
    socket.setNoDelay(true)
    const ws = new RawWs(socket, opts)
    const key = randomBytes(16).toString('base64')
    await new Promise<void>((resolve, reject) => {
      let head = Buffer.alloc(0)
      const fail = (why: string): void => { cleanup(); socket.destroy(); reject(new HandshakeError(why)) }
      const timer = setTimeout(() => fail('handshake timeout'), opts.timeoutMs)
      const onError = (e: Error): void => fail((e as NodeJS.ErrnoException).code ?? e.message)
      const onClose = (): void => fail('closed during handshake')
      const onData = (d: Buffer): void => {
        head = Buffer.concat([head, d])
        const end = head.indexOf('\r\n\r\n')
        if (end < 0) { if (head.length > 16_384) fail('handshake response too long'); return }
        const status = head.subarray(0, head.indexOf('\r\n')).toString()
        if (!/^HTTP\/1\.1 101 /.test(status)) { fail(status.replace(/^HTTP\/1\.1 /, 'HTTP ')); return }
        cleanup()
        socket.on('data', (c: Buffer) => ws.onData(c))
        const rest = head.subarray(end + 4)
        if (rest.length > 0) ws.onData(rest)
        resolve()
      }
      const cleanup = (): void => { clearTimeout(timer); socket.off('data', onData); socket.off('error', onError); socket.off('close', onClose) }
      socket.on('data', onData)
      socket.once('error', onError)
      socket.once('close', onClose)
      socket.once('connect', () => socket.write(
        `GET /ws HTTP/1.1\r\nHost: ${opts.host}:${opts.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`))
    })
    socket.on('error', () => socket.destroy())
    return ws
  }

  /**
   * Sends one text message (masked with a zero key: legal framing, and no CPU spent
   * masking). Returns false once the socket is closed or its write buffer is full.
   */
  send (text: string): boolean {
    if (!this.isOpen) return false
    const payload = Buffer.from(text)
    const n = payload.length
    const head = n < 126 ? Buffer.from([0x81, 0x80 | n]) : n < 65536 ? Buffer.from([0x81, 0x80 | 126, n >> 8, n & 0xff]) : (() => {
      const h = Buffer.alloc(10)
      h[0] = 0x81; h[1] = 0x80 | 127
      h.writeBigUInt64BE(BigInt(n), 2)
      return h
    })()
    return this.socket.write(Buffer.concat([head, Buffer.alloc(4), payload]))
  }

  /** Stops reading: what the node sends piles up in its buffers, not ours. */
  pause (): void { this.socket.pause() }

  /** Closes at once (no close handshake). */
  destroy (): void { this.socket.destroy() }

  private onData (chunk: Buffer): void {
    this.bytesIn += chunk.length
    while (chunk.length > 0) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, chunk.length)
        if (this.collect) this.chunks.push(chunk.subarray(0, take))
        this.remaining -= take
        chunk = chunk.subarray(take)
        if (this.remaining === 0) this.finish()
        continue
      }
      const buf = this.header === null ? chunk : Buffer.concat([this.header, chunk])
      if (buf.length < 2) { this.header = buf; return }
      const len7 = buf[1]! & 0x7f
      const masked = (buf[1]! & 0x80) !== 0
      const extra = len7 === 126 ? 2 : len7 === 127 ? 8 : 0
      const headSize = 2 + extra + (masked ? 4 : 0)
      if (buf.length < headSize) { this.header = buf; return }
      this.header = null
      this.opcode = buf[0]! & 0x0f
      this.length = len7 === 126 ? buf.readUInt16BE(2) : len7 === 127 ? Number(buf.readBigUInt64BE(2)) : len7
      this.remaining = this.length
      this.collect = this.opcode === 1 && this.opts.onMessage !== undefined && this.length <= (this.opts.collectBytes ?? 65_536)
      this.chunks = []
      chunk = buf.subarray(headSize)
      if (this.remaining === 0) this.finish()
    }
  }

  private finish (): void {
    if (this.opcode === 8) { this.socket.destroy(); return }
    if (this.opcode !== 1 && this.opcode !== 0) return // ping/pong/binary: ignored
    this.messagesIn++
    if (this.opts.onMessage === undefined) return
    this.opts.onMessage(this.collect ? (this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks)) : null, this.length)
    this.chunks = []
  }
}
