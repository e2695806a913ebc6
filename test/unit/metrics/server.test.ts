import { afterEach, describe, expect, it } from 'vitest'
import { silentLogger } from '../../../src/logger.ts'
import { Metrics } from '../../../src/metrics/metrics.ts'
import { MetricsServer } from '../../../src/metrics/server.ts'

const servers: MetricsServer[] = []
afterEach(async () => { for (const s of servers.splice(0)) await s.stop() })

async function serve (port = 0): Promise<MetricsServer> {
  const m = new Metrics({ process: false })
  m.blocks.inc(2)
  const s = new MetricsServer({ host: '127.0.0.1', port }, m, silentLogger)
  servers.push(s)
  await s.start()
  return s
}

describe('MetricsServer', () => {
  it('answers GET and HEAD /metrics in the text format, 404 elsewhere, 405 for other methods', async () => {
    const s = await serve()
    expect(s.url).toBe(`http://127.0.0.1:${s.port}/metrics`)
    const res = await fetch(s.url)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
    expect(await res.text()).toMatch(/^chorus_chain_blocks_total 2$/m)
    expect((await fetch(`${s.url}?x=1`)).status).toBe(200)
    const head = await fetch(s.url, { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(await head.text()).toBe('')
    expect((await fetch(`http://127.0.0.1:${s.port}/`)).status).toBe(404)
    expect((await fetch(`http://127.0.0.1:${s.port}/metricsx`)).status).toBe(404)
    expect((await fetch(s.url, { method: 'POST', body: '' })).status).toBe(405)
  })

  it('refuses a port in use with UNAVAILABLE naming the flag, and stops cleanly', async () => {
    const s = await serve()
    await expect(serve(s.port)).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringContaining('--metrics-port') })
    servers.pop()
    const url = s.url
    await s.stop()
    await s.stop() // a second stop does nothing
    await expect(fetch(url)).rejects.toThrow()
  })
})
