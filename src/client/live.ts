/**
 * Live subscriptions for apps, over the node's WebSocket (`/ws`). Browser-safe:
 * it uses the global WebSocket (browsers, Node 22+), or one you pass in.
 *
 *   const live = await LiveClient.connect('ws://127.0.0.1:26657/ws')
 *   await live.subscribe('posts', { followedBy: '@alice' }, (post) => render(post))
 */
import type * as R from '../api/results.ts'
import { RpcClientError } from './rpc-client.ts'

export type LiveTopic = typeof R.TOPIC_NAMES[number]
type Handler = (event: Record<string, unknown>) => void

/**
 * Why the node ended a subscription: its connection fell too far behind
 * (`SLOW_READER`), or its address or the node held too much unread (`RATE_LIMITED`,
 * `BUSY`). Subscribe again, on a new connection, with `filter.fromEventId =
 * fromEventId` to miss nothing and repeat nothing (null: subscribe afresh).
 */
export type SubscriptionDropped = R.SubscriptionDroppedView['params']
type DropHandler = (dropped: SubscriptionDropped) => void

interface MinimalSocket {
  readonly readyState: number
  send (data: string): void
  close (): void
  addEventListener (type: 'open' | 'message' | 'close' | 'error', fn: (ev: { data?: unknown }) => void): void
}
export type WebSocketLike = new (url: string) => MinimalSocket

export class LiveClient {
  private nextId = 1
  private readonly pending = new Map<number, { resolve: (v: unknown) => void, reject: (e: Error) => void }>()
  private readonly handlers = new Map<string, { onEvent: Handler, onDropped?: DropHandler }>()
  private readonly closeHandlers: Array<() => void> = []
  private open = true

  private constructor (private readonly socket: MinimalSocket) {
    socket.addEventListener('message', (ev) => this.onMessage(String(ev.data)))
    socket.addEventListener('close', () => {
      this.open = false
      for (const p of this.pending.values()) p.reject(new RpcClientError(-32002, 'connection closed', { code: 'UNAVAILABLE' }))
      this.pending.clear()
      this.handlers.clear()
      for (const fn of this.closeHandlers.splice(0)) fn()
    })
  }

  /** Whether the socket is still open: once closed, its subscriptions are over (connect again to resume). */
  get isOpen (): boolean { return this.open }

  /** Calls `fn` once the socket closes, whoever closed it (at once if it already has). */
  onClose (fn: () => void): void {
    if (this.open) this.closeHandlers.push(fn)
    else fn()
  }

  /** Opens the socket; rejects with UNAVAILABLE if it cannot. */
  static async connect (url: string, opts: { WebSocket?: WebSocketLike } = {}): Promise<LiveClient> {
    const Ctor = opts.WebSocket ?? (globalThis as unknown as { WebSocket?: WebSocketLike }).WebSocket
    if (Ctor === undefined) throw new RpcClientError(-32002, 'no WebSocket here: pass one in opts.WebSocket', { code: 'UNAVAILABLE' })
    const socket = new Ctor(url)
    await new Promise<void>((resolve, reject) => {
      socket.addEventListener('open', () => resolve())
      socket.addEventListener('error', () => reject(new RpcClientError(-32002, `cannot reach ${url}`, { code: 'UNAVAILABLE' })))
    })
    return new LiveClient(socket)
  }

  /** Any JSON-RPC method, over the socket. */
  async call<T> (method: string, params: unknown[] = []): Promise<T> {
    if (!this.open) throw new RpcClientError(-32002, 'connection closed', { code: 'UNAVAILABLE' })
    const id = this.nextId++
    const result = new Promise<unknown>((resolve, reject) => this.pending.set(id, { resolve, reject }))
    this.socket.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }))
    return await result as T
  }

  /**
   * Subscribes; `onEvent` gets each event (each has an `eventId`, "height:index"), and
   * `onDropped` is told if the node ends the subscription. Returns the subscription id.
   */
  async subscribe (topic: LiveTopic, filter: Record<string, unknown>, onEvent: Handler, onDropped?: DropHandler): Promise<string> {
    const id = await this.call<string>('subscribe', [topic, filter])
    this.handlers.set(id, onDropped === undefined ? { onEvent } : { onEvent, onDropped })
    return id
  }

  async unsubscribe (id: string): Promise<boolean> {
    this.handlers.delete(id)
    return await this.call<boolean>('unsubscribe', [id])
  }

  close (): void { this.socket.close() }

  private onMessage (text: string): void {
    let msg: { id?: number, result?: unknown, error?: { code: number, message: string, data?: { code?: string } }, method?: string, params?: { subscription: string, result: Record<string, unknown> } }
    try { msg = JSON.parse(text) } catch { return }
    if (msg.method === 'subscription' && msg.params !== undefined) {
      this.handlers.get(msg.params.subscription)?.onEvent(msg.params.result)
      return
    }
    if (msg.method === 'subscriptionDropped' && msg.params !== undefined) {
      const dropped = msg.params as unknown as SubscriptionDropped
      this.handlers.get(dropped.subscription)?.onDropped?.(dropped)
      this.handlers.delete(dropped.subscription)
      return
    }
    const p = msg.id === undefined ? undefined : this.pending.get(msg.id)
    if (p === undefined) return
    this.pending.delete(msg.id!)
    if (msg.error !== undefined) p.reject(new RpcClientError(msg.error.code, msg.error.message, msg.error.data))
    else p.resolve(msg.result)
  }
}
