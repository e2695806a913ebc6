/**
 * A real `chorus start` whose sign state cannot be written (a directory stands
 * where its temp file goes, so the write fails with EISDIR even as root) must
 * not stand still looking healthy: it logs one ERROR line naming the failure
 * and exits non-zero.
 */
import { spawn } from 'node:child_process'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { CLI, cli, freePort } from '../support/node-process.ts'

let home: string | undefined
afterAll(async () => { if (home !== undefined) await rm(home, { recursive: true, force: true }) })

describe('a node whose consensus cannot persist its state', () => {
  it('exits non-zero with a log line that names the failure', async () => {
    home = await mkdtemp(join(tmpdir(), 'chorus-io-exit-'))
    expect((await cli(['init', '--dev', '--home', home, '--json'])).code).toBe(0)
    await mkdir(join(home, 'sign-state.json.tmp'))
    const proc = spawn(process.execPath, [CLI, 'start', '--home', home, '--rpc-port', String(await freePort()), '--p2p-port', String(await freePort()), '--log-json'], { stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    proc.stdout.on('data', (d: Buffer) => { output += d.toString() })
    proc.stderr.on('data', (d: Buffer) => { output += d.toString() })
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => { proc.kill('SIGKILL'); resolve(null) }, 40_000)
      proc.once('exit', (c) => { clearTimeout(timer); resolve(c) })
    })
    expect(code, output).toBe(1)
    const lines = output.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { level: string, msg: string, error?: string })
    const errors = lines.filter((l) => l.level === 'error')
    expect(errors, output).toHaveLength(1)
    expect(errors[0]!.msg).toBe('Consensus halted; stopping the node')
    expect(errors[0]!.error).toMatch(/^cannot save the sign state: EISDIR: .*sign-state\.json\.tmp'$/)
    expect(lines.some((l) => l.msg === 'Node stopped'), output).toBe(true)
  }, 60_000)
})
