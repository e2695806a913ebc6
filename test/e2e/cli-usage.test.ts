/**
 * The CLI's contract with a person at a terminal (#8 items 6 and 7): a usage error is one line
 * with a typed code and exit 2; `chorus` alone prints help; `keys list` refuses a home that is
 * not there; the home defaults to ~/.chorus unless CHORUS_HOME says otherwise; CHORUS_RPC and
 * CHORUS_KEY spare repeating flags; `tx` needs --key except on a dev chain; and the queries
 * status, validators, params, replies and mempool. Every child process gets its own HOME, so
 * no test touches the real ~/.chorus.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RpcClient } from '../../src/client/rpc-client.ts'
import { CLI, freePort } from '../support/node-process.ts'
import { waitFor } from '../support/wait.ts'

interface Run { code: number | null, stdout: string, stderr: string, json: any }

let dir: string
/** The HOME every child gets: the default home is HOME/.chorus. */
let home: string

/** `chorus ARGS` with HOME set to the test's, CHORUS_* cleared, and `env` added; never throws on a non-zero exit. */
async function run (args: string[], opts: { env?: Record<string, string>, cwd?: string } = {}): Promise<Run> {
  const env: Record<string, string | undefined> = { ...process.env, HOME: home }
  for (const k of Object.keys(env)) if (k.startsWith('CHORUS_')) delete env[k]
  return await new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...env, ...opts.env }, cwd: opts.cwd ?? dir, timeout: 30_000 }, (err, stdout, stderr) => {
      let json: unknown = null
      try { json = JSON.parse(stdout) } catch { /* not JSON */ }
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stdout, stderr, json })
    })
  })
}

/** Expects a usage error: exit 2, one line `error: CODE: …` on stderr, and with --json the same code on stdout. */
async function expectUsage (args: string[], code: string, opts: { env?: Record<string, string>, mentions?: string } = {}): Promise<void> {
  const r = await run([...args, '--json'], opts)
  const what = `chorus ${args.join(' ')}\n${r.stderr}`
  expect(r.code, what).toBe(2)
  expect(r.stderr, what).toMatch(new RegExp(`^error: ${code}: [^\\n]+\\n$`))
  expect(r.json, what).toEqual({ error: { code, message: expect.any(String) } })
  if (opts.mentions !== undefined) expect(r.stderr).toContain(opts.mentions)
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chorus-usage-'))
  home = join(dir, 'user')
  await mkdir(home)
})
afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

const ADDR = 'chorus1dj3vvm0yjug5z2gx25pg80fpygywwa2r0mnwpck88f6lt6ftzr9sa5nu2z'

describe('usage errors', () => {
  it('are one line with a typed code and exit 2, before anything runs', async () => {
    await expectUsage(['start', '--log-level', 'bogus'], 'INVALID_FIELD', { mentions: '--log-level bogus' })
    await expectUsage(['start', '--rpc-port', '70000'], 'INVALID_FIELD', { mentions: '--rpc-port 70000' })
    await expectUsage(['start'], 'INVALID_FIELD', { env: { CHORUS_LOG_LEVEL: 'loud' }, mentions: 'CHORUS_LOG_LEVEL=loud' })
    await expectUsage(['tx', 'transfer', ADDR, '-5'], 'INVALID_AMOUNT', { mentions: '-5' })
    await expectUsage(['tx', 'stake', '1.5'], 'INVALID_AMOUNT')
    await expectUsage(['tx', 'post', 'hi', '--fee', '-1'], 'INVALID_AMOUNT', { mentions: '--fee' })
    await expectUsage(['tx', 'like', 'xyz'], 'MALFORMED', { mentions: 'post id' })
    await expectUsage(['tx', 'post'], 'INVALID_FIELD', { mentions: 'text' })
    await expectUsage(['tx', 'post', 'hi', '--offline'], 'BAD_NONCE', { mentions: '--nonce' })
    await expectUsage(['tx', 'profile', '--home', join(dir, 'none')], 'INVALID_FIELD', { mentions: '--username' })
    await expectUsage(['tx', 'post', 'hi', '--no-such-flag'], 'INVALID_FIELD', { mentions: '--no-such-flag' })
    await expectUsage(['query', 'head', '--rpc', 'not a url'], 'INVALID_FIELD', { mentions: '--rpc' })
    await expectUsage(['query', 'head'], 'INVALID_FIELD', { env: { CHORUS_RPC: 'ftp://x' }, mentions: 'CHORUS_RPC' })
    await expectUsage(['query', 'posts', ADDR, '--limit', '0'], 'INVALID_FIELD', { mentions: '--limit' })
    await expectUsage(['query', 'replies', 'xyz'], 'MALFORMED')
    await expectUsage(['no-such-command'], 'INVALID_FIELD', { mentions: 'no-such-command' })
    await expectUsage(['--no-such-option'], 'INVALID_FIELD', { mentions: '--no-such-option' })
    await expectUsage(['init', '--genesis', 'g.json', '--validators', '2'], 'INVALID_FIELD', { mentions: '--genesis' })
    await expectUsage(['start', '--metrics-host', '127.0.0.1', '--home', join(dir, 'none')], 'INVALID_FIELD', { mentions: '--metrics-port' })
  })

  it('without --json print nothing on stdout and no help or stack', async () => {
    const r = await run(['tx', 'transfer', ADDR, '-5'])
    expect(r).toMatchObject({ code: 2, stdout: '' })
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
  })

  it('a failure while running is exit 1 with its code: a node that is not there', async () => {
    const r = await run(['query', 'head', '--rpc', `http://127.0.0.1:${await freePort()}`])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/^error: UNAVAILABLE: [^\n]+\n$/)
  })
})

describe('help', () => {
  it('`chorus` alone, and a command group alone, print help on stdout and exit 0', async () => {
    const top = await run([])
    expect(top.code).toBe(0)
    expect(top.stdout).toContain('Usage: chorus')
    expect(top.stdout).toContain('CHORUS_HOME')
    const tx = await run(['tx'])
    expect(tx.code).toBe(0)
    expect(tx.stdout).toContain('Usage: chorus tx')
  })

  it('names the environment variable and the default of --home, --rpc and --key', async () => {
    const post = await run(['tx', 'post', '--help'])
    expect(post.stdout).toMatch(/--home <dir>[^]*~\/\.chorus[^]*CHORUS_HOME/)
    expect(post.stdout).toMatch(/--rpc <url>[^]*CHORUS_RPC/)
    expect(post.stdout).toMatch(/--key <name>[^]*CHORUS_KEY/)
    expect(post.stdout).toMatch(/--key <name>[^]*dev chain/)
    const query = await run(['query', '--help'])
    for (const c of ['status', 'validators', 'params', 'replies', 'mempool']) expect(query.stdout).toMatch(new RegExp(`\\n  ${c} `))
  })
})

describe('homes', () => {
  it('keys list fails on a home that does not exist', async () => {
    const r = await run(['keys', 'list', '--home', join(dir, 'missing'), '--json'])
    expect(r.code).toBe(1)
    expect(r.json).toEqual({ error: { code: 'NOT_FOUND', message: expect.stringContaining(join(dir, 'missing')) } })
    const viaEnv = await run(['keys', 'list'], { env: { CHORUS_HOME: join(dir, 'missing2') } })
    expect(viaEnv.code).toBe(1)
    expect(viaEnv.stderr).toContain('NOT_FOUND')
  })

  it('takes an empty CHORUS_HOME as unset: ~/.chorus, not the working directory', async () => {
    const cwd = join(dir, 'empty-home-cwd')
    const ownHome = join(dir, 'empty-home-user') // not the HOME the other tests share
    await mkdir(cwd, { recursive: true })
    const made = await run(['keys', 'new', 'dora', '--json'], { cwd, env: { CHORUS_HOME: '', HOME: ownHome } })
    expect(made.code).toBe(0)
    await stat(join(ownHome, '.chorus', 'keys'))
    await expect(stat(join(cwd, 'keys'))).rejects.toThrow()
  })

  it('defaults to ~/.chorus whatever the working directory, and CHORUS_HOME moves it', async () => {
    await mkdir(join(dir, 'a', 'b'), { recursive: true })
    const made = await run(['keys', 'new', 'carol', '--json'], { cwd: join(dir, 'a') })
    expect(made.code, made.stderr).toBe(0)
    expect((await stat(join(home, '.chorus', 'keys', 'carol.json'))).isFile()).toBe(true)
    await expect(stat(join(dir, 'a', '.chorus'))).rejects.toMatchObject({ code: 'ENOENT' })
    const listed = await run(['keys', 'list', '--json'], { cwd: join(dir, 'a', 'b') })
    expect(listed.json.map((k: { name: string }) => k.name)).toEqual(['carol'])

    const other = join(dir, 'elsewhere')
    expect((await run(['keys', 'new', 'dave'], { env: { CHORUS_HOME: other } })).code).toBe(0)
    expect((await run(['keys', 'list', '--json'], { env: { CHORUS_HOME: other } })).json.map((k: { name: string }) => k.name)).toEqual(['dave'])
    // the flag wins over the variable
    expect((await run(['keys', 'list', '--json', '--home', join(home, '.chorus')], { env: { CHORUS_HOME: other } })).json.map((k: { name: string }) => k.name)).toEqual(['carol'])
  })
})

describe('tx --key', () => {
  it('is needed on a chain that is not a dev chain, and defaults to dev (said on stderr) on one', async () => {
    const h = join(dir, 'signer')
    expect((await run(['init', '--dev', '--home', h])).code).toBe(0)
    const args = ['tx', 'post', 'cold', '--offline', '--nonce', '0', '--home', h]
    await expectUsage([...args, '--chain-id', 'chorus-main'], 'INVALID_FIELD', { mentions: '--key' })
    const dev = await run([...args, '--json']) // the home's genesis: chorus-dev
    expect(dev.code, dev.stderr).toBe(0)
    expect(Object.keys(dev.json).sort()).toEqual(['hex', 'id'])
    expect(dev.stderr).toMatch(/signing with the "dev" key: no --key given, and chorus-dev is a dev chain/)
    const named = await run([...args, '--chain-id', 'chorus-main', '--key', 'validator', '--json'])
    expect(named.code, named.stderr).toBe(0)
    expect(named.stderr).toBe('')
    const viaEnv = await run([...args, '--chain-id', 'chorus-main', '--json'], { env: { CHORUS_KEY: 'validator' } })
    expect(viaEnv.json.hex).toBe(named.json.hex)
  })
})

describe('against a dev node in the default home', () => {
  let node: ChildProcess
  let rpc: RpcClient
  let env: Record<string, string>
  let log = ''

  beforeAll(async () => {
    const rpcPort = await freePort()
    const nodeHome = join(dir, 'nodeuser')
    await mkdir(nodeHome)
    env = { CHORUS_RPC: `http://127.0.0.1:${rpcPort}` }
    const childEnv: Record<string, string | undefined> = { ...process.env, HOME: nodeHome }
    for (const k of Object.keys(childEnv)) if (k.startsWith('CHORUS_')) delete childEnv[k]
    home = nodeHome // run() now uses this HOME: its ~/.chorus is the node's home
    node = spawn(process.execPath, [CLI, 'start', '--dev', '--block-time', '200', '--rpc-port', String(rpcPort), '--p2p-port', String(await freePort())],
      { env: childEnv, cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] })
    node.stderr!.on('data', (d: Buffer) => { log += d.toString() })
    rpc = new RpcClient(env.CHORUS_RPC!)
    try {
      await waitFor(async () => node.exitCode === null && (await rpc.getHead()).height >= 1, 'the dev node to make a block', 30_000, 100)
    } catch (e) {
      node.kill('SIGKILL')
      throw new Error(`${(e as Error).message}\n${log}`)
    }
  }, 60_000)

  afterAll(async () => {
    if (node !== undefined && node.exitCode === null) {
      const exited = new Promise((resolve) => node.once('exit', resolve))
      node.kill('SIGTERM')
      await exited
    }
  })

  it('made its home in ~/.chorus, with a config.json to edit', async () => {
    const config = JSON.parse(await readFile(join(home, '.chorus', 'config.json'), 'utf8'))
    expect(config).toMatchObject({ rpc: { host: '127.0.0.1', port: 26657 }, p2p: { port: 36656 } })
  })

  it('tx without --key or --rpc: signs with dev (and says so), with CHORUS_RPC', async () => {
    const posted = await run(['tx', 'post', 'from the default home', '--json'], { env })
    expect(posted.code, posted.stderr).toBe(0)
    expect(posted.json).toMatchObject({ id: expect.stringMatching(/^[0-9a-f]{64}$/), height: expect.any(Number) })
    expect(posted.stderr).toContain('signing with the "dev" key')
    const reply = await run(['tx', 'reply', posted.json.id, 'a reply', '--key', 'dev', '--json'], { env })
    expect(reply.code, reply.stderr).toBe(0)
    expect(reply.stderr).toBe('')

    const replies = await run(['query', 'replies', posted.json.id, '--json'], { env })
    expect(replies.code, replies.stderr).toBe(0)
    expect(replies.json).toEqual({ items: [expect.objectContaining({ id: reply.json.id, replyTo: posted.json.id, text: 'a reply' })], cursor: null })
    expect((await run(['query', 'replies', posted.json.id], { env })).stdout).toContain('a reply')
  })

  it('query status, validators, params and mempool', async () => {
    const status = await run(['query', 'status', '--json'], { env })
    expect(status.json).toMatchObject({ chainId: 'chorus-dev', syncing: false })
    const validators = await run(['query', 'validators', '--json'], { env })
    expect(validators.json).toEqual(await rpc.listValidators())
    expect((await run(['query', 'validators'], { env })).stdout).toContain(validators.json[0].address)
    const params = await run(['query', 'params', '--json'], { env })
    expect(params.json).toMatchObject({ chainId: 'chorus-dev', addressPrefix: 'chorus', params: { blockTimeMs: 200 } })

    const pool = await run(['query', 'mempool', '--json'], { env })
    expect(pool.code, pool.stderr).toBe(0)
    expect(pool.json).toMatchObject({ count: expect.any(Number), bytes: expect.any(Number) })
    expect(Object.keys(pool.json).sort()).toEqual(['bytes', 'count', 'feePerByte'])
    expect((await run(['query', 'mempool'], { env })).stdout).toMatch(/^count: \d+\nbytes: \d+\n/)
    const listed = await run(['query', 'mempool', '--list', '--limit', '5', '--json'], { env })
    expect(listed.code, listed.stderr).toBe(0)
    expect(listed.json).toMatchObject({ items: expect.any(Array) })
  })
})

describe('start takes its settings from config.json, under the environment and the flags', () => {
  /** Starts `chorus start ARGS` with `env`, waits for its RPC on `rpcPort` and a few blocks, stops it, and returns its stderr. */
  async function runNode (args: string[], rpcPort: number, env: Record<string, string> = {}, check?: () => Promise<void>): Promise<string> {
    const childEnv: Record<string, string | undefined> = { ...process.env, HOME: home }
    for (const k of Object.keys(childEnv)) if (k.startsWith('CHORUS_')) delete childEnv[k]
    const proc = spawn(process.execPath, [CLI, 'start', ...args], { env: { ...childEnv, ...env }, cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] })
    let log = ''
    proc.stderr!.on('data', (d: Buffer) => { log += d.toString() })
    const exited = new Promise<number | null>((resolve) => proc.once('exit', resolve))
    const rpc = new RpcClient(`http://127.0.0.1:${rpcPort}`)
    try {
      await waitFor(async () => proc.exitCode === null && (await rpc.getHead()).height >= 2, 'the node to make two blocks', 30_000, 100)
      await check?.()
    } catch (e) {
      proc.kill('SIGKILL')
      throw new Error(`${(e as Error).message}\n${log}`)
    }
    proc.kill('SIGTERM')
    expect(await exited, log).toBe(0)
    return log
  }

  it('rpc port, metrics, log level and format from the file; CHORUS_LOG_LEVEL and flags over it', async () => {
    const h = join(dir, 'configured')
    expect((await run(['init', '--dev', '--home', h, '--block-time', '100'])).code).toBe(0)
    const rpcPort = await freePort()
    const metricsPort = await freePort()
    const config = JSON.parse(await readFile(join(h, 'config.json'), 'utf8'))
    config.rpc.port = rpcPort
    config.p2p.port = await freePort()
    config.metrics = { port: metricsPort }
    config.log = { level: 'warn', json: true }
    await writeFile(join(h, 'config.json'), JSON.stringify(config))

    const quiet = await runNode(['--home', h], rpcPort, {}, async () => {
      const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`)
      expect(res.status).toBe(200)
      expect(await res.text()).toContain('chorus_')
    })
    for (const line of quiet.split('\n').filter((l) => l !== '')) expect(['warn', 'error']).toContain(JSON.parse(line).level)

    const env = await runNode(['--home', h], rpcPort, { CHORUS_LOG_LEVEL: 'info' })
    expect(env.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l).level)).toContain('info')

    const flagged = await runNode(['--home', h, '--log-level', 'warn'], rpcPort, { CHORUS_LOG_LEVEL: 'info' })
    expect(flagged).not.toContain('"level":"info"')

    // a bad config.json: exit 1 with INVALID_FIELD naming the file and the field
    await writeFile(join(h, 'config.json'), JSON.stringify({ ...config, log: { level: 'loud' } }))
    const bad = await run(['start', '--home', h])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toBe(`error: INVALID_FIELD: ${join(h, 'config.json')}: log.level must be debug, info, warn, error\n`)
  }, 90_000)
})
