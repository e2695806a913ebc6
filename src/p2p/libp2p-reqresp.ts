/**
 * One request, one response, over a libp2p stream: each side writes one
 * length-prefixed frame. Every step runs under one timeout signal for the whole
 * exchange (ProtocolSpec.timeoutMs), every read is bounded by the spec, and any
 * failure resets the stream (shaped after @libp2p/fetch).
 */
import type { Connection, Libp2p, Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { lpStream } from '@libp2p/utils'
import type { Logger } from '../logger.ts'
import { ChorusError, ErrorCode } from '../protocol/errors.ts'
import type { RateLimiter } from './rate-limit.ts'
import type { Protocol, ProtocolSpec, RequestHandler } from './transport.ts'

/** Room for the varint length prefix in front of a frame. */
const PREFIX_BYTES = 10

/**
 * A length-prefixed view of `stream` reading frames of at most `maxBytes`. Its
 * buffer is sized to the frame: lpStream's default buffer is 4 MiB, and a larger
 * frame would overflow it and reset the stream.
 */
function frames (stream: Stream, maxBytes: number) {
  return lpStream(stream, { maxDataLength: maxBytes, maxBufferSize: maxBytes + PREFIX_BYTES })
}

const asError = (e: unknown): Error => e instanceof Error ? e : new Error(String(e))

/**
 * A frame over the limit: its length prefix says so (InvalidDataLength*), or
 * the peer sent more bytes than the largest frame before we read the prefix
 * (our frame-sized buffer overflowed: StreamBufferError).
 */
const isTooLarge = (e: unknown): boolean => {
  const name = (e as { name?: unknown } | null)?.name
  return name === 'InvalidDataLengthError' || name === 'InvalidDataLengthLengthError' || name === 'StreamBufferError'
}

/**
 * A signal that aborts after `ms`, or when `caller` does; `clear()` releases
 * both. Not AbortSignal.any: on Node 20 every any() call leaves an entry on its
 * source signals that is never dropped, so a long-lived caller signal (a node's
 * shutdown signal, passed to every request) would leak per request.
 */
function deadline (ms: number, caller?: AbortSignal): { signal: AbortSignal, clear: () => void } {
  const ac = new AbortController()
  const timer = setTimeout(() => ac.abort(new DOMException(`timed out after ${ms} ms`, 'TimeoutError')), ms)
  const onAbort = (): void => ac.abort(caller?.reason)
  if (caller?.aborted === true) onAbort()
  else caller?.addEventListener('abort', onAbort, { once: true })
  return {
    signal: ac.signal,
    clear: () => {
      clearTimeout(timer)
      caller?.removeEventListener('abort', onAbort)
    }
  }
}

/** `p`, or a rejection once `signal` aborts (a hung handler must not hold its stream open). */
async function raceSignal<T> (p: Promise<T>, signal: AbortSignal): Promise<T> {
  signal.throwIfAborted()
  let onAbort = (): void => {}
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => reject(asError(signal.reason))
    signal.addEventListener('abort', onAbort, { once: true })
  })
  try {
    return await Promise.race([p, aborted])
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}

export interface ServeContext {
  protocol: Protocol
  spec: ProtocolSpec
  handler: RequestHandler
  limiter: RateLimiter
  penalize (peer: string, reason: string): void
  log: Logger
}

/**
 * Serves one inbound stream. Invariants: it never throws (failures reset the
 * stream); a peer over its rate limit, or sending a request over
 * maxRequestBytes, is penalized and refused; a response over maxResponseBytes
 * is never written.
 */
export async function serveStream (stream: Stream, connection: Connection, ctx: ServeContext): Promise<void> {
  const peer = connection.remotePeer.toString()
  const { signal, clear } = deadline(ctx.spec.timeoutMs)
  try {
    if (!ctx.limiter.take(peer)) {
      ctx.penalize(peer, `${ctx.protocol} rate limit`)
      throw new ChorusError(ErrorCode.UNAVAILABLE, 'rate limit exceeded')
    }
    const lp = frames(stream, ctx.spec.maxRequestBytes)
    let request: Uint8Array
    try {
      request = (await lp.read({ signal })).subarray()
    } catch (e) {
      if (isTooLarge(e)) ctx.penalize(peer, `${ctx.protocol} request too large`)
      throw e
    }
    const response = await raceSignal(ctx.handler(peer, request), signal)
    if (response.byteLength > ctx.spec.maxResponseBytes) {
      // our own handler broke the protocol's limit: a bug here, not the peer's fault
      ctx.log.warn('Response over the protocol limit not sent', { peer, protocol: ctx.protocol, bytes: response.byteLength })
      throw new ChorusError(ErrorCode.TOO_LARGE, 'response over the protocol limit')
    }
    await lp.write(response, { signal })
    await stream.close({ signal })
  } catch (e) {
    ctx.log.debug('Request not served', { peer, protocol: ctx.protocol, error: asError(e).message })
    stream.abort(asError(e))
  } finally {
    clear()
  }
}

/**
 * Sends `body` and returns the response. Rejects with a ChorusError only:
 * TIMEOUT when the spec's timeout or the caller's `signal` ends it, TOO_LARGE
 * when the request or response is over the spec's limit, UNAVAILABLE when the
 * dial or stream fails (the peer refused, reset, or went away). It never
 * penalizes; callers decide.
 */
export async function sendRequest (libp2p: Libp2p, peer: string, name: string, spec: ProtocolSpec, body: Uint8Array, callerSignal?: AbortSignal): Promise<Uint8Array> {
  if (body.byteLength > spec.maxRequestBytes) {
    throw new ChorusError(ErrorCode.TOO_LARGE, `request of ${body.byteLength} bytes over the limit of ${spec.maxRequestBytes}`, { protocol: name })
  }
  let target
  try {
    target = peerIdFromString(peer)
  } catch {
    throw new ChorusError(ErrorCode.INVALID_ADDRESS, `${peer} is not a peer id`)
  }
  const { signal, clear } = deadline(spec.timeoutMs, callerSignal)
  let stream: Stream
  try {
    stream = await libp2p.dialProtocol(target, name, { signal })
  } catch (e) {
    clear()
    throw requestError(e, signal, peer, name)
  }
  try {
    const lp = frames(stream, spec.maxResponseBytes)
    await lp.write(body, { signal })
    const response = (await lp.read({ signal })).subarray()
    // the answer is in hand: a failed close only resets the stream
    await stream.close({ signal }).catch((e: unknown) => stream.abort(asError(e)))
    return response
  } catch (e) {
    stream.abort(asError(e))
    throw requestError(e, signal, peer, name)
  } finally {
    clear()
  }
}

function requestError (e: unknown, signal: AbortSignal, peer: string, protocol: string): ChorusError {
  const meta = { peer, protocol, cause: asError(e).message }
  if (signal.aborted) return new ChorusError(ErrorCode.TIMEOUT, 'request timed out or was aborted', meta)
  if (isTooLarge(e)) return new ChorusError(ErrorCode.TOO_LARGE, 'response over the protocol limit', meta)
  return new ChorusError(ErrorCode.UNAVAILABLE, 'request failed', meta)
}
