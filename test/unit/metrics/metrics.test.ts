import { describe, expect, it } from 'vitest'
import { Metrics } from '../../../src/metrics/metrics.ts'

describe('Metrics', () => {
  it('keeps each node\'s series on its own registry: two in one process do not clash', async () => {
    const a = new Metrics({ process: true })
    const b = new Metrics({ process: true })
    a.readings.head = () => ({ height: 5, ageMs: 0 })
    b.readings.head = () => ({ height: 9, ageMs: 0 })
    a.blocks.inc(3)
    expect(await a.scrape()).toMatch(/^chorus_chain_height 5$/m)
    expect(await b.scrape()).toMatch(/^chorus_chain_height 9$/m)
    expect(await a.scrape()).toMatch(/^chorus_chain_blocks_total 3$/m)
    expect(await b.scrape()).toMatch(/^chorus_chain_blocks_total 0$/m)
    expect(await a.scrape()).toMatch(/^process_cpu_user_seconds_total /m)
  })

  it('exports a gauge with no reading without a sample, and every name with its prefix and unit', async () => {
    const m = new Metrics({ process: false })
    const text = await m.scrape()
    expect(text).toContain('# TYPE chorus_rpc_connections gauge')
    expect(text).not.toMatch(/^chorus_rpc_connections /m)
    expect(text).not.toMatch(/^process_/m)
    const families = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((t) => ({ name: t[1]!, type: t[2]! }))
    expect(families.length).toBeGreaterThanOrEqual(25)
    for (const { name, type } of families) {
      expect(name).toMatch(/^chorus_[a-z0-9_]+$/)
      if (type === 'counter') expect(name).toMatch(/_total$/)
      else expect(name).not.toMatch(/_total$/)
    }
  })
})
