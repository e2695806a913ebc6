/**
 * JSON-RPC 2.0 over HTTP POST / (single calls and batches), and the WebSocket at /ws.
 * Every request is bounded: connections (in total and per IP), body bytes, batch
 * length, work in flight (admission.ts: per connection, per IP, in total), time per
 * call, and response bytes. A request that is bad in any way gets its JSON-RPC
 * error, one refused for load gets RATE_LIMITED or BUSY (HTTP 429); the server
 * keeps serving, and consensus keeps its share of the process.
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { ChorusError, ErrorCode } from '../protocol/errors.ts'
import type { Logger } from '../logger.ts'
import { Admission, type AdmissionLimits, type Caller, DEFAULT_ADMISSION_LIMITS, callCost, newCaller, submitGroupCost } from './admission.ts'
import type { RpcContext } from './context.ts'
import { RpcCode, type RpcError, RpcFailure, toRpcError } from './errors.ts'
import { ConnectionLimits, type ConnectionRefusal } from './connection-limits.ts'
import { call, methods } from './methods.ts'
import { openRpcDocument } from './openrpc.ts'
import { DEFAULT_HTTP_POLICY, type HttpPolicy, PREFLIGHT_HEADERS, allowedHostsFor, corsHeaders, hostAllowed } from './http-policy.ts'
import type { DropReason } from './outbox.ts'
import { WebApp } from './web.ts'
import { DEFAULT_WS_OPTIONS, WsRpc } from './websocket.ts'
import type { Json } from './views.ts'

/** Told what the server does, for metrics. */
export interface RpcObserver {
  /**
   * A call answered (or a notification run): its method (one the server has, else 'unknown',
   * or 'invalid' for a malformed request), its error (null for a result), and the seconds from
   * its arrival to its answer, waiting for admission included.
   */
  call (method: string, error: RpcError | null, seconds: number): void
  /** Work refused before any call ran, with the code its answer carries: a connection over a cap, a request (its Host, body or batch size), a WebSocket upgrade. */
  refused (scope: 'connection' | 'request' | 'websocket', code: ErrorCode): void
  /** A WebSocket connection dropped for holding too much unread (outbox.ts). */
  dropped (reason: DropReason): void
}

export interface RpcServerOptions {
  host: string
  port: number
  maxBodyBytes: number
  maxBatch: number
  /** Per call, except tx_submit with wait: "commit", which has the context's commitWaitMs. */
  callTimeoutMs: number
  version: string
  /** CORS origins and the Host allowlist (http-policy.ts). */
  http: HttpPolicy
  /** Bytes of one response (a batch's together); the calls that would pass it get TOO_LARGE. */
  maxResponseBytes: number
  /** Open connections, HTTP and WebSocket together; past it a new one gets 503 and is closed. */
  maxConnections: number
  /** Open connections from one IP; past it a new one gets 429 and is closed. */
  maxConnectionsPerIp: number
  /** Work in flight (see admission.ts). */
  admission: AdmissionLimits
  /** The web app's built files (web.ts), served to browsers; null or absent: no app. */
  webDir?: string | null
}

export const DEFAULT_RPC_OPTIONS: Omit<RpcServerOptions, 'port' | 'version'> = {
  host: '127.0.0.1',
  maxBodyBytes: 1024 * 1024,
  maxBatch: 100,
  callTimeoutMs: 10_000,
  http: DEFAULT_HTTP_POLICY,
  maxResponseBytes: 16 * 1024 * 1024,
  maxConnections: 1024,
  maxConnectionsPerIp: 64,
  admission: DEFAULT_ADMISSION_LIMITS
}

type Id = string | number | null
interface Response { jsonrpc: '2.0', id: Id, result?: Json, error?: RpcError }

const errorResponse = (id: Id, error: RpcError): Response => ({ jsonrpc: '2.0', id, error })

/** One call's answer: its JSON text, and whether it was refused for load (RATE_LIMITED or BUSY); `error`: what the text carries, if an error. */
interface Answer { text: string, refusedForLoad: boolean, error: RpcError | null }

/** Response bytes a request's answers may take: `whole` at first, `left` now. */
interface Budget { left: number, readonly whole: number }
const newBudget = (bytes: number): Budget => ({ left: bytes, whole: bytes })

/** What an error answer to `req` may take: its id, echoed, and up to ERROR_ROOM bytes besides. */
const ERROR_ROOM = 320
function errorRoom (req: unknown): number {
  const id = typeof req === 'object' && req !== null ? (req as { id?: unknown }).id : undefined
  return ERROR_ROOM + (typeof id === 'string' ? Buffer.byteLength(JSON.stringify(id)) : 24)
}

/** Room a call needs left in its response budget to be run, per unit of its cost (a full block: 2 MiB). */
const ANSWER_ROOM_PER_COST = 128 * 1024
const LOAD_CODES: ReadonlySet<string | undefined> = new Set([ErrorCode.RATE_LIMITED, ErrorCode.BUSY])
/** What a connection over a cap is told before it is closed. */
const REFUSED_CONNECTION: Record<ConnectionRefusal, string> = {
  total: rawHttp(503, 'Service Unavailable', ErrorCode.BUSY, 'the node is at its limit of RPC connections'),
  ip: rawHttp(429, 'Too Many Requests', ErrorCode.RATE_LIMITED, 'too many RPC connections from your address')
}

export class RpcServer {
  private server: Server | null = null
  private readonly doc: Record<string, unknown>
  private readonly hosts: Set<string> | null
  /** The web app, when on and built. */
  private readonly web: WebApp | null
  get servesWeb (): boolean { return this.web !== null }
  readonly admission: Admission
  readonly connections: ConnectionLimits
  /** The caller of each open connection (its signal aborts when the connection closes). */
  private readonly callers = new WeakMap<Socket, Caller>()
  /** Internal errors are bugs, logged with their stack, but at most once a second. */
  private lastInternalLogMs = 0
  readonly ws: WsRpc

  constructor (private readonly opts: RpcServerOptions, private readonly ctx: RpcContext, private readonly log: Logger, private readonly observer: RpcObserver | null = null) {
    this.doc = openRpcDocument(methods, opts.version)
    this.hosts = allowedHostsFor(opts.host, opts.http)
    this.connections = new ConnectionLimits(opts.maxConnections, opts.maxConnectionsPerIp)
    this.web = opts.webDir == null ? null : WebApp.load(opts.webDir)
    if (opts.webDir != null && this.web === null) log.warn('The web app is not built: GET / serves the OpenRPC document only (run npm run build)', { dir: opts.webDir })
    const admit = (req: IncomingMessage): boolean => this.callers.has(req.socket) && this.admits(req)
    this.ws = new WsRpc({ ...DEFAULT_WS_OPTIONS, admit }, ctx, async (req, caller) => (await this.one(req, caller))?.text ?? null, log, observer)
    this.admission = new Admission(opts.admission, [this.ws.queued])
  }

  /** A request's Host is allowed, and its Origin (when a browser sends one) too. */
  private admits (req: IncomingMessage): boolean {
    if (!hostAllowed(req.headers.host, this.hosts)) return false
    const origin = req.headers.origin
    return origin === undefined || Object.keys(corsHeaders(origin, this.opts.http)).length > 0
  }

  async start (): Promise<void> {
    const server = createServer((req, res) => { this.onRequest(req, res).catch((e) => this.log.error('RPC handler failed', { error: (e as Error).message })) })
    server.on('connection', (socket: Socket) => this.onConnection(socket))
    server.requestTimeout = this.ctx.commitWaitMs + 10_000
    server.headersTimeout = 10_000
    // a connection that sends nothing, or does not read its answer, for this long is closed
    server.timeout = Math.max(60_000, this.ctx.commitWaitMs + 15_000)
    this.ws.attach(server)
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) => reject(e.code === 'EADDRINUSE' || e.code === 'EACCES'
        ? new ChorusError(ErrorCode.UNAVAILABLE, `cannot listen on ${this.opts.host}:${this.opts.port} (${e.code}): choose another --rpc-port`)
        : e))
      server.listen(this.opts.port, this.opts.host, () => { server.removeAllListeners('error'); resolve() })
    })
    this.server = server
  }

  get port (): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? 0
  }

  async stop (): Promise<void> {
    const s = this.server
    if (s === null) return
    this.server = null
    this.ws.close()
    s.closeAllConnections()
    await new Promise<void>((resolve) => s.close(() => resolve()))
  }

  /** Takes a place for the connection under the caps, or answers 429/503 and closes it. */
  private onConnection (socket: Socket): void {
    const ip = socket.remoteAddress ?? 'unknown'
    const refusal = this.connections.enter(ip)
    if (refusal !== null) {
      this.observer?.refused('connection', refusal === 'total' ? ErrorCode.BUSY : ErrorCode.RATE_LIMITED)
      // no caller: its requests and upgrades are not served (see onRequest, admit); the
      // descriptor is given back as soon as the refusal is written, whatever the client does
      socket.end(REFUSED_CONNECTION[refusal], () => socket.destroy())
      socket.setTimeout(1_000, () => socket.destroy())
      return
    }
    const closed = new AbortController()
    this.callers.set(socket, newCaller(ip, closed.signal))
    socket.once('close', () => {
      this.connections.leave(ip)
      closed.abort()
    })
  }

  private async onRequest (req: IncomingMessage, res: ServerResponse): Promise<void> {
    const caller = this.callers.get(req.socket)
    if (caller === undefined) return void req.socket.destroy() // refused at connection
    if (!hostAllowed(req.headers.host, this.hosts)) {
      this.observer?.refused('request', ErrorCode.FORBIDDEN)
      return this.send(res, caller, 403, errorResponse(null, { code: RpcCode.INVALID_REQUEST, message: `host ${String(req.headers.host)} is not allowed (see --rpc-allowed-hosts)`, data: { code: ErrorCode.FORBIDDEN } }))
    }
    for (const [k, v] of Object.entries(corsHeaders(req.headers.origin, this.opts.http))) res.setHeader(k, v)
    if (req.method === 'OPTIONS') {
      for (const [k, v] of Object.entries(PREFLIGHT_HEADERS)) res.setHeader(k, v)
      res.writeHead(204).end()
      return
    }
    if ((req.method === 'GET' || req.method === 'HEAD') && this.web !== null) {
      const page = this.web.answer(req.url ?? '/', req.headers.accept)
      if (page !== null) {
        res.writeHead(page.status, { ...page.headers, 'content-length': page.body.length })
        res.end(req.method === 'HEAD' ? undefined : page.body)
        return
      }
    }
    if (req.method === 'GET' && (req.url === '/openrpc.json' || req.url === '/')) return this.send(res, caller, 200, this.doc)
    if (req.method === 'GET' && req.url === '/health') {
      const h = this.ctx.health()
      return this.send(res, caller, h.ok ? 200 : 503, { ...h, height: this.ctx.chain.head.height })
    }
    if (req.method !== 'POST') return this.send(res, caller, 405, errorResponse(null, { code: RpcCode.INVALID_REQUEST, message: 'use POST' }))
    const body = await readBody(req, this.opts.maxBodyBytes)
    if (body === null) {
      this.observer?.refused('request', ErrorCode.TOO_LARGE)
      res.setHeader('connection', 'close')
      this.send(res, caller, 413, errorResponse(null, { code: RpcCode.INVALID_REQUEST, message: `request body over ${this.opts.maxBodyBytes} bytes`, data: { code: ErrorCode.TOO_LARGE } }))
      res.once('finish', () => req.destroy())
      return
    }
    let parsed: unknown
    try {
      parsed = JSON.parse(body)
    } catch {
      return this.send(res, caller, 200, errorResponse(null, { code: RpcCode.PARSE_ERROR, message: 'parse error: body is not JSON' }))
    }
    if (!Array.isArray(parsed)) {
      const answer = await this.one(parsed, caller)
      if (answer === null) return void res.writeHead(204).end()
      return this.sendText(res, caller, answer.refusedForLoad ? 429 : 200, answer.text)
    }
    if (parsed.length === 0) return this.send(res, caller, 200, errorResponse(null, { code: RpcCode.INVALID_REQUEST, message: 'empty batch' }))
    if (parsed.length > this.opts.maxBatch) {
      this.observer?.refused('request', ErrorCode.TOO_LARGE)
      return this.send(res, caller, 200, errorResponse(null, { code: RpcCode.INVALID_REQUEST, message: `batch over ${this.opts.maxBatch} calls`, data: { code: ErrorCode.TOO_LARGE } }))
    }
    // the calls share one response budget, taken by results as they arrive; room for each
    // call's error (and its comma) is set aside first, so that errors never push it over
    const reserved = parsed.reduce((n: number, r) => n + errorRoom(r) + 1, 0)
    const budget = newBudget(this.opts.maxResponseBytes - reserved)
    // two or more plain tx_submits run as one group (submitGroup); every other call on its own
    const grouped = parsed.filter(isGroupSubmit)
    const group = grouped.length >= 2 ? new Set<unknown>(grouped) : null
    const [fromGroup, alone] = await Promise.all([
      group === null ? [] : this.submitGroup(grouped, caller, budget),
      Promise.all(parsed.map((r) => group?.has(r) === true ? null : this.one(r, caller, budget)))
    ])
    let g = 0
    const answers = parsed.map((r, i) => group?.has(r) === true ? fromGroup[g++]! : alone[i]!).filter((a): a is Answer => a !== null)
    if (answers.length === 0) return void res.writeHead(204).end()
    this.sendText(res, caller, answers.every((a) => a.refusedForLoad) ? 429 : 200, `[${answers.map((a) => a.text).join(',')}]`)
  }

  /**
   * One call, admitted under the caller's and the node's limits; null for a
   * notification (no id), which gets no answer. `budget` is the response bytes
   * left for it (a batch's shared budget): an answer that would pass it becomes TOO_LARGE.
   */
  private async one (req: unknown, caller: Caller, budget = newBudget(this.opts.maxResponseBytes)): Promise<Answer | null> {
    const started = performance.now()
    const { method, response, silent } = await this.respond(req, caller, budget)
    return this.conclude(method, response, silent, started, performance.now(), budget)
  }

  /** A call's answer (null when `silent`) within the budget, counted in the metrics as taking from `started` to `ended`. */
  private conclude (method: string, response: Response, silent: boolean, started: number, ended: number, budget: Budget): Answer | null {
    const answer = silent ? null : this.answer(response, budget)
    this.observer?.call(method, answer === null ? response.error ?? null : answer.error, (ended - started) / 1000)
    return answer
  }

  /** A call's response; `method` names it for metrics, `silent` when nobody gets an answer (a notification, or a caller gone). */
  private async respond (req: unknown, caller: Caller, budget: Budget): Promise<{ method: string, response: Response, silent: boolean }> {
    const invalid = (id: Id, message: string) => ({ method: 'invalid', response: errorResponse(id, { code: RpcCode.INVALID_REQUEST, message }), silent: false })
    if (typeof req !== 'object' || req === null || Array.isArray(req)) return invalid(null, 'a request is an object')
    const r = req as { jsonrpc?: unknown, id?: unknown, method?: unknown, params?: unknown }
    const idOk = validId(r.id)
    const id: Id = idOk && r.id !== undefined ? r.id as Id : null
    if (r.jsonrpc !== '2.0' || typeof r.method !== 'string' || !idOk) return invalid(id, 'invalid request: needs jsonrpc "2.0", a method and a string or number id')
    let response: Response
    const known = r.method === 'rpc.discover' || Object.hasOwn(methods, r.method)
    if (!known) response = errorResponse(id, { code: RpcCode.METHOD_NOT_FOUND, message: `method not found: ${r.method.slice(0, 64)}` })
    else {
      try {
        response = { jsonrpc: '2.0', id, result: await this.run(caller, r.method, r.params, budget) }
      } catch (e) {
        response = errorResponse(id, this.errorOf(r.method, e))
      }
    }
    return { method: known ? r.method : 'unknown', response, silent: r.id === undefined || caller.signal.aborted }
  }

  /** What a call that threw answers; an internal fault is logged (at most once a second). */
  private errorOf (method: string, e: unknown): RpcError {
    const error = toRpcError(e)
    if (error.code === RpcCode.INTERNAL) this.logInternal(method, e)
    return error
  }

  /**
   * Runs an admitted call; its cost counts until its work ends, even past its time limit.
   * A call whose answer could not fit what is left of the response budget is not run.
   */
  private async run (caller: Caller, method: string, params: unknown, budget: Budget): Promise<Json> {
    const cost = callCost(method, params)
    const release = await this.admission.enter(caller, cost)
    // the batch's answers so far have spent it (checked after the wait: they ran meanwhile)
    this.checkRoom(budget, cost, release)
    // the calls that wait for a block get that wait and a second; the rest the call limit
    const deadline = new CallDeadline(caller.signal, method === 'tx_submit' || method === 'dev_faucet' ? this.submitLimitMs : this.opts.callTimeoutMs)
    const work = method === 'rpc.discover' ? Promise.resolve(this.doc as Json) : call(this.ctx, method, params, deadline.signal)
    work.then(release, release)
    try {
      return await Promise.race([work, deadline.late])
    } finally {
      deadline.clear()
    }
  }

  /** A tx_submit's time limit: the commit wait and a second. */
  private get submitLimitMs (): number { return this.ctx.commitWaitMs + 1000 }

  /** Throws TOO_LARGE (after `release`) when the budget has no room left for the answer of a call of `cost`. */
  private checkRoom (budget: Budget, cost: number, release: () => void): void {
    if (budget.left >= Math.min(cost * ANSWER_ROOM_PER_COST, budget.whole)) return
    release()
    throw new RpcFailure({ code: RpcCode.INVALID_REQUEST, message: `the answers before this one took the response limit of ${this.opts.maxResponseBytes} bytes: ask for less in one request`, data: { code: ErrorCode.TOO_LARGE } })
  }

  /**
   * A batch's plain tx_submits (no wait for the block) as one piece of work: one admission of
   * the group's cost, one time limit, and each call run as it would be alone (its txs gathered
   * into one admission by the pool); the answers in call order, null for a notification. The
   * group's cost counts until the last call's work ends. Each call through `one` took five more
   * async frames, a turn of a shared admission and a race of its own: the node's CPU a tx under
   * load.ts fell from 143–153 µs to 142–146 (four alternating pairs), a fifth of it GC.
   */
  private async submitGroup (calls: readonly GroupSubmit[], caller: Caller, budget: Budget): Promise<Array<Answer | null>> {
    const started = performance.now()
    const silent = (c: GroupSubmit) => c.id === undefined || caller.signal.aborted
    const answerOf = (c: GroupSubmit, outcome: Outcome): Answer | null => {
      const id = c.id ?? null
      const response: Response = 'result' in outcome ? { jsonrpc: '2.0', id, result: outcome.result } : errorResponse(id, this.errorOf('tx_submit', outcome.error))
      return this.conclude('tx_submit', response, silent(c), started, outcome.at, budget)
    }
    let release: () => void
    try {
      release = await this.admission.enter(caller, submitGroupCost(calls.length))
    } catch (e) {
      const at = performance.now()
      return calls.map((c) => answerOf(c, { error: e, at }))
    }
    const deadline = new CallDeadline(caller.signal, this.submitLimitMs)
    const outcomes: Array<Outcome | undefined> = new Array(calls.length)
    const works = calls.map(async (c, i) => {
      try {
        this.checkRoom(budget, callCost('tx_submit', c.params), () => {})
        outcomes[i] = { result: await call(this.ctx, 'tx_submit', c.params, deadline.signal), at: performance.now() }
      } catch (error) {
        outcomes[i] = { error, at: performance.now() }
      }
    })
    const done = Promise.all(works)
    done.then(release, release)
    let late: unknown = null
    await Promise.race([done, deadline.late.catch((e: unknown) => { late = e })])
    deadline.clear()
    const at = performance.now()
    return calls.map((c, i) => answerOf(c, outcomes[i] ?? { error: late, at }))
  }

  /** The response as text, within the budget; one past it becomes a TOO_LARGE error. */
  private answer (response: Response, budget: Budget): Answer {
    let text = JSON.stringify(response)
    const bytes = Buffer.byteLength(text)
    let error = response.error ?? null
    if (bytes > budget.left) {
      error = {
        code: RpcCode.INVALID_REQUEST,
        message: `the answer (${bytes} bytes) would pass the response limit of ${this.opts.maxResponseBytes} bytes: ask for less in one request`,
        data: { code: ErrorCode.TOO_LARGE }
      }
      text = JSON.stringify(errorResponse(response.id, error))
    }
    // an error's text came out of the room set aside for it
    budget.left -= error === null ? bytes : Math.max(0, Buffer.byteLength(text) - errorRoom(response))
    return { text, refusedForLoad: response.error !== undefined && LOAD_CODES.has(response.error.data?.code), error }
  }

  private logInternal (method: string, e: unknown): void {
    const now = Date.now()
    if (now - this.lastInternalLogMs < 1000) return
    this.lastInternalLogMs = now
    this.log.error('RPC call failed', { method, error: (e as Error).stack ?? String(e) })
  }

  private send (res: ServerResponse, caller: Caller, status: number, body: unknown): void {
    this.sendText(res, caller, status, JSON.stringify(body))
  }

  /** Writes an answer, counted as queued for the caller until the socket has taken it. */
  private sendText (res: ServerResponse, caller: Caller, status: number, text: string): void {
    const bytes = Buffer.byteLength(text)
    const taken = this.admission.queued(caller, bytes)
    res.once('close', taken)
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': bytes, ...(status === 429 ? { 'retry-after': '1' } : {}) })
    res.end(text)
  }
}

function rawHttp (status: number, reason: string, code: ErrorCode, message: string): string {
  const body = JSON.stringify(errorResponse(null, { code: RpcCode.UNAVAILABLE, message, data: { code } }))
  return `HTTP/1.1 ${status} ${reason}\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
}

/**
 * The body as text, or null when it is over `max` bytes. A refused body is read on
 * (and dropped) up to 16 × `max` or 5 s: a client still writing when the socket closes
 * sees a reset instead of the 413.
 */
async function readBody (req: IncomingMessage, max: number): Promise<string | null> {
  const declared = Number(req.headers['content-length'] ?? 0)
  const drainLimit = 16 * max
  if (declared > drainLimit) return null
  return await new Promise((resolve) => {
    const chunks: Buffer[] = []
    let size = 0
    const finish = (v: string | null) => { clearTimeout(timer); req.off('data', onData); resolve(v) }
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size <= max && declared <= max) chunks.push(chunk)
      else if (size > drainLimit) finish(null)
    }
    const timer = setTimeout(() => finish(null), 5_000)
    req.on('data', onData)
    req.once('end', () => finish(size > max || declared > max ? null : Buffer.concat(chunks).toString('utf8')))
    req.once('error', () => finish(null))
  })
}

/** A batch's tx_submit call that runs in its group (submitGroup). */
interface GroupSubmit { jsonrpc: '2.0', method: 'tx_submit', id?: string | number | null, params?: unknown }
/** How a grouped call ended, and when. */
type Outcome = { result: Json, at: number } | { error: unknown, at: number }

/** A call's time limit: `signal` aborts (or the caller's does) and `late` rejects with TIMEOUT once `ms` pass. */
class CallDeadline {
  readonly signal: AbortSignal
  readonly late: Promise<never>
  private timer: NodeJS.Timeout | undefined

  constructor (callerSignal: AbortSignal, ms: number) {
    const timeout = new AbortController()
    this.signal = AbortSignal.any([callerSignal, timeout.signal])
    this.late = new Promise<never>((_, reject) => {
      this.timer = setTimeout(() => {
        timeout.abort()
        reject(new ChorusError(ErrorCode.TIMEOUT, `call took over ${ms} ms`))
      }, ms)
    })
    this.late.catch(() => {}) // raced by each call; nobody may be left to hear it
  }

  clear (): void { clearTimeout(this.timer) }
}

/** A string or number id, null, or none (a notification). */
function validId (id: unknown): boolean {
  return id === undefined || id === null || typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id))
}

/** A well-formed tx_submit that does not wait for its block: in a batch, these run as one group. */
function isGroupSubmit (r: unknown): r is GroupSubmit {
  if (typeof r !== 'object' || r === null || Array.isArray(r)) return false
  const { jsonrpc, method, params, id } = r as { jsonrpc?: unknown, method?: unknown, params?: unknown, id?: unknown }
  if (jsonrpc !== '2.0' || method !== 'tx_submit' || !validId(id)) return false
  const options = Array.isArray(params) ? params[1] : typeof params === 'object' && params !== null ? (params as { options?: unknown }).options : undefined
  return (options as { wait?: unknown } | null | undefined)?.wait !== 'commit'
}
