/** Real `chorus` processes for end-to-end tests. */
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import { readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { RpcClient } from '../../src/client/rpc-client.ts'
import { Signer } from '../../src/client/transactions.ts'
import { parseHex } from '../../src/crypto/bytes.ts'
import { waitFor } from './wait.ts'

export const CLI = fileURLToPath(new URL('../../bin/chorus.js', import.meta.url))

export async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

/** Whether 127.0.0.1:`port` can be listened on now. */
export async function canListen (port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const s = createServer()
    s.once('error', () => resolve(false))
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)))
  })
}

/**
 * Where fixed port ranges are drawn from: below the kernel's ephemeral range, so
 * no outgoing connection (a redial, an RPC call) takes a port a node listens on
 * or gets back after a restart.
 */
function fixedPortWindow (): { low: number, high: number } {
  let ephemeralLow = 32768
  try {
    ephemeralLow = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0])
  } catch { /* no /proc here: Linux's default */ }
  return ephemeralLow > 12_000 ? { low: 10_000, high: ephemeralLow - 1 } : { low: 61_000, high: 65_535 }
}

/**
 * A base port such that base … base+count-1 are free and clear of `avoid`: a random
 * range below the ephemeral ports, so parallel test files (each drawing its own) do
 * not collide, and a node restarted on its port finds it free.
 */
export async function freeRange (count: number, avoid: number[] = []): Promise<number> {
  const { low, high } = fixedPortWindow()
  return await waitFor(async () => {
    const base = low + Math.floor(Math.random() * (high - low - count))
    for (let p = base; p < base + count; p++) if (avoid.includes(p) || !await canListen(p)) return undefined
    return base
  }, `${count} free ports in a row`, 10_000, 0)
}

export interface NodeProcess {
  proc: ChildProcess
  rpcUrl: string
  rpcPort: number
  p2pPort: number
  rpc: RpcClient
  log: () => string
  /** SIGTERM, and wait for exit. */
  stop: () => Promise<number | null>
  /** SIGKILL, and wait for exit. */
  kill: () => Promise<void>
}

/**
 * Starts `chorus start --dev` on free ports (or the given ones: a restart where clients expect it)
 * and waits until its RPC answers; `openFiles` runs it under that `ulimit -n`.
 */
export async function startNode (home: string, extra: string[] = [], opts: { openFiles?: number, rpcPort?: number, p2pPort?: number } = {}): Promise<NodeProcess> {
  const rpcPort = opts.rpcPort ?? await freePort()
  const p2pPort = opts.p2pPort ?? await freePort()
  const args = [CLI, 'start', '--dev', '--home', home, '--rpc-port', String(rpcPort), '--p2p-port', String(p2pPort), ...extra]
  const proc = opts.openFiles === undefined
    ? spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn('bash', ['-c', `ulimit -n ${opts.openFiles} && exec "$0" "$@"`, process.execPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  proc.stdout!.on('data', (d: Buffer) => { output += d.toString() })
  proc.stderr!.on('data', (d: Buffer) => { output += d.toString() })
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)))
  const rpcUrl = `http://127.0.0.1:${rpcPort}`
  const rpc = new RpcClient(rpcUrl, { timeoutMs: 30_000 })
  try {
    await waitFor(async () => proc.exitCode === null && await rpc.getHead(), 'the node to answer RPC', 30_000, 100)
  } catch (e) {
    proc.kill('SIGKILL')
    throw new Error(`${(e as Error).message}\n${output}`)
  }
  return {
    proc, rpcUrl, rpc, rpcPort, p2pPort,
    log: () => output,
    stop: async () => { proc.kill('SIGTERM'); return await exited },
    kill: async () => { proc.kill('SIGKILL'); await exited }
  }
}

/** The SDK signer for a plain key file `home/keys/NAME.json` (as `chorus keys new` writes it). */
export async function signerFromHome (home: string, name: string): Promise<Signer> {
  const file = JSON.parse(await readFile(join(home, 'keys', `${name}.json`), 'utf8')) as { secretKey: string }
  return Signer.fromSecretKey(parseHex(file.secretKey)!)
}

export interface CliResult { code: number, stdout: string, stderr: string, json: any }

/** Runs `chorus ARGS` and collects its output (never throws on a non-zero exit). */
export async function cli (args: string[]): Promise<CliResult> {
  return await new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      let json: unknown = null
      try { json = JSON.parse(stdout) } catch { /* not JSON */ }
      resolve({ code: err === null ? 0 : (typeof err.code === 'number' ? err.code : 1), stdout, stderr, json })
    })
  })
}
