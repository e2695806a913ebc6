/**
 * JSON-RPC over WebSocket at /ws: every HTTP method, plus `subscribe(topic, filter)`
 * and `unsubscribe(id)`. Bounded: message size, subscriptions per connection,
 * connections, and a slow reader is disconnected rather than buffered without end.
 */
import type { IncomingMessage, Server } from 'node:http'
import type { Duplex } from 'node:stream'
import { type WebSocket, WebSocketServer } from 'ws'
import type { Logger } from '../logger.ts'
import { type Caller, newCaller } from './admission.ts'
import type { RpcContext } from './context.ts'
import { RpcCode, toRpcError } from './errors.ts'
import { SubscriptionHub, parseSubscription } from './subscriptions.ts'
import type { Json } from './views.ts'

export interface WsOptions {
  maxMessageBytes: number
  maxConnections: number
  maxSubscriptionsPerConnection: number
  /** Past this many bytes queued to a client, it is too slow: close it. */
  maxBufferedBytes: number
  /** Whether an upgrade request may connect (its Host and Origin); the HTTP server's policy. */
  admit: (req: IncomingMessage) => boolean
}

export const DEFAULT_WS_OPTIONS: WsOptions = { maxMessageBytes: 1024 * 1024, maxConnections: 1000, maxSubscriptionsPerConnection: 100, maxBufferedBytes: 8 * 1024 * 1024, admit: () => true }

/** Answers one JSON-RPC request object from `caller` (the HTTP server's handler, with its admission). */
export type CallOne = (req: unknown, caller: Caller) => Promise<Record<string, unknown> | null>

export class WsRpc {
  private readonly hub: SubscriptionHub
  private readonly wss: WebSocketServer

  constructor (private readonly opts: WsOptions, private readonly ctx: RpcContext, private readonly callOne: CallOne, private readonly log: Logger) {
    this.hub = new SubscriptionHub(ctx)
    this.wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxMessageBytes })
    this.wss.on('connection', (ws: WebSocket, req: IncomingMessage) => this.onConnection(ws, req))
  }

  attach (server: Server): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (req.url !== '/ws' || this.wss.clients.size >= this.opts.maxConnections || !this.opts.admit(req)) {
        const status = req.url !== '/ws' ? '404 Not Found' : !this.opts.admit(req) ? '403 Forbidden' : '503 Service Unavailable'
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

  private onConnection (ws: WebSocket, req: IncomingMessage): void {
    const closed = new AbortController()
    const caller = newCaller(req.socket.remoteAddress, closed.signal)
    const mine = new Set<string>()
    const send = (msg: unknown) => {
      if (ws.readyState !== ws.OPEN) return
      if (ws.bufferedAmount > this.opts.maxBufferedBytes) { ws.terminate(); return }
      ws.send(JSON.stringify(msg))
    }
    ws.on('close', () => { closed.abort(); for (const id of mine) this.hub.remove(id) })
    ws.on('error', () => ws.terminate())
    ws.on('message', (data) => {
      this.onMessage(data.toString(), send, mine, caller).catch((e) => this.log.error('WebSocket message failed', { error: (e as Error).message }))
    })
  }

  private async onMessage (text: string, send: (msg: unknown) => void, mine: Set<string>, caller: Caller): Promise<void> {
    let req: { jsonrpc?: unknown, id?: unknown, method?: unknown, params?: unknown }
    try {
      req = JSON.parse(text)
    } catch {
      send({ jsonrpc: '2.0', id: null, error: { code: RpcCode.PARSE_ERROR, message: 'parse error: message is not JSON' } })
      return
    }
    const isObject = typeof req === 'object' && req !== null && !Array.isArray(req)
    if (!isObject || (req.method !== 'subscribe' && req.method !== 'unsubscribe')) {
      const out = await this.callOne(req, caller)
      if (out !== null) send(out)
      return
    }
    const id = (typeof req.id === 'string' || typeof req.id === 'number') ? req.id : null
    const params = Array.isArray(req.params) ? req.params : []
    try {
      if (req.method === 'unsubscribe') {
        const sub = String(params[0] ?? '')
        send({ jsonrpc: '2.0', id, result: mine.delete(sub) && this.hub.remove(sub) })
        return
      }
      if (mine.size >= this.opts.maxSubscriptionsPerConnection) {
        send({ jsonrpc: '2.0', id, error: { code: RpcCode.INVALID_REQUEST, message: `at most ${this.opts.maxSubscriptionsPerConnection} subscriptions a connection`, data: { code: 'TOO_LARGE' } } })
        return
      }
      const { filter, after } = await parseSubscription(this.ctx, params[0], params[1])
      const sub = this.hub.add(filter, after, (event: Json) => send({ jsonrpc: '2.0', method: 'subscription', params: { subscription: sub.id, result: event } }))
      mine.add(sub.id)
      send({ jsonrpc: '2.0', id, result: sub.id })
      await this.hub.catchUp(sub)
    } catch (e) {
      send({ jsonrpc: '2.0', id, error: toRpcError(e) })
    }
  }
}
