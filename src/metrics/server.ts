/**
 * GET /metrics on its own HTTP port (`chorus start --metrics-port`), apart from
 * the RPC: its own address (127.0.0.1 by default, for a Prometheus on the same
 * host or behind a tunnel), none of the RPC's limits in its way, and nothing of it
 * on the public RPC port. Anything else gets 404 (405 for another method).
 */
import { type Server, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Logger } from '../logger.ts'
import { ChorusError, ErrorCode } from '../protocol/errors.ts'
import type { Metrics } from './metrics.ts'

export interface MetricsServerOptions {
  host: string
  /** 0 for any free port. */
  port: number
}

/** Open connections at most: a few Prometheus servers and a curl, not the public. */
const MAX_CONNECTIONS = 32

export class MetricsServer {
  private server: Server | null = null

  constructor (private readonly opts: MetricsServerOptions, private readonly metrics: Metrics, private readonly log: Logger) {}

  async start (): Promise<void> {
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0]
      if (path !== '/metrics') return void res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: the metrics are at /metrics\n')
      if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('use GET\n')
      this.metrics.scrape().then((text) => {
        res.writeHead(200, { 'content-type': this.metrics.contentType, 'content-length': Buffer.byteLength(text) })
        res.end(req.method === 'HEAD' ? undefined : text)
      }, (e: unknown) => {
        this.log.error('Collecting metrics failed', { error: (e as Error).message })
        res.writeHead(500, { 'content-type': 'text/plain' }).end('collecting metrics failed\n')
      })
    })
    server.maxConnections = MAX_CONNECTIONS
    server.headersTimeout = 10_000
    server.requestTimeout = 30_000
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) => reject(e.code === 'EADDRINUSE' || e.code === 'EACCES' || e.code === 'EADDRNOTAVAIL'
        ? new ChorusError(ErrorCode.UNAVAILABLE, `cannot listen on ${this.opts.host}:${this.opts.port} for metrics (${e.code}): choose another --metrics-port or --metrics-host`)
        : e))
      server.listen(this.opts.port, this.opts.host, () => { server.removeAllListeners('error'); resolve() })
    })
    this.server = server
  }

  get port (): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? 0
  }

  /** Where Prometheus scrapes. */
  get url (): string {
    const host = this.opts.host.includes(':') ? `[${this.opts.host}]` : this.opts.host
    return `http://${host}:${this.port}/metrics`
  }

  async stop (): Promise<void> {
    const s = this.server
    if (s === null) return
    this.server = null
    s.closeAllConnections()
    await new Promise<void>((resolve) => s.close(() => resolve()))
  }
}
