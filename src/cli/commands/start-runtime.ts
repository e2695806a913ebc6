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
