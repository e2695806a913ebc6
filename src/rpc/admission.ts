/**
 * Admission of RPC work. Every call has a cost (by method: a full block costs more
 * than a head) that counts while the call runs, against its connection, its IP and
 * the node. A connection's calls wait their turn in a short queue of their own
 * (a batch, or messages on one WebSocket); past that queue, or past its IP's share,
 * a call is refused RATE_LIMITED, and past the node's total, BUSY. Nothing else
 * waits: the work in flight, and so what it can cost consensus, is bounded.
 *
 * Pure bookkeeping: no sockets, no timers.
 */
import { ChorusError, ErrorCode } from '../protocol/errors.ts'

/** Who a call comes from: one HTTP or WebSocket connection. */
export interface Caller {
  /** Unique per connection for the life of the server. */
  readonly id: number
  readonly ip: string
  /** Aborted when the connection closes: its calls' work should stop. */
  readonly signal: AbortSignal
}

let lastCallerId = 0
/** A caller for a new connection from `ip`; `signal` aborts when it closes. */
export const newCaller = (ip: string | undefined, signal: AbortSignal): Caller => ({ id: ++lastCallerId, ip: ip ?? 'unknown', signal })

/** Answer bytes written to clients and not yet taken by them: the HTTP answers' (Admission) and the WebSockets' (OutboxLedger). */
export interface QueuedBytes {
  readonly totalBytes: number
  bytesOf: (ip: string) => number
}

export interface AdmissionLimits {
  /** Cost in flight at once on one connection; its further calls queue. */
  perConnection: number
  /** Calls one connection may have waiting to start; past it, RATE_LIMITED. */
  queuedPerConnection: number
  /** Cost in flight at once from one IP. */
  perIp: number
  /** Cost in flight at once in the node. */
  total: number
  /** Answer bytes written but not yet taken by one IP's clients; past it, their calls are RATE_LIMITED. */
  queuedBytesPerIp: number
  /** The same for every client together; past it, calls are BUSY. */
  queuedBytes: number
}

export const DEFAULT_ADMISSION_LIMITS: AdmissionLimits = {
  perConnection: 16,
  queuedPerConnection: 128,
  perIp: 32,
  total: 64,
  queuedBytesPerIp: 32 * 1024 * 1024,
  queuedBytes: 128 * 1024 * 1024
}

/** A method's cost, in units of "one small read". */
const COSTS: Record<string, number> = {
  chain_getBlock: 2,
  tx_submit: 2,
  dev_faucet: 2,
  post_listRecent: 4,
  post_listByAuthor: 4,
  post_listReplies: 4,
  feed_get: 4,
  graph_getFollowers: 4,
  graph_getFollowing: 4,
  like_list: 4,
  mempool_list: 4,
  mempool_status: 4,
  validator_list: 2,
  'rpc.discover': 4
}
/** A full block is up to maxBlockBytes of txs to decode and render. */
const FULL_BLOCK_COST = 16

/**
 * A batch's plain tx_submit calls are one piece of work: their txs are admitted together (one
 * signature batch off the main thread, one turn of the chain lock), at ~20–30 µs of the main
 * thread a tx (scripts/bench/load.ts), so a batch of 50 costs what 6 small reads do, not 50 calls' worth.
 */
export function submitGroupCost (calls: number): number {
  return 2 + Math.ceil(calls / 16)
}

export function callCost (method: string, params: unknown): number {
  if (method === 'chain_getBlock' && wantsFull(params)) return FULL_BLOCK_COST
  return COSTS[method] ?? 1
}

function wantsFull (params: unknown): boolean {
  const options = Array.isArray(params) ? params[1] : (typeof params === 'object' && params !== null ? (params as { options?: unknown }).options : undefined)
  return typeof options === 'object' && options !== null && (options as { full?: unknown }).full === true
}

interface Waiter { cost: number, start: () => void }
interface ConnectionLoad { inFlight: number, queue: Waiter[] }

export class Admission implements QueuedBytes {
  private readonly connections = new Map<number, ConnectionLoad>()
  private readonly ips = new Map<string, number>()
  private total = 0
  private readonly queuedByIp = new Map<string, number>()
  private queuedTotal = 0
  private readonly refused = { RATE_LIMITED: 0, BUSY: 0 }

  /** `elsewhere`: other queues of answer bytes (the WebSockets') that count against the same shares. */
  constructor (readonly limits: AdmissionLimits = DEFAULT_ADMISSION_LIMITS, private readonly elsewhere: readonly QueuedBytes[] = []) {}

  /** Cost in flight in the node now. */
  get inFlight (): number { return this.total }
  /** Answer bytes written over HTTP and not yet taken by the clients. */
  get totalBytes (): number { return this.queuedTotal }
  bytesOf (ip: string): number { return this.queuedByIp.get(ip) ?? 0 }

  private queuedFrom (ip: string): number { return this.elsewhere.reduce((n, q) => n + q.bytesOf(ip), this.bytesOf(ip)) }
  private queuedInAll (): number { return this.elsewhere.reduce((n, q) => n + q.totalBytes, this.queuedTotal) }
  /** Calls refused since start, by code. */
  get refusals (): Readonly<{ RATE_LIMITED: number, BUSY: number }> { return this.refused }

  /**
   * Waits for the connection's turn, then admits a call of `cost` and returns its
   * release (call it once, when the work has ended, not when the caller gave up).
   * Throws RATE_LIMITED or BUSY when the call is refused, UNAVAILABLE if the caller
   * went away while it waited.
   */
  async enter (caller: Caller, cost: number): Promise<() => void> {
    const c = Math.min(cost, this.limits.perConnection)
    let conn = this.connections.get(caller.id)
    if (conn === undefined) {
      conn = { inFlight: 0, queue: [] }
      this.connections.set(caller.id, conn)
    }
    if (conn.queue.length === 0 && conn.inFlight + c <= this.limits.perConnection) {
      conn.inFlight += c
    } else {
      if (conn.queue.length >= this.limits.queuedPerConnection) throw this.refuse(ErrorCode.RATE_LIMITED, `over ${this.limits.queuedPerConnection} calls waiting on this connection`)
      // its turn reserves its cost on the connection (see next)
      await new Promise<void>((resolve) => conn!.queue.push({ cost: c, start: resolve }))
    }
    const ip = this.ips.get(caller.ip) ?? 0
    const refusal = caller.signal.aborted
      ? new ChorusError(ErrorCode.UNAVAILABLE, 'the caller went away')
      : ip + c > this.limits.perIp
        ? this.refuse(ErrorCode.RATE_LIMITED, `over ${this.limits.perIp} units of work in flight from ${caller.ip}`)
        : this.queuedFrom(caller.ip) > this.limits.queuedBytesPerIp
            ? this.refuse(ErrorCode.RATE_LIMITED, `over ${this.limits.queuedBytesPerIp} bytes of answers not yet read by ${caller.ip}`)
            : this.total + c > this.limits.total || this.queuedInAll() > this.limits.queuedBytes
              ? this.refuse(ErrorCode.BUSY, 'the node is at its limit of RPC work in flight: retry shortly')
              : null
    if (refusal !== null) {
      this.settle(caller.id, conn, c)
      throw refusal
    }
    addTo(this.ips, caller.ip, c)
    this.total += c
    return once(() => {
      this.total -= c
      addTo(this.ips, caller.ip, -c)
      this.settle(caller.id, conn, c)
    })
  }

  /**
   * Counts `bytes` of answer written to `caller` and not yet taken by it (sitting in
   * the socket's buffer); call the returned function once they are, or the socket is gone.
   */
  queued (caller: Caller, bytes: number): () => void {
    this.queuedTotal += bytes
    addTo(this.queuedByIp, caller.ip, bytes)
    return once(() => {
      this.queuedTotal -= bytes
      addTo(this.queuedByIp, caller.ip, -bytes)
    })
  }

  /** Gives back `cost` on the connection and starts its waiting calls, in order, while they fit. */
  private settle (id: number, conn: ConnectionLoad, cost: number): void {
    conn.inFlight -= cost
    while (conn.queue.length > 0 && conn.inFlight + conn.queue[0]!.cost <= this.limits.perConnection) {
      const next = conn.queue.shift()!
      conn.inFlight += next.cost
      next.start()
    }
    if (conn.inFlight === 0 && conn.queue.length === 0) this.connections.delete(id)
  }

  private refuse (code: 'RATE_LIMITED' | 'BUSY', detail: string): ChorusError {
    this.refused[code]++
    return new ChorusError(ErrorCode[code], detail)
  }
}

/** Adds `delta` to a key's count, dropping the key at zero so that the map holds only busy keys. */
function addTo (counts: Map<string, number>, key: string, delta: number): void {
  const n = (counts.get(key) ?? 0) + delta
  if (n <= 0) counts.delete(key)
  else counts.set(key, n)
}

/** `fn`, to be called at most once: later calls do nothing. */
function once (fn: () => void): () => void {
  let done = false
  return () => {
    if (done) return
    done = true
    fn()
  }
}
