/**
 * Subscriptions that outlive their connection. When the socket closes (the node restarted, the
 * network blinked, or the node dropped a slow reader), the page connects again after a growing
 * delay and subscribes from the last event it saw: nothing missed, nothing shown twice.
 */
import type { LiveClient, LiveTopic } from '../../src/client/index.ts'
import { liveClient } from './rpc.ts'

export type LiveState = 'connecting' | 'live' | 'offline'
const FIRST_RETRY_MS = 500
const LAST_RETRY_MS = 10_000

/** Subscribes to `topic` until the returned function is called; `onState` hears whether events can arrive. */
export function subscribeLive (topic: LiveTopic, filter: Record<string, unknown>, onEvent: (e: Record<string, unknown>) => void, onState: (s: LiveState, problem?: unknown) => void): () => void {
  let stopped = false
  let from: string | null = null
  let current: { client: LiveClient, id: string } | null = null
  let delay = FIRST_RETRY_MS
  let timer: ReturnType<typeof setTimeout> | undefined

  const retry = (problem?: unknown) => {
    current = null
    if (stopped) return
    onState('offline', problem)
    timer = setTimeout(() => { void run() }, delay)
    delay = Math.min(delay * 2, LAST_RETRY_MS)
  }
  const run = async () => {
    try {
      const client = await liveClient()
      const id = await client.subscribe(topic, from === null ? filter : { ...filter, fromEventId: from }, (e) => {
        from = e.eventId as string
        onEvent(e)
      }, (dropped) => { from = dropped.fromEventId ?? from }) // the node closes the socket next: onClose retries
      if (stopped) { client.unsubscribe(id).catch(() => {}); return }
      current = { client, id }
      delay = FIRST_RETRY_MS
      onState('live')
      client.onClose(() => retry())
    } catch (e) {
      retry(e)
    }
  }
  void run()
  return () => {
    stopped = true
    clearTimeout(timer)
    if (current?.client.isOpen === true) current.client.unsubscribe(current.id).catch(() => {})
  }
}
