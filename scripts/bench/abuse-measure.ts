/**
 * What the abuse bench (scripts/bench/abuse.ts) measures, and its HTTP client:
 *   - `postRpc`: one JSON-RPC POST over a chosen agent and loopback source address, with a
 *     time limit; the response is streamed and counted, and only scanned (never held) when
 *     it is large, so a 200 MB answer costs the bench nothing but the reading.
 *   - `HeadProbe`: chain_getHead every ~100 ms on a connection of its own.
 *   - `RssSampler`: the node's VmRSS every ~100 ms, and its VmHWM (reset at the start).
 *   - `longestGap`: the longest stretch of a window in which no block was made, from the
 *     blocks' header times.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { Agent, request } from 'node:http'

const now = (): number => Date.now()
export const sleep = async (ms: number): Promise<void> => await new Promise((r) => setTimeout(r, ms))

// ---------------------------------------------------------------- counting outcomes

/** Outcomes by name (a reply's `data.code`, `rpc -32603`, `HTTP 429`, `timeout`, `ECONNRESET`, `ok`…). */
export class Tally {
  readonly counts = new Map<string, number>()
  add (key: string, n = 1): void { if (n > 0) this.counts.set(key, (this.counts.get(key) ?? 0) + n) }
  get (key: string): number { return this.counts.get(key) ?? 0 }
  /** "ok 1,200, RATE_LIMITED 40" (ok first, then by count). */
  text (): string {
    const rows = [...this.counts].sort((a, b) => (a[0] === 'ok' ? -1 : b[0] === 'ok' ? 1 : b[1] - a[1]))
    return rows.length === 0 ? 'none' : rows.map(([k, v]) => `${k} ${v.toLocaleString('en-US')}`).join(', ')
  }
}

/** The key a JSON-RPC error counts under: its typed code, else the JSON-RPC code. */
export const errorKey = (e: { code?: number, data?: { code?: string } }): string => e.data?.code ?? `rpc ${e.code ?? '?'}`

/** Counts each reply of a parsed response (one object or a batch) into `tally`. */
export function tallyReplies (tally: Tally, body: unknown): void {
  const replies = Array.isArray(body) ? body : [body]
  for (const r of replies as Array<{ result?: unknown, error?: { code?: number, data?: { code?: string } } }>) {
    if (r !== null && typeof r === 'object' && r.error !== undefined) tally.add(errorKey(r.error))
    else tally.add('ok')
  }
}

// ---------------------------------------------------------------- HTTP

export interface PostResult {
  status: number
  bytes: number
  ms: number
  /** The parsed body, when it was at most `parseBytes`. */
  json?: unknown
  /** A transport failure: `timeout`, `aborted`, an errno code. */
  failure?: string
  /** Replies counted into `scan` from a large body (a partial one too, cut off by a failure). */
  scanned: number
}

export interface PostOptions {
  agent: Agent
  localAddress: string
  timeoutMs: number
  /** Parse the body when it is at most this many bytes (default 1 MiB); larger ones are scanned. */
  parseBytes?: number
  /** For a body too large to parse: replies are counted into this by a scan of the stream. */
  scan?: Tally
  signal?: AbortSignal
}

/** A keep-alive agent with its own sockets (one per request in flight, up to `sockets`). */
export const ownAgent = (sockets = 1): Agent => new Agent({ keepAlive: true, maxSockets: sockets })

// In a large batch answer the server writes each reply as {"jsonrpc","id","result"|"error":{"code","message","data":{"code"}}}.
const REPLY_RE = /"result":|"error":\{"code":(-?\d+),"message":"(?:[^"\\]|\\.)*"(?:,"data":\{"code":"([A-Z_]+)")?/g

/** POSTs `body` to http://host:port/ from `localAddress`; never throws. */
export async function postRpc (host: string, port: number, body: string, o: PostOptions): Promise<PostResult> {
  const t0 = now()
  const parseBytes = o.parseBytes ?? 1 << 20
  return await new Promise((resolve) => {
    let done = false
    let status = 0
    let bytes = 0
    const chunks: Buffer[] = []
    let tail = ''
    const scanned = new Tally()
    const finish = (r: Omit<PostResult, 'ms' | 'bytes' | 'status' | 'scanned'>): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      o.signal?.removeEventListener('abort', onAbort)
      let n = 0
      for (const [k, v] of scanned.counts) { o.scan?.add(k, v); n += v }
      resolve({ status, bytes, ms: now() - t0, scanned: n, ...r })
    }
    const req = request({
      host, port, localAddress: o.localAddress, agent: o.agent, method: 'POST', path: '/',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), host: `${host}:${port}` }
    }, (res) => {
      status = res.statusCode ?? 0
      res.on('data', (c: Buffer) => {
        bytes += c.length
        if (bytes <= parseBytes) { chunks.push(c); return }
        if (chunks.length > 0) { c = Buffer.concat([...chunks, c]); chunks.length = 0 }
        if (o.scan === undefined) return
        // count replies whose match ends past the tail already scanned
        const s = tail + c.toString('latin1')
        for (const m of s.matchAll(REPLY_RE)) {
          if (m.index + m[0].length <= tail.length) continue
          scanned.add(m[0] === '"result":' ? 'ok' : (m[2] ?? `rpc ${m[1]}`))
        }
        tail = s.slice(-600)
      })
      res.on('end', () => {
        if (bytes <= parseBytes) {
          let json: unknown
          try { json = JSON.parse(Buffer.concat(chunks).toString('utf8')) } catch { json = undefined }
          finish({ json })
        } else {
          finish({})
        }
      })
      res.on('error', (e: NodeJS.ErrnoException) => finish({ failure: e.code ?? e.message }))
      res.on('aborted', () => finish({ failure: 'ECONNRESET' }))
    })
    const timer = setTimeout(() => { finish({ failure: 'timeout' }); req.destroy() }, o.timeoutMs)
    const onAbort = (): void => { finish({ failure: 'aborted' }); req.destroy() }
    if (o.signal?.aborted === true) { onAbort(); return }
    o.signal?.addEventListener('abort', onAbort)
    req.on('error', (e: NodeJS.ErrnoException) => finish({ failure: e.code ?? e.message }))
    req.end(body)
  })
}

/**
 * Counts one POST's outcome: a transport failure (for the calls a scan of a partial body
 * did not count), an HTTP error status, or each reply. A large body is counted by its scan.
 */
export function tallyPost (tally: Tally, r: PostResult, calls: number): void {
  if (r.failure !== undefined) { tally.add(r.failure === 'aborted' ? 'unanswered when the window ended' : r.failure, Math.max(0, calls - r.scanned)); return }
  if (r.json === undefined) {
    if (r.scanned === 0) tally.add(r.status !== 200 ? `HTTP ${r.status}` : 'unreadable answer', calls)
    return
  }
  if (r.status !== 200 && !Array.isArray(r.json)) {
    const e = (r.json as { error?: { code?: number, data?: { code?: string } } }).error
    tally.add(`HTTP ${r.status}${e === undefined ? '' : ' ' + errorKey(e)}`, calls)
    return
  }
  if (!Array.isArray(r.json) && calls > 1) {
    const e = (r.json as { error?: { code?: number, data?: { code?: string } } }).error
    tally.add(e === undefined ? 'bad reply' : `batch ${errorKey(e)}`, calls)
    return
  }
  tallyReplies(tally, r.json)
}

/** A JSON-RPC call for the bench's own reads; throws on any failure. */
export async function rpcCall<T> (port: number, method: string, params: unknown[], o: { agent: Agent, localAddress?: string, timeoutMs?: number, parseBytes?: number }): Promise<T> {
  const r = await postRpc('127.0.0.1', port, JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }), { agent: o.agent, localAddress: o.localAddress ?? '127.0.0.1', timeoutMs: o.timeoutMs ?? 10_000, parseBytes: o.parseBytes ?? 64 << 20 })
  if (r.failure !== undefined) throw new Error(`${method}: ${r.failure}`)
  const body = r.json as { result?: T, error?: { code: number, message: string, data?: { code?: string } } } | undefined
  if (body === undefined) throw new Error(`${method}: HTTP ${r.status}, not JSON`)
  if (body.error !== undefined) throw Object.assign(new Error(`${method}: ${errorKey(body.error)} ${body.error.message}`), { rpc: body.error })
  return body.result as T
}

/** A batch of calls for the bench's own use; returns each reply (result or error) in order. */
export async function rpcBatch (port: number, calls: Array<[string, unknown[]]>, o: { agent: Agent, localAddress?: string, timeoutMs?: number }): Promise<Array<{ result?: any, error?: { code: number, message: string, data?: { code?: string } } }>> {
  const r = await postRpc('127.0.0.1', port, JSON.stringify(calls.map(([method, params], id) => ({ jsonrpc: '2.0', id, method, params }))), { agent: o.agent, localAddress: o.localAddress ?? '127.0.0.1', timeoutMs: o.timeoutMs ?? 30_000, parseBytes: 64 << 20 })
  const fail = (message: string, code = 'UNAVAILABLE'): Array<{ error: { code: number, message: string, data: { code: string } } }> => calls.map(() => ({ error: { code: -32002, message, data: { code } } }))
  if (r.failure !== undefined) return fail(r.failure)
  if (!Array.isArray(r.json)) {
    const e = (r.json as { error?: { code: number, message: string, data?: { code?: string } } } | undefined)?.error
    return e === undefined ? fail(`HTTP ${r.status}`) : calls.map(() => ({ error: e }))
  }
  const out: Array<{ result?: any, error?: { code: number, message: string, data?: { code?: string } } }> = calls.map(() => ({ error: { code: -1, message: 'no reply' } }))
  for (const x of r.json as Array<{ id: number }>) out[x.id] = x as never
  return out
}

// ---------------------------------------------------------------- the head probe

export interface HeadSeen { height: number, timeMs: number, at: number }

/**
 * chain_getHead every `everyMs` on one keep-alive connection of its own (from
 * 127.0.0.1), each call limited to `timeoutMs`; a call that fails or times out counts
 * as a failure (a new connection is made for the next).
 */
export class HeadProbe {
  readonly latencies: number[] = []
  readonly failures = new Tally()
  readonly heads: HeadSeen[] = []
  private running = true
  private readonly done: Promise<void>
  private readonly agent = ownAgent(1)

  constructor (private readonly port: number, private readonly everyMs = 100, private readonly timeoutMs = 2000) {
    this.done = this.loop()
  }

  private async loop (): Promise<void> {
    let next = now()
    while (this.running) {
      const r = await postRpc('127.0.0.1', this.port, '{"jsonrpc":"2.0","id":1,"method":"chain_getHead","params":[]}', { agent: this.agent, localAddress: '127.0.0.1', timeoutMs: this.timeoutMs })
      if (!this.running) break
      const head = (r.json as { result?: { height: number, timeMs: number } } | undefined)?.result
      if (r.failure === undefined && head !== undefined) {
        this.latencies.push(r.ms)
        this.heads.push({ height: head.height, timeMs: head.timeMs, at: now() })
      } else {
        this.failures.add(r.failure ?? (r.json === undefined ? `HTTP ${r.status}` : errorKey((r.json as { error: { code?: number } }).error ?? {})))
      }
      next += this.everyMs
      const wait = next - now()
      if (wait > 0) await sleep(wait)
      else next = now()
    }
  }

  /** Latencies in ms, sorted, with each failure counted as +Infinity. */
  get all (): number[] {
    const failed = [...this.failures.counts.values()].reduce((s, n) => s + n, 0)
    return [...this.latencies, ...Array<number>(failed).fill(Infinity)].sort((a, b) => a - b)
  }

  async stop (): Promise<void> {
    this.running = false
    await this.done
    this.agent.destroy()
  }
}

// ---------------------------------------------------------------- RSS

async function statusKb (pid: number, field: 'VmRSS' | 'VmHWM'): Promise<number> {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(await readFile(`/proc/${pid}/status`, 'utf8'))
    return m === null ? 0 : Number(m[1])
  } catch {
    return 0
  }
}

/** The node's peak RSS over a window: VmRSS sampled every `everyMs`, and VmHWM reset at the start. */
export class RssSampler {
  peakKb = 0
  samples = 0
  private hwmReset = false
  private readonly timer: NodeJS.Timeout

  private constructor (private readonly pid: number, everyMs: number) {
    this.timer = setInterval(() => { void this.sample() }, everyMs)
  }

  static async start (pid: number, everyMs = 100): Promise<RssSampler> {
    const s = new RssSampler(pid, everyMs)
    try { await writeFile(`/proc/${pid}/clear_refs`, '5'); s.hwmReset = true } catch { /* no reset: sampling alone */ }
    await s.sample()
    return s
  }

  private async sample (): Promise<void> {
    const kb = await statusKb(this.pid, 'VmRSS')
    if (kb > 0) { this.samples++; this.peakKb = Math.max(this.peakKb, kb) }
  }

  /** Peak RSS in bytes. */
  async stop (): Promise<number> {
    clearInterval(this.timer)
    await this.sample()
    if (this.hwmReset) this.peakKb = Math.max(this.peakKb, await statusKb(this.pid, 'VmHWM'))
    return this.peakKb * 1024
  }
}

// ---------------------------------------------------------------- gaps

export interface GapResult {
  /** Longest stretch of the window with no new block, ms. */
  ms: number
  /** The longest stretch runs to the window's end (no block after it yet: a stall). */
  open: boolean
  blocks: number
}

/**
 * The longest stretch of [start, end] in which no block was made, given the header
 * times of every block from the last one before `start` on (sorted, any order accepted).
 */
export function longestGap (times: number[], start: number, end: number): GapResult {
  const t = [...times].sort((a, b) => a - b)
  const before = t.filter((x) => x <= start)
  const inside = t.filter((x) => x > start && x <= end)
  const after = t.find((x) => x > end)
  const seq = [before.at(-1) ?? start, ...inside]
  let ms = 0
  for (let i = 1; i < seq.length; i++) ms = Math.max(ms, Math.min(seq[i]!, end) - Math.max(seq[i - 1]!, start))
  const clipped = Math.min(after ?? end, end) - Math.max(seq.at(-1)!, start)
  const open = after === undefined && clipped >= ms
  ms = Math.max(ms, clipped)
  return { ms, open, blocks: inside.length }
}

// ---------------------------------------------------------------- stats

export const quantile = (sorted: number[], p: number): number => sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!
