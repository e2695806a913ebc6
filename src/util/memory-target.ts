/**
 * A memory target for the node process, as Go's GOMEMLIMIT is for a Go program: a soft bound
 * on RSS that makes the garbage collector work harder as the process nears it, never a limit
 * that fails allocations. Below the first step V8 grows its heap as it likes (fastest while
 * the state is small); at each step up, V8's old generation may grow less past its live size
 * after a full GC (`--heap-growing-percent`, which V8 reads at every full GC), so the heap and
 * the garbage's malloc'd buffers it holds take less RSS, for more GC work. This module is the
 * decision only (samples of RSS in, a step out); `chorus start` samples and sets the flag
 * (cli/commands/start-runtime.ts). docs/decisions.md, "Memory target".
 */

/** One step: at or above `from` × the target of RSS, V8's old generation grows by `percent` % of its live size after a full GC. */
export interface MemoryTargetStep {
  readonly from: number
  readonly percent: number
}

export interface MemoryTargetPolicy {
  /** RSS the process aims to stay under, in bytes; 0 for none (V8's own growth always). */
  readonly targetBytes: number
  /** From the loosest to the tightest: `from` increasing, `percent` decreasing. */
  readonly steps: readonly MemoryTargetStep[]
  /** Hysteresis: a step is left for a looser one only once RSS is below (its `from` − `release`) × the target. */
  readonly release: number
}

/**
 * V8's default grows the old generation to 2–3× its live set; `--heap-growing-percent` 30–100
 * took `growth.ts` to 300k posts from ~780 MB RSS to 437–580 MB, for 3–26% of the rate per CPU
 * second at 10k–100k posts (docs/performance.md, "RSS: glibc's allocator and V8's heap
 * growth"). So nothing below 70% of the target. No step under 50: at 1M posts a node held at 20
 * had ~560 MB RSS against ~580 at 100, the heap being a third of it by then, for twice the GC
 * CPU a committed tx (docs/decisions.md, "Memory target").
 */
export const DEFAULT_STEPS: readonly MemoryTargetStep[] = [
  { from: 0.7, percent: 100 },
  { from: 0.85, percent: 50 }
]
export const DEFAULT_RELEASE = 0.1
/** The least `chorus start --memory-target` defaults to, MiB: the node's goal with 1M posts and 100k accounts (issue #10). */
export const MIN_DEFAULT_MEMORY_TARGET_MIB = 512

/**
 * `chorus start --memory-target`'s default on a machine with `totalBytes` of memory: a quarter of
 * it (as the JVM sizes its default heap), at least MIN_DEFAULT_MEMORY_TARGET_MIB. A target the node
 * nears costs it throughput (`load.ts`: 15% at 512 MiB, where RSS passes 70% of it by ~50k
 * posts), so a machine with memory to spare is not made to pay it; a small one is kept near 512.
 */
export function defaultMemoryTargetMiB (totalBytes: number): number {
  return Math.max(MIN_DEFAULT_MEMORY_TARGET_MIB, Math.floor(totalBytes / 4 / 2 ** 20))
}

/** No step: V8 chooses its own growing factor (`--heap-growing-percent=0`). */
export const NO_STEP = -1

export function memoryTargetPolicy (targetBytes: number, steps: readonly MemoryTargetStep[] = DEFAULT_STEPS, release = DEFAULT_RELEASE): MemoryTargetPolicy {
  if (!Number.isFinite(targetBytes) || targetBytes < 0) throw new RangeError(`a memory target is a number of bytes ≥ 0, not ${targetBytes}`)
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i]!
    const prev = steps[i - 1]
    if (!(s.from > 0) || !Number.isInteger(s.percent) || s.percent < 1) throw new RangeError(`a memory target step needs from > 0 and a whole percent ≥ 1: ${JSON.stringify(s)}`)
    if (prev !== undefined && !(s.from > prev.from && s.percent < prev.percent)) throw new RangeError('memory target steps go from the loosest to the tightest')
  }
  if (!(release >= 0)) throw new RangeError(`release must be ≥ 0, not ${release}`)
  return { targetBytes, steps, release }
}

/**
 * The step to run at after an RSS sample of `rss` bytes, at step `current` (NO_STEP: none).
 * Up at once to the tightest step whose threshold RSS has reached; down past each step only
 * once RSS is `release` below that step's threshold (so a sample near a threshold does not
 * flip the flag back and forth). With no target: NO_STEP; a sample that is no number of bytes
 * keeps the current step.
 */
export function nextStep (policy: MemoryTargetPolicy, current: number, rss: number): number {
  if (policy.targetBytes === 0 || policy.steps.length === 0) return NO_STEP
  const at = Math.max(NO_STEP, Math.min(current, policy.steps.length - 1))
  if (!Number.isFinite(rss) || rss <= 0) return at
  const fraction = rss / policy.targetBytes
  let reached = NO_STEP
  while (reached + 1 < policy.steps.length && fraction >= policy.steps[reached + 1]!.from) reached++
  if (reached >= at) return reached
  let step = at
  while (step > reached && fraction < policy.steps[step]!.from - policy.release) step--
  return step
}

/** `--heap-growing-percent` at `step`: 0 (V8's own factor) at NO_STEP. */
export function growingPercent (policy: MemoryTargetPolicy, step: number): number {
  return step === NO_STEP ? 0 : policy.steps[step]?.percent ?? 0
}

/** `--memory-target`'s value: MiB as a whole number, 0 or "off" for none. Null if it is neither. */
export function parseMemoryTargetMiB (value: string): number | null {
  const v = value.trim().toLowerCase()
  if (v === 'off') return 0
  if (!/^\d+$/.test(v)) return null
  const n = Number(v)
  return Number.isSafeInteger(n) && n * 1024 * 1024 <= Number.MAX_SAFE_INTEGER ? n : null
}

/**
 * What runs in this process now, for the metrics: V8's flags belong to the process, not to a
 * node (tests run several nodes in one), so the one memory target of `chorus start` is kept
 * here, where the node's metrics read it. Null while no target runs.
 */
export const memoryTargetInEffect: { current: { readonly targetBytes: number, readonly growingPercent: number } | null } = { current: null }
