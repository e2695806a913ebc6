/**
 * `chorus start --memory-target` in a real node: the flag reaches the runtime, which sets V8's
 * heap growth by the node's RSS, shows it on the metrics endpoint and logs the change; with
 * `--memory-target off` V8 keeps its own growth.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cacheSizesFor } from '../../src/node.ts'
import { DEFAULT_READ_CACHE_BYTES } from '../../src/state/read-cache.ts'
import { DEFAULT_STEPS } from '../../src/util/memory-target.ts'
import { freePort, type NodeProcess, startNode } from '../support/node-process.ts'
import { waitFor } from '../support/wait.ts'

let dir: string
const nodes: NodeProcess[] = []

beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'chorus-memory-target-')) })
afterAll(async () => {
  for (const n of nodes) await n.kill()
  await rm(dir, { recursive: true, force: true })
})

/** A node started with `extra`, and a reader of its memory target's two gauges. */
async function nodeWith (name: string, extra: string[]): Promise<{ node: NodeProcess, gauges: () => Promise<{ bytes: number, percent: number, readCacheMax: number }> }> {
  const metricsPort = await freePort()
  const node = await startNode(join(dir, name), ['--metrics-port', String(metricsPort), ...extra])
  nodes.push(node)
  const gauges = async (): Promise<{ bytes: number, percent: number, readCacheMax: number }> => {
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text()
    const read = (series: string): number => Number(new RegExp(`^${series} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN)
    return { bytes: read('chorus_memory_target_bytes'), percent: read('chorus_memory_target_heap_growing_percent'), readCacheMax: read('chorus_state_read_cache_max_bytes') }
  }
  return { node, gauges }
}

const TIGHTEST = DEFAULT_STEPS.at(-1)!.percent

describe('chorus start --memory-target', () => {
  it('tightens V8\'s heap growth in a node past its target, sizes its read cache from the target, and shows both', async () => {
    // 64 MiB: a running node's RSS is past every step's threshold from the first sample
    const { node, gauges } = await nodeWith('tight', ['--memory-target', '64'])
    expect(await waitFor(async () => { const g = await gauges(); return g.percent === TIGHTEST ? g : undefined }, 'the tightest step on the metrics endpoint')).toEqual({ bytes: 64 * 2 ** 20, percent: TIGHTEST, readCacheMax: cacheSizesFor(64 * 2 ** 20).readCacheBytes })
    await waitFor(() => new RegExp(`Memory target: V8 heap growth changed.*heapGrowingPercent=${TIGHTEST}%`).test(node.log()), 'the change in the log')
  }, 60_000)

  it('leaves V8 its own growth and the read cache its default size with --memory-target off', async () => {
    const { node, gauges } = await nodeWith('off', ['--memory-target', 'off'])
    expect(await gauges()).toEqual({ bytes: 0, percent: 0, readCacheMax: DEFAULT_READ_CACHE_BYTES })
    expect(node.log()).not.toMatch(/Memory target/)
  }, 60_000)
})
