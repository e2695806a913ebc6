/**
 * The CLI as shipped (#8): bin/chorus.js runs the compiled dist/ (the global setup builds it), an
 * older Node is told in one line what Chorus needs, a command loads only what it uses, and no
 * command needs a usable TMPDIR.
 */
import { execFile, spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { registerHooks } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RpcClient } from '../../src/client/rpc-client.ts'
import { CLI, freePort } from '../support/node-process.ts'
import { waitFor } from '../support/wait.ts'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

interface Run { code: number | null, stdout: string, stderr: string }

/** `node [nodeArgs] bin/chorus.js args` with `env` added; never throws on a non-zero exit. */
async function run (args: string[], opts: { env?: Record<string, string>, nodeArgs?: string[] } = {}): Promise<Run> {
  return await new Promise((resolve) => {
    execFile(process.execPath, [...(opts.nodeArgs ?? []), CLI, ...args], { env: { ...process.env, ...opts.env }, timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stdout, stderr })
    })
  })
}

let dir: string
beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'chorus-shipped-')) })
afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

describe('bin/chorus.js', () => {
  it('tells an older Node, in one line, which version Chorus needs (the engines field\'s)', async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }
    const needs = /^>=(\d+)$/.exec(pkg.engines.node)?.[1]
    expect(needs).toBeDefined()
    const old = await run(['--help'], { nodeArgs: ['--import', 'data:text/javascript,Object.defineProperty(process.versions, "node", { value: "20.19.0" })'] })
    expect(old).toEqual({ code: 1, stdout: '', stderr: `chorus needs Node.js ${needs} or newer; this is Node.js 20.19.0\n` })
  })

  // module.registerHooks: Node 22.15 and later
  it.skipIf(typeof registerHooks !== 'function')('runs compiled JavaScript, and a command loads only what it uses', async () => {
    const hook = join(dir, 'trace-hook.mjs')
    await writeFile(hook, [
      "import { appendFileSync } from 'node:fs'",
      "import { registerHooks } from 'node:module'",
      'registerHooks({ load (url, context, next) { appendFileSync(process.env.CHORUS_TRACE, url + "\\n"); return next(url, context) } })'
    ].join('\n'))
    let runs = 0
    const loaded = async (args: string[]): Promise<string[]> => {
      const trace = join(dir, `trace${runs++}`)
      const r = await run(args, { nodeArgs: ['--import', hook], env: { CHORUS_TRACE: trace } })
      expect(r.stderr).not.toMatch(/\n\s+at /) // no stack trace
      return (await readFile(trace, 'utf8')).split('\n').filter((u) => u.startsWith('file:')).map((u) => u.slice(`file://${ROOT}`.length))
    }
    const heavy = /^node_modules\/(libp2p|@libp2p\/[^/]+|@chainsafe\/libp2p-[^/]+|level|classic-level|abstract-level|ws|prom-client|tsx)\//
    for (const args of [['--help'], ['start', '--help'], ['query', 'head', '--rpc', `http://127.0.0.1:${await freePort()}`]]) {
      const files = await loaded(args)
      expect(files).toContain('dist/cli/main.js')
      expect(files.filter((f) => f.endsWith('.ts') || f.startsWith('src/')), `${args.join(' ')} loads TypeScript`).toEqual([])
      expect(files.filter((f) => heavy.test(f)), `${args.join(' ')} loads the node's parts`).toEqual([])
    }
    // `query` loads no other command
    expect((await loaded(['query', '--help'])).filter((f) => f.startsWith('dist/cli/commands/')).sort()).toEqual(['dist/cli/commands/options.js', 'dist/cli/commands/query.js'])
  })
})

describe('without a usable TMPDIR', () => {
  for (const [i, what] of ['missing', 'a file, not a directory'].entries()) {
    it(`runs every kind of command with TMPDIR ${what}`, async () => {
      const env = { TMPDIR: i === 0 ? join(dir, 'no-tmp') : CLI }
      const home = join(dir, `home${i}`)
      const help = await run(['--help'], { env })
      expect(help.code).toBe(0)
      expect(help.stdout).toContain('Usage: chorus')
      const made = await run(['keys', 'new', 'alice', '--home', home, '--json'], { env })
      expect(made.code, made.stderr).toBe(0)
      expect((await run(['keys', 'list', '--home', home], { env })).stdout).toContain('alice')
      // no node there: a typed error, not a stack trace or a hang
      const refused = await run(['query', 'head', '--rpc', `http://127.0.0.1:${await freePort()}`], { env })
      expect(refused.code).toBe(1)
      expect(refused.stderr).toMatch(/^error: [A-Z_0-9]+: /)
      expect(refused.stderr).not.toMatch(/\n\s+at /)

      const rpcPort = await freePort()
      const node = spawn(process.execPath, [CLI, 'start', '--dev', '--home', home, '--rpc-port', String(rpcPort), '--p2p-port', String(await freePort())],
        { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] })
      let log = ''
      node.stderr.on('data', (d: Buffer) => { log += d.toString() })
      const exited = new Promise<number | null>((resolve) => node.once('exit', resolve))
      try {
        const rpc = new RpcClient(`http://127.0.0.1:${rpcPort}`)
        await waitFor(async () => node.exitCode === null && (await rpc.getHead()).height >= 1, 'the dev node to make a block', 30_000, 100)
      } catch (e) {
        node.kill('SIGKILL')
        throw new Error(`${(e as Error).message}\n${log}`)
      }
      node.kill('SIGTERM')
      expect(await exited, log).toBe(0)
      if (i === 0) await expect(stat(env.TMPDIR)).rejects.toMatchObject({ code: 'ENOENT' }) // nothing made one
    })
  }
})
