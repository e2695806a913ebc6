/**
 * `chorus start --memory-target` (start-runtime.ts's MemoryTarget over util/memory-target.ts):
 * the flag's parsing, the controller's flag changes against fake samples, and, in a real Node
 * child process, that the V8 flag it sets makes V8 collect harder.
 */
import { execFileSync } from 'node:child_process'
import { totalmem } from 'node:os'
import { fileURLToPath } from 'node:url'
import { Command } from 'commander'
import { afterEach, describe, expect, it } from 'vitest'
import { registerStart } from '../../../src/cli/commands/start.ts'
import { MemoryTarget, startMemoryTarget } from '../../../src/cli/commands/start-runtime.ts'
import { DEFAULT_STEPS, defaultMemoryTargetMiB, memoryTargetInEffect, memoryTargetPolicy } from '../../../src/util/memory-target.ts'

const MiB = 2 ** 20

/** The options `chorus start ARGS` parses to, its action replaced (no node is started). */
async function startOptions (args: string[]): Promise<Record<string, unknown>> {
  const program = new Command('chorus').exitOverride()
  registerStart(program)
  const start = program.commands.find((c) => c.name() === 'start')!
  start.exitOverride().configureOutput({ writeErr: () => {} })
  let seen: Record<string, unknown> | null = null
  start.action((opts: Record<string, unknown>) => { seen = opts })
  await program.parseAsync(['start', ...args], { from: 'user' })
  return seen!
}

describe('chorus start --memory-target', () => {
  it('takes MiB, 0 or off; defaults to a quarter of the machine\'s memory, at least 512; refuses anything else; is in --help', async () => {
    expect((await startOptions([])).memoryTarget).toBe(defaultMemoryTargetMiB(totalmem()))
    expect(defaultMemoryTargetMiB(1 * 2 ** 30)).toBe(512)
    expect(defaultMemoryTargetMiB(2 * 2 ** 30)).toBe(512)
    expect(defaultMemoryTargetMiB(24 * 2 ** 30)).toBe(6144)
    expect((await startOptions(['--memory-target', '768'])).memoryTarget).toBe(768)
    expect((await startOptions(['--memory-target', '0'])).memoryTarget).toBe(0)
    expect((await startOptions(['--memory-target', 'off'])).memoryTarget).toBe(0)
    await expect(startOptions(['--memory-target', '512M'])).rejects.toThrow(/expected MiB/)
    await expect(startOptions(['--memory-target', '-5'])).rejects.toThrow()
    const program = new Command('chorus')
    registerStart(program)
    expect(program.commands.find((c) => c.name() === 'start')!.helpInformation().replace(/\s+/g, ' ')).toMatch(/--memory-target <MiB>.*soft bound.*RSS.*\(default a quarter of this machine's memory, at least 512/)
  })
})

describe('MemoryTarget', () => {
  afterEach(() => { memoryTargetInEffect.current = null })

  it('sets V8\'s flag only when its step changes, publishes it for the metrics, and gives V8 its own growth back on stop', () => {
    let rss = 100 * MiB
    const set: number[] = []
    const steps = [{ from: 0.7, percent: 100 }, { from: 0.85, percent: 50 }, { from: 0.95, percent: 20 }]
    const target = new MemoryTarget(memoryTargetPolicy(1000 * MiB, steps), { rss: () => rss, setGrowingPercent: (p) => { set.push(p) } })
    expect(target.sample()).toBe(0)
    expect(set).toEqual([]) // V8's default is already in effect
    for (const mib of [750, 760, 900, 990, 980, 700, 500]) {
      rss = mib * MiB
      target.sample()
    }
    expect(set).toEqual([100, 50, 20, 100, 0])
    rss = 960 * MiB
    target.sample()
    expect(memoryTargetInEffect.current).toEqual({ targetBytes: 1000 * MiB, growingPercent: 20 })
    target.stop()
    expect(set.at(-1)).toBe(0)
    expect(target.growingPercent).toBe(0)
    expect(memoryTargetInEffect.current).toBeNull()
  })

  it('does not run with a target of 0, nor when node was given --heap-growing-percent of its own', () => {
    expect(startMemoryTarget(0, null)).toBeNull()
    expect(startMemoryTarget(512, null, ['--max-semi-space-size=16', '--heap-growing-percent=50'])).toBeNull()
    expect(startMemoryTarget(512, null, ['--heap_growing_percent=50'])).toBeNull()
    expect(memoryTargetInEffect.current).toBeNull()
  })
})

const MODULE = fileURLToPath(new URL('../../../src/cli/commands/start-runtime.ts', import.meta.url))
/**
 * A live set of ~60 MB, then objects kept long enough to be promoted and dropped (old-generation
 * garbage, as a node's blocks and cached values are): full GCs counted, the heap's peak sampled.
 */
const CHURN = `
  import v8 from 'node:v8'
  const { startMemoryTarget } = await import(${JSON.stringify(MODULE)})
  const target = startMemoryTarget(Number(process.env.TARGET_MIB), null)
  const gcs = new v8.GCProfiler()
  gcs.start()
  const live = Array.from({ length: 200000 }, (_, i) => ({ i, s: 'x'.repeat(100) + i }))
  const ring = new Array(50000)
  let peak = 0
  for (let i = 0; i < 4000000; i++) {
    ring[i % ring.length] = { i, a: [i, i + 1, i + 2], s: 'y' + i }
    if (i % 10000 === 0) peak = Math.max(peak, v8.getHeapStatistics().total_heap_size)
  }
  const majors = gcs.stop().statistics.filter((s) => s.gcType === 'MarkSweepCompact').length
  console.log(JSON.stringify({ percent: target?.growingPercent ?? null, majors, peak, live: live.length }))
`
/** The churn's result, and the growth factors V8 reported after its full GCs (`--trace-gc-verbose`). */
function churn (targetMiB: number): { percent: number | null, majors: number, peak: number, factors: number[] } {
  const out = execFileSync(process.execPath, ['--max-semi-space-size=16', '--trace-gc-verbose', '--import', 'tsx', '--input-type=module', '-e', CHURN], { env: { ...process.env, TARGET_MIB: String(targetMiB) }, encoding: 'utf8', maxBuffer: 64 << 20 })
  const factors = [...out.matchAll(/\[HeapController\] factor ([\d.]+)/g)].map((m) => Number(m[1]))
  return { ...JSON.parse(out.split('\n').find((l) => l.startsWith('{'))!), factors }
}

describe('the memory target in a real process', () => {
  it('makes V8 grow its heap by the step\'s factor after every full GC', () => {
    // V8 reports the factor it sets the next limit by: 1 + percent/100 under a target, its own
    // choice (from its measured GC and mutator speeds, which a loaded machine sways) without
    const tight = churn(1) // 1 MiB: any process is past it, so the tightest step from the first sample
    const step = DEFAULT_STEPS.at(-1)!.percent
    expect(tight.percent).toBe(step)
    expect(tight.majors).toBeGreaterThan(0)
    expect(tight.factors.length).toBeGreaterThan(0)
    expect(new Set(tight.factors)).toEqual(new Set([1 + step / 100]))
    const off = churn(0)
    expect(off.percent).toBeNull()
    expect(off.factors.length).toBeGreaterThan(0)
  }, 120_000)
})
