import v8 from 'node:v8'
import type { Logger } from '../../logger.ts'
import { type MemoryTargetPolicy, NO_STEP, growingPercent, memoryTargetInEffect, memoryTargetPolicy, nextStep } from '../../util/memory-target.ts'

/**
 * The V8 settings `chorus start` runs a node with. They must be given when the process starts
 * (V8 sizes its heap then), so `start` re-executes itself with them, before it opens anything:
 * `process.execve` replaces the process image in place (the same pid, the same stdin, stdout and
 * stderr; Node 23.11 and later; on older Node the node runs with V8's defaults). A flag already
 * given (on the command line or in NODE_OPTIONS) is left as given; CHORUS_V8_DEFAULTS=1 skips
 * all of them.
 *
 * --max-semi-space-size=16: V8's young generation on a 64-bit Node without pointer compression
 * grows to two 64 MiB semi-spaces under load and stays there: 128 MiB of the node's RSS for
 * objects that mostly live one request or one block. Capped at 16 MiB each, `growth.ts
 * --max-posts 300000` ended at 774 and 705 MB RSS against 842 and 847 MB without (two pairs run
 * back to back), the node's CPU per committed tx the same within the runs' noise (3,442 and 4,018
 * txs per CPU-second against 3,760 and 3,626; the main thread's share 10–15% higher, its GC
 * helpers' lower), and `load.ts` committed 7,484 and 7,148 tx/s against 7,819 and 7,025
 * (docs/performance.md, "Growth").
 */
export const NODE_RUNTIME_FLAGS: readonly string[] = ['--max-semi-space-size=16']

type Execve = (file: string, args: string[], env: NodeJS.ProcessEnv) => never

/** Re-executes this process with the NODE_RUNTIME_FLAGS it lacks; returns when it has them all (or cannot re-execute). */
export function execWithRuntimeFlags (): void {
  const execve = (process as { execve?: Execve }).execve
  if (typeof execve !== 'function' || process.env.CHORUS_V8_DEFAULTS === '1') return
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].map(flagName)
  const missing = NODE_RUNTIME_FLAGS.filter((f) => !given.includes(flagName(f)))
  if (missing.length === 0) return
  try {
    execve.call(process, process.execPath, [process.execPath, ...missing, ...process.execArgv, ...process.argv.slice(1)], process.env)
  } catch {
    // not allowed here (a sandbox): run with V8's defaults
  }
}

/** "--max-semi-space-size" of "--max-semi-space-size=16"; V8 takes "_" and "-" alike. */
const flagName = (arg: string): string => arg.split('=')[0]!.replace(/_/g, '-')

export interface MemoryTargetIo {
  /** The process's resident set, bytes. */
  rss: () => number
  /** Sets V8's `--heap-growing-percent` (0: V8's own factor); V8 reads it at its next full GC. */
  setGrowingPercent: (percent: number) => void
}

const processIo: MemoryTargetIo = {
  rss: () => process.memoryUsage.rss(),
  setGrowingPercent: (percent) => { v8.setFlagsFromString(`--heap-growing-percent=${percent}`) }
}

/** How often the memory target reads RSS: V8 takes a changed flag at its next full GC anyway. */
export const MEMORY_TARGET_INTERVAL_MS = 1000

/**
 * `chorus start --memory-target`: reads the process's RSS every `intervalMs` and moves V8's
 * heap growth by util/memory-target.ts's steps. One per process (V8's flags are global), so
 * it belongs to `start`, not to ChorusNode. `sample()` is one tick, for tests.
 */
export class MemoryTarget {
  private step = NO_STEP
  private timer: NodeJS.Timeout | null = null

  constructor (readonly policy: MemoryTargetPolicy, private readonly io: MemoryTargetIo = processIo, private readonly logger: Logger | null = null) {}

  /** The `--heap-growing-percent` in effect: 0 is V8's own factor. */
  get growingPercent (): number { return growingPercent(this.policy, this.step) }

  start (intervalMs = MEMORY_TARGET_INTERVAL_MS): this {
    this.publish()
    this.sample()
    this.timer = setInterval(() => { this.sample() }, intervalMs)
    this.timer.unref()
    return this
  }

  /** Reads RSS once and sets the flag if the step changes; returns the percent in effect. */
  sample (): number {
    const rss = this.io.rss()
    const step = nextStep(this.policy, this.step, rss)
    if (step !== this.step) {
      const from = this.growingPercent
      this.step = step
      this.io.setGrowingPercent(this.growingPercent)
      this.publish()
      this.logger?.info('Memory target: V8 heap growth changed', {
        rssMiB: Math.round(rss / 2 ** 20), targetMiB: Math.round(this.policy.targetBytes / 2 ** 20), heapGrowingPercent: describePercent(this.growingPercent), was: describePercent(from)
      })
    }
    return this.growingPercent
  }

  /** Stops sampling and gives V8 its own growth back. */
  stop (): void {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
    if (this.step !== NO_STEP) this.io.setGrowingPercent(0)
    this.step = NO_STEP
    memoryTargetInEffect.current = null
  }

  private publish (): void {
    memoryTargetInEffect.current = { targetBytes: this.policy.targetBytes, growingPercent: this.growingPercent }
  }
}

const describePercent = (p: number): string => p === 0 ? 'V8\'s own' : `${p}%`

/**
 * Starts the memory target for `chorus start` (`--memory-target <MiB>`, 0 for none), unless
 * the node was given `--heap-growing-percent` of its own: that one is left as given. Returns
 * null when it does not run.
 */
export function startMemoryTarget (targetMiB: number, logger: Logger | null, execArgv: readonly string[] = process.execArgv): MemoryTarget | null {
  if (targetMiB === 0) return null
  if (execArgv.some((a) => flagName(a) === '--heap-growing-percent')) {
    logger?.info('Memory target off: the node was given its own --heap-growing-percent', { targetMiB })
    return null
  }
  return new MemoryTarget(memoryTargetPolicy(targetMiB * 2 ** 20), processIo, logger).start()
}
