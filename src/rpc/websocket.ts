/**
 * JSON-RPC over WebSocket at /ws: every HTTP method, plus `subscribe(topic, filter)`
 * and `unsubscribe(id)`. Bounded: message size, subscriptions per connection,
 * connections, and the bytes queued for each connection, for each IP and for all
 * of them (outbox.ts): what waits for a client counts, not only its socket's buffer.
 *
 * - Everything a connection is sent goes through its Outbox. While it holds more
 *   than the pause mark (1 MiB), its requests are not read (ws.pause(); a request
 *   already read waits until it drains), so a client that does not read cannot make
 *   the node work for it either.
 * - A connection past a bound is dropped: what waits for it is forgotten, each of
 *   its subscriptions gets a last notification
 *     {"jsonrpc":"2.0","method":"subscriptionDropped","params":{"subscription":ID,
 *      "reason":REASON,"lastEventId":"h:i"|null,"fromEventId":"h:i"|null,"message":TEXT}}
 *   where lastEventId is the last event of that subscription handed to the socket
 *   (null if none) and fromEventId is what to subscribe again with to miss nothing
 *   and repeat nothing (null for a txStatus with no event sent: subscribe afresh);
 *   then the socket is closed with the reason's code:
 *     4008 "SLOW_READER"    more than maxBytes (4 MiB) queued for this connection
 *                           behind the message being written
 *     4029 "RATE_LIMITED"   its IP's connections held more than maxBytesPerIp (16 MiB)
 *     1013 "BUSY"           all connections held more than maxTotalBytes (64 MiB), this one most
 *   (REASON is the close reason; the notifications come before the close frame.)
 */
import type { IncomingMessage, Server } from 'node:http'
import type { Duplex } from 'node:stream'
import { type RawData, type WebSocket, WebSocketServer } from 'ws'
import type { Logger } from '../logger.ts'
import { type Caller, type QueuedBytes, newCaller } from './admission.ts'
import type { RpcContext } from './context.ts'
import { RpcCode, type RpcError, toRpcError } from './errors.ts'
import { DEFAULT_OUTBOX_LIMITS, DROP_CLOSE, type DropReason, Outbox, OutboxLedger, type OutboxLimits } from './outbox.ts'
import type { RpcObserver } from './server.ts'
import { type Subscription, SubscriptionHub, type SubscriptionSink, parseSubscription } from './subscriptions.ts'

export interface WsOptions {
  maxMessageBytes: number
  maxConnections: number
  maxSubscriptionsPerConnection: number
  /** Bytes queued for connections: the pause mark, and the bounds per connection, per IP and in total. */
  outbox: OutboxLimits
  /** Whether an upgrade request may connect (its Host and Origin); the HTTP server's policy. */
  admit: (req: IncomingMessage) => boolean
}

export const DEFAULT_WS_OPTIONS: WsOptions = {
  maxMessageBytes: 1024 * 1024,
  maxConnections: 1000,
  maxSubscriptionsPerConnection: 100,
  outbox: DEFAULT_OUTBOX_LIMITS,
  admit: () => true
}

/** How long a dropped client has to answer the close frame before its socket is cut. */
const DROP_GRACE_MS = 2_000

/** Answers one JSON-RPC request object from `caller` (the HTTP server's handler, with its admission): an object, its JSON text, or null. */
export type CallOne = (req: unknown, caller: Caller) => Promise<Record<string, unknown> | string | null>

/** Tells a connection which subscription's event it wrote. */
interface Written { sub: Subscription, eventId: string }

interface Connection {
  readonly ws: WebSocket
  readonly caller: Caller
  readonly outbox: Outbox<Written | null>
  readonly subs: Map<string, Subscription>
  readonly sink: SubscriptionSink
  /** Subscribes still being set up (they count against the limit). */
  opening: number
  /** Requests read while the outbox was over its pause mark, run when it drains. */
  held: string[]
  dropped: boolean
}

/** What one connection holds, for stats and tests. */
export interface WsClientStats { callerId: number, ip: string, bytes: number, peakBytes: number, paused: boolean, subscriptions: number }

export class WsRpc {
  private readonly hub: SubscriptionHub
  private readonly wss: WebSocketServer
  private readonly ledger: OutboxLedger
  private readonly connections = new Set<Connection>()

  constructor (private readonly opts: WsOptions, private readonly ctx: RpcContext, private readonly callOne: CallOne, private readonly log: Logger, private readonly observer: RpcObserver | null = null) {
    this.hub = new SubscriptionHub(ctx, log)
    this.ledger = new OutboxLedger(opts.outbox)
    this.wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxMessageBytes })
    this.wss.on('connection', (ws: WebSocket, req: IncomingMessage) => this.onConnection(ws, req))
  }

  attach (server: Server): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (req.url !== '/ws' || this.wss.clients.size >= this.opts.maxConnections || !this.opts.admit(req)) {
        const status = req.url !== '/ws' ? '404 Not Found' : !this.opts.admit(req) ? '403 Forbidden' : '503 Service Unavailable'
        this.observer?.refused('websocket', status.startsWith('404') ? 'NOT_FOUND' : status.startsWith('403') ? 'FORBIDDEN' : 'BUSY')
        socket.end(`HTTP/1.1 ${status}\r\n\r\n`)
        return
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.wss.emit('connection', ws, req))
    })
  }

  close (): void {
    this.hub.close()
    for (const ws of this.wss.clients) ws.terminate()
    this.wss.close()
  }

  /** Bytes queued for the connections, in all and per IP (admission counts them against the same shares as HTTP answers). */
  get queued (): QueuedBytes { return this.ledger }

  /** Bytes queued for all connections, each connection's load, and the hub's. */
  stats (): { queuedBytes: number, clients: WsClientStats[], hub: ReturnType<SubscriptionHub['stats']> } {
    return {
      queuedBytes: this.ledger.totalBytes,
      clients: [...this.connections].map((c) => ({ callerId: c.caller.id, ip: c.caller.ip, bytes: c.outbox.bytes, peakBytes: c.outbox.peakBytes, paused: c.outbox.isPaused, subscriptions: c.subs.size })),
      hub: this.hub.stats()
    }
  }

  private onConnection (ws: WebSocket, req: IncomingMessage): void {
    const closed = new AbortController()
    const caller = newCaller(req.socket.remoteAddress, closed.signal)
    const conn: Connection = {
      ws, caller, subs: new Map(), opening: 0, held: [], dropped: false,
      outbox: new Outbox<Written | null>(caller.ip, {
        send: (text, cb) => ws.send(text, cb),
        get bufferedAmount () { return ws.bufferedAmount },
        // ws writes to the upgraded request's socket: corked, a turn's messages leave in one writev
        cork: () => req.socket.cork(),
        uncork: () => req.socket.uncork()
      }, this.ledger, {
        written: (w) => { if (w !== null) w.sub.written = w.eventId },
        pressure: (paused) => { if (paused) ws.pause(); else queueMicrotask(() => this.readAgain(conn)) },
        dropped: (reason) => this.drop(conn, reason)
      }),
      sink: {
        notify: (sub, text, bytes, eventId) => { conn.outbox.push(text, bytes, { sub, eventId }) },
        ready: async () => await conn.outbox.ready(),
        ended: (sub) => { conn.subs.delete(sub.id) }
      }
    }
    this.connections.add(conn)
    ws.on('close', () => {
      closed.abort()
      conn.outbox.close()
      conn.held = []
      for (const sub of conn.subs.values()) this.hub.remove(sub)
      conn.subs.clear()
      this.connections.delete(conn)
    })
    ws.on('error', () => ws.terminate())
    ws.on('message', (data: RawData) => {
      if (conn.dropped) return
      const text = data.toString()
      if (conn.outbox.isPaused || conn.held.length > 0) conn.held.push(text) // read before the pause took hold
      else this.handle(conn, text)
    })
  }

  /** The outbox drained to its mark: run the requests held, then read the socket again. */
  private readAgain (conn: Connection): void {
    if (conn.dropped || conn.ws.readyState !== conn.ws.OPEN) return
    while (conn.held.length > 0 && !conn.outbox.isPaused && !conn.dropped) this.handle(conn, conn.held.shift()!)
    if (!conn.outbox.isPaused && !conn.dropped) conn.ws.resume()
  }

  private handle (conn: Connection, text: string): void {
    this.onMessage(conn, text).catch((e) => this.log.error('WebSocket message failed', { error: (e as Error).message }))
  }

  private send (conn: Connection, msg: Record<string, unknown> | string): void {
    const text = typeof msg === 'string' ? msg : JSON.stringify(msg)
    conn.outbox.push(text, Buffer.byteLength(text), null)
  }

  /**
   * Past a bound: forgets what waits for the connection, tells each subscription
   * where it stopped, and closes the socket with the reason's code (see the header).
   */
  private drop (conn: Connection, reason: DropReason): void {
    if (conn.dropped) return
    conn.dropped = true
    conn.held = []
    const { ws } = conn
    ws.resume() // to read the client's close frame (its messages are ignored now)
    const message = reason === 'SLOW_READER'
      ? `more than ${this.opts.outbox.maxBytes} bytes were queued for this connection: read faster, then subscribe again with fromEventId`
      : reason === 'RATE_LIMITED'
        ? `more than ${this.opts.outbox.maxBytesPerIp} bytes were queued for connections from ${conn.caller.ip}`
        : 'the node is at its limit of bytes queued for WebSocket clients: retry shortly with fromEventId'
    for (const sub of conn.subs.values()) {
      this.hub.remove(sub)
      if (ws.readyState !== ws.OPEN) continue
      ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'subscriptionDropped', params: { subscription: sub.id, reason, lastEventId: sub.written, fromEventId: sub.resumeFrom, message } }))
    }
    conn.subs.clear()
    this.observer?.dropped(reason)
    this.log.info('WebSocket client dropped', { reason, ip: conn.caller.ip, peakBytes: conn.outbox.peakBytes })
    if (ws.readyState === ws.OPEN) ws.close(DROP_CLOSE[reason].code, DROP_CLOSE[reason].reason)
    // a client that does not read never answers the close frame either: cut it off
    setTimeout(() => ws.terminate(), DROP_GRACE_MS).unref()
  }

  private async onMessage (conn: Connection, text: string): Promise<void> {
    let req: { jsonrpc?: unknown, id?: unknown, method?: unknown, params?: unknown }
    try {
      req = JSON.parse(text)
    } catch {
      this.send(conn, { jsonrpc: '2.0', id: null, error: { code: RpcCode.PARSE_ERROR, message: 'parse error: message is not JSON' } })
      return
    }
    const isObject = typeof req === 'object' && req !== null && !Array.isArray(req)
    if (!isObject || (req.method !== 'subscribe' && req.method !== 'unsubscribe')) {
      const out = await this.callOne(req, conn.caller)
      if (out !== null) this.send(conn, out)
      return
    }
    const id = (typeof req.id === 'string' || typeof req.id === 'number') ? req.id : null
    const params = Array.isArray(req.params) ? req.params : []
    const method = req.method
    const started = performance.now()
    const observed = (error: RpcError | null) => this.observer?.call(method, error, (performance.now() - started) / 1000)
    if (req.method === 'unsubscribe') {
      const sub = conn.subs.get(String(params[0] ?? ''))
      conn.subs.delete(sub?.id ?? '')
      this.send(conn, { jsonrpc: '2.0', id, result: sub !== undefined && this.hub.remove(sub) })
      observed(null)
      return
    }
    if (conn.subs.size + conn.opening >= this.opts.maxSubscriptionsPerConnection) {
      const error = { code: RpcCode.INVALID_REQUEST, message: `at most ${this.opts.maxSubscriptionsPerConnection} subscriptions a connection`, data: { code: 'TOO_LARGE' } }
      this.send(conn, { jsonrpc: '2.0', id, error })
      observed(error)
      return
    }
    conn.opening++
    let sub: Subscription
    try {
      const { filter, after } = await parseSubscription(this.ctx, params[0], params[1])
      sub = await this.hub.add(filter, after, conn.sink)
    } catch (e) {
      const error = toRpcError(e)
      this.send(conn, { jsonrpc: '2.0', id, error })
      observed(error)
      return
    } finally {
      conn.opening--
    }
    if (conn.dropped || conn.ws.readyState !== conn.ws.OPEN) {
      this.hub.remove(sub)
      return
    }
    conn.subs.set(sub.id, sub)
    this.send(conn, { jsonrpc: '2.0', id, result: sub.id })
    observed(null)
    this.hub.start(sub)
  }
}
