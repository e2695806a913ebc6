/**
 * `chorus start` re-executes itself with the V8 flags it runs a node with (start-runtime.ts):
 * once, in the same process, and not when the flag is given already.
 */
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { NODE_RUNTIME_FLAGS } from '../../../src/cli/commands/start-runtime.ts'

const MODULE = fileURLToPath(new URL('../../../src/cli/commands/start-runtime.ts', import.meta.url))
/** Prints the pid before, then runs execWithRuntimeFlags and prints pid, execArgv and the young generation's bound. */
const SCRIPT = `
  import v8 from 'node:v8'
  if (process.env.SEEN_PID === undefined) { process.env.SEEN_PID = String(process.pid); console.log('start ' + process.pid) }
  const { execWithRuntimeFlags } = await import(${JSON.stringify(MODULE)})
  execWithRuntimeFlags()
  console.log(JSON.stringify({ pid: process.pid, first: Number(process.env.SEEN_PID), execArgv: process.execArgv }))
`
const run = (env: NodeJS.ProcessEnv = {}, nodeArgs: string[] = []): { starts: number, last: { pid: number, first: number, execArgv: string[] } } => {
  const out = execFileSync(process.execPath, [...nodeArgs, '--import', 'tsx', '--input-type=module', '-e', SCRIPT], { env: { ...process.env, ...env }, encoding: 'utf8' }).trim().split('\n')
  return { starts: out.filter((l) => l.startsWith('start ')).length, last: JSON.parse(out.at(-1)!) }
}
const hasExecve = typeof (process as { execve?: unknown }).execve === 'function'

describe('chorus start\'s V8 flags', () => {
  it.runIf(hasExecve)('re-executes once, in the same process, with the flags added', () => {
    const { starts, last } = run()
    expect(starts).toBe(1)
    expect(last.pid).toBe(last.first)
    for (const f of NODE_RUNTIME_FLAGS) expect(last.execArgv).toContain(f)
  })

  it('leaves a flag given on the command line as given, and does nothing with CHORUS_V8_DEFAULTS=1', () => {
    expect(run({}, ['--max-semi-space-size=8']).last.execArgv.filter((a) => a.startsWith('--max-semi-space-size'))).toEqual(['--max-semi-space-size=8'])
    expect(run({ CHORUS_V8_DEFAULTS: '1' }).last.execArgv.some((a) => a.startsWith('--max-semi-space-size'))).toBe(false)
  })
})
