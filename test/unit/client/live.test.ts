import { describe, expect, it } from 'vitest'
import { LiveClient, type SubscriptionDropped, type WebSocketLike } from '../../../src/client/live.ts'

/** A socket that answers `subscribe` with an id and lets the test push notifications. */
class FakeSocket {
  static last: FakeSocket
  readonly readyState = 1
  private readonly listeners = new Map<string, Array<(ev: { data?: unknown }) => void>>()
  constructor () {
    FakeSocket.last = this
    queueMicrotask(() => this.emit('open', {}))
  }

  addEventListener (type: string, fn: (ev: { data?: unknown }) => void): void { this.listeners.set(type, [...this.listeners.get(type) ?? [], fn]) }
  send (data: string): void {
    const req = JSON.parse(data) as { id: number }
    queueMicrotask(() => this.push({ jsonrpc: '2.0', id: req.id, result: '0x1' }))
  }

  close (): void {}
  push (msg: unknown): void { this.emit('message', { data: JSON.stringify(msg) }) }
  private emit (type: string, ev: { data?: unknown }): void { for (const fn of this.listeners.get(type) ?? []) fn(ev) }
}

describe('LiveClient', () => {
  it('tells a subscriber that the node dropped it, with where to resume, and forgets the subscription', async () => {
    const live = await LiveClient.connect('ws://fake/ws', { WebSocket: FakeSocket as unknown as WebSocketLike })
    const events: unknown[] = []
    const drops: SubscriptionDropped[] = []
    const id = await live.subscribe('newHeads', {}, (e) => events.push(e), (d) => drops.push(d))
    FakeSocket.last.push({ jsonrpc: '2.0', method: 'subscription', params: { subscription: id, result: { eventId: '7:0' } } })
    const dropped = { subscription: id, reason: 'SLOW_READER', lastEventId: '7:0', fromEventId: '7:0', message: 'too far behind' }
    FakeSocket.last.push({ jsonrpc: '2.0', method: 'subscriptionDropped', params: dropped })
    FakeSocket.last.push({ jsonrpc: '2.0', method: 'subscription', params: { subscription: id, result: { eventId: '8:0' } } })
    expect(events).toEqual([{ eventId: '7:0' }])
    expect(drops).toEqual([dropped])
  })
})
