/**
 * JSON-RPC 2.0 over HTTP POST / (single calls and batches). Every request is
 * bounded: body bytes, batch length, and time per call. A request that is bad
 * in any way gets its JSON-RPC error; the server keeps serving.
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { ChorusError, ErrorCode } from '../protocol/errors.ts'
import type { Logger } from '../logger.ts'
import { type Caller, newCaller } from './admission.ts'
import type { RpcContext } from './context.ts'
import { RpcCode, type RpcError, toRpcError } from './errors.ts'
import { call, methods } from './methods.ts'
import { openRpcDocument } from './openrpc.ts'
import { DEFAULT_HTTP_POLICY, type HttpPolicy, PREFLIGHT_HEADERS, allowedHostsFor, corsHeaders, hostAllowed } from './http-policy.ts'
import { DEFAULT_WS_OPTIONS, WsRpc } from './websocket.ts'
import type { Json } from './views.ts'

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
}

export const DEFAULT_RPC_OPTIONS: Omit<RpcServerOptions, 'port' | 'version'> = {
  host: '127.0.0.1',
  maxBodyBytes: 1024 * 1024,
  maxBatch: 100,
  callTimeoutMs: 10_000,
  http: DEFAULT_HTTP_POLICY
}

type Id = string | number | null
interface Response { jsonrpc: '2.0', id: Id, result?: Json, error?: RpcError }

const errorResponse = (id: Id, error: RpcError): Response => ({ jsonrpc: '2.0', id, error })

export class RpcServer {
  private server: Server | null = null
  private readonly doc: Record<string, unknown>
  private readonly hosts: Set<string> | null
  readonly ws: WsRpc

  constructor (private readonly opts: RpcServerOptions, private readonly ctx: RpcContext, private readonly log: Logger) {
    this.doc = openRpcDocument(methods, opts.version)
    this.hosts = allowedHostsFor(opts.host, opts.http)
    const admit = (req: IncomingMessage): boolean => this.admits(req)
    this.ws = new WsRpc({ ...DEFAULT_WS_OPTIONS, admit }, ctx, async (req, caller) => await this.one(req, caller) as Record<string, unknown> | null, log)
  }

  /** A request's Host is allowed, and its Origin (when a browser sends one) too. */
  private admits (req: IncomingMessage): boolean {
    if (!hostAllowed(req.headers.host, this.hosts)) return false
    const origin = req.headers.origin
    return origin === undefined || Object.keys(corsHeaders(origin, this.opts.http)).length > 0
  }

  async start (): Promise<void> {
    const server = createServer((req, res) => { this.onRequest(req, res).catch((e) => this.log.error('RPC handler failed', { error: (e as Error).message })) })
    server.requestTimeout = this.ctx.commitWaitMs + 10_000
    server.headersTimeout = 10_000
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

  private async onRequest (req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!hostAllowed(req.headers.host, this.hosts)) {
      return send(res, 403, errorResponse(null, { code: RpcCode.INVALID_REQUEST, message: `host ${String(req.headers.host)} is not allowed (see --rpc-allowed-hosts)`, data: { code: ErrorCode.FORBIDDEN } }))
    }
    for (const [k, v] of Object.entries(corsHeaders(req.headers.origin, this.opts.http))) res.setHeader(k, v)
    if (req.method === 'OPTIONS') {
      for (const [k, v] of Object.entries(PREFLIGHT_HEADERS)) res.setHeader(k, v)
      res.writeHead(204).end()
      return
    }
    if (req.method === 'GET' && (req.url === '/openrpc.json' || req.url === '/')) return send(res, 200, this.doc)
    if (req.method === 'GET' && req.url === '/health') {
      const h = this.ctx.health()
      return send(res, h.ok ? 200 : 503, { ...h, height: this.ctx.chain.head.height })
    }
    if (req.method !== 'POST') return send(res, 405, errorResponse(null, { code: RpcCode.INVALID_REQUEST, message: 'use POST' }))
    const body = await readBody(req, this.opts.maxBodyBytes)
    if (body === null) {
      res.setHeader('connection', 'close')
      send(res, 413, errorResponse(null, { code: RpcCode.INVALID_REQUEST, message: `request body over ${this.opts.maxBodyBytes} bytes`, data: { code: ErrorCode.TOO_LARGE } }))
      res.once('finish', () => req.destroy())
      return
    }
    const caller = newCaller(req.socket.remoteAddress, new AbortController().signal)
    let parsed: unknown
    try {
      parsed = JSON.parse(body)
    } catch {
      return send(res, 200, errorResponse(null, { code: RpcCode.PARSE_ERROR, message: 'parse error: body is not JSON' }))
    }
    if (Array.isArray(parsed)) {
      if (parsed.length === 0) return send(res, 200, errorResponse(null, { code: RpcCode.INVALID_REQUEST, message: 'empty batch' }))
      if (parsed.length > this.opts.maxBatch) {
        return send(res, 200, errorResponse(null, { code: RpcCode.INVALID_REQUEST, message: `batch over ${this.opts.maxBatch} calls`, data: { code: ErrorCode.TOO_LARGE } }))
      }
      const out = (await Promise.all(parsed.map(async (r) => await this.one(r, caller)))).filter((r): r is Response => r !== null)
      return out.length === 0 ? void res.writeHead(204).end() : send(res, 200, out)
    }
    const out = await this.one(parsed, caller)
    return out === null ? void res.writeHead(204).end() : send(res, 200, out)
  }

  /** One call; null for a notification (no id), which gets no response. */
  private async one (req: unknown, caller: Caller): Promise<Response | null> {
    if (typeof req !== 'object' || req === null || Array.isArray(req)) return errorResponse(null, { code: RpcCode.INVALID_REQUEST, message: 'a request is an object' })
    const r = req as { jsonrpc?: unknown, id?: unknown, method?: unknown, params?: unknown }
    const idOk = r.id === undefined || r.id === null || typeof r.id === 'string' || (typeof r.id === 'number' && Number.isFinite(r.id))
    const id: Id = idOk && r.id !== undefined ? r.id as Id : null
    if (r.jsonrpc !== '2.0' || typeof r.method !== 'string' || !idOk) return errorResponse(id, { code: RpcCode.INVALID_REQUEST, message: 'invalid request: needs jsonrpc "2.0", a method and a string or number id' })
    const isNotification = r.id === undefined
    let response: Response
    if (r.method === 'rpc.discover') response = { jsonrpc: '2.0', id, result: this.doc as Json }
    else if (!Object.hasOwn(methods, r.method)) response = errorResponse(id, { code: RpcCode.METHOD_NOT_FOUND, message: `method not found: ${r.method.slice(0, 64)}` })
    else {
      const limit = r.method === 'tx_submit' ? this.ctx.commitWaitMs + 1000 : this.opts.callTimeoutMs
      try {
        response = { jsonrpc: '2.0', id, result: await withTimeout(call(this.ctx, r.method, r.params), limit) }
      } catch (e) {
        const error = toRpcError(e)
        if (error.code === RpcCode.INTERNAL) this.log.error('RPC call failed', { method: r.method, error: (e as Error).stack ?? String(e) })
        response = errorResponse(id, error)
      }
    }
    return isNotification ? null : response
  }
}

async function withTimeout<T> (p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new ChorusError(ErrorCode.TIMEOUT, `call took over ${ms} ms`)), ms) })
  try {
    return await Promise.race([p, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** The body as text, or null once it passes `max` bytes. */
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

function send (res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}
