/**
 * A Chorus network of real processes for end-to-end tests: `chorus init
 * --validators N --full-nodes M` on free port ranges, then one `chorus start
 * --home DIR/node<i>` child per node (127.0.0.1 only), each with its output
 * captured, an RPC client, and stop / kill / restart.
 *
 *   const network = useNetworks()            // at the top of a test file: registers the cleanup
 *   const net = await network({ validators: 4, fullNodes: 1, blockTimeMs: 250 })
 *   await net.nodes[3]!.kill(); await net.nodes[3]!.start()
 *
 * Every child is SIGKILLed after each test, whether the test passed or not, and
 * the homes are removed (a failed test's node logs are kept in a temp dir, named
 * on stderr). Each node runs with --stop-with-stdin, so one whose test process
 * died without cleaning up stops when its stdin closes.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach } from 'vitest'
import { type BlockView, type Head, RpcClient } from '../../src/client/rpc-client.ts'
import type { Signer } from '../../src/client/transactions.ts'
import { CLI, cli, freeRange, signerFromHome } from './node-process.ts'
import { waitFor } from './wait.ts'

export interface NetworkOptions {
  validators: number
  fullNodes?: number
  /** Target block time written to genesis. */
  blockTimeMs?: number
  /** Which nodes to start now (default: all). The others can be started later with `node.start()`. */
  start?: number[]
  /** Extra `chorus start` flags for every node (e.g. ['--log-level', 'debug']). */
  startArgs?: string[]
}

/** What `chorus init --validators --json` prints for each home. */
interface InitHome { name: string, home: string, validator: string | null, peerId: string, rpc: string, p2p: string }

/** Every child any network in this process started: killed on exit if a test left one behind. */
const children = new Set<ChildProcess>()
process.once('exit', () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
})

export class NetNode {
  readonly rpc: RpcClient
  proc: ChildProcess | null = null
  private output = ''
  private exited: Promise<void> = Promise.resolve()
  /** How many times this node was started. */
  starts = 0

  constructor (
    readonly index: number,
    readonly name: string,
    readonly home: string,
    /** The validator's address; null for a full node. */
    readonly validator: string | null,
    readonly peerId: string,
    readonly rpcUrl: string,
    /** Its full multiaddr /ip4/127.0.0.1/tcp/<port>/p2p/<peerId>. */
    readonly p2pAddr: string,
    private readonly startArgs: string[]
  ) {
    this.rpc = new RpcClient(rpcUrl, { timeoutMs: 20_000 })
  }

  get role (): 'validator' | 'full' { return this.validator === null ? 'full' : 'validator' }
  get running (): boolean { return this.proc !== null && this.proc.exitCode === null && this.proc.signalCode === null }
  get pid (): number | undefined { return this.proc?.pid }

  /** Everything the node printed, over all its runs (each run starts with a marker line). */
  log (): string { return this.output }

  /** Starts `chorus start --home` (plus `extra` flags) and waits until its RPC answers. */
  async start (extra: string[] = []): Promise<void> {
    if (this.running) throw new Error(`${this.name} is already running`)
    this.starts++
    this.output += `\n===== ${this.name} start #${this.starts} ${new Date().toISOString()} ${extra.join(' ')}\n`
    // --stop-with-stdin: should this test process die without its cleanup, the closed pipe stops the node
    const proc = spawn(process.execPath, [CLI, 'start', '--home', this.home, '--stop-with-stdin', ...this.startArgs, ...extra], { stdio: ['pipe', 'pipe', 'pipe'] })
    proc.stdin!.on('error', () => { /* the node is gone */ })
    this.proc = proc
    children.add(proc)
    proc.stdout!.on('data', (d: Buffer) => { this.output += d.toString() })
    proc.stderr!.on('data', (d: Buffer) => { this.output += d.toString() })
    this.exited = new Promise((resolve) => proc.once('exit', (code, signal) => {
      children.delete(proc)
      this.output += `===== ${this.name} exited code=${String(code)} signal=${String(signal)}\n`
      resolve()
    }))
    try {
      await waitFor(async () => {
        if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`${this.name} exited`)
        return await this.rpc.getStatus()
      }, `${this.name} to answer RPC`, 45_000, 100)
    } catch (e) {
      await this.kill()
      throw new Error(`${(e as Error).message}\n${this.tail()}`)
    }
  }

  /** SIGTERM; SIGKILL if it has not exited after `graceMs`. */
  async stop (graceMs = 15_000): Promise<void> {
    if (!this.running) return
    const proc = this.proc!
    proc.kill('SIGTERM')
    const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs)
    await this.exited
    clearTimeout(timer)
  }

  /** SIGKILL, and wait for the exit. */
  async kill (): Promise<void> {
    if (!this.running) return
    this.proc!.kill('SIGKILL')
    await this.exited
  }

  async restart (extra: string[] = []): Promise<void> {
    await this.stop()
    await this.start(extra)
  }

  async head (): Promise<Head> { return await this.rpc.getHead() }
  async height (): Promise<number> { return (await this.rpc.getHead()).height }

  /** The last `lines` lines of its output, for failure messages. */
  tail (lines = 40): string {
    return `--- ${this.name} (last ${lines} lines) ---\n` + this.output.split('\n').slice(-lines).join('\n')
  }
}

export class TestNetwork {
  constructor (
    readonly dir: string,
    readonly chainId: string,
    readonly nodes: NetNode[],
    readonly rpcBase: number,
    readonly p2pBase: number
  ) {}

  get validators (): NetNode[] { return this.nodes.filter((n) => n.validator !== null) }
  get fullNodes (): NetNode[] { return this.nodes.filter((n) => n.validator === null) }
  get running (): NetNode[] { return this.nodes.filter((n) => n.running) }

  /** The funded dev key (in node0's home). */
  async dev (): Promise<Signer> { return await signerFromHome(this.nodes[0]!.home, 'dev') }

  /** The tail of every node's output, for failure messages. */
  logs (lines = 30): string { return this.nodes.map((n) => n.tail(lines)).join('\n') }

  /** Waits until every node in `nodes` (default: the running ones) is at `height` or beyond. */
  async waitForHeight (height: number, nodes: NetNode[] = this.running, timeoutMs = 60_000): Promise<void> {
    await waitFor(async () => {
      for (const n of nodes) if (await n.height() < height) return false
      return true
    }, `${nodes.map((n) => n.name).join(', ')} at height ${height}\n${this.logs()}`, timeoutMs, 100)
  }

  /** The lowest head height among `nodes`. */
  async commonHeight (nodes: NetNode[] = this.running): Promise<number> {
    return Math.min(...await Promise.all(nodes.map(async (n) => await n.height())))
  }

  /**
   * Every block 1…`upTo` (default: the common height) is the same on every node in
   * `nodes`: same hash, same header stateRoot. Returns the blocks of the first node.
   */
  async sameChain (nodes: NetNode[] = this.running, upTo?: number): Promise<BlockView[]> {
    const top = upTo ?? await this.commonHeight(nodes)
    const blocks: BlockView[] = []
    for (let h = 1; h <= top; h++) {
      const got = await Promise.all(nodes.map(async (n) => await n.rpc.getBlock(h)))
      const first = got[0]!
      got.forEach((b, i) => {
        if (b.hash !== first.hash || b.header.stateRoot !== first.header.stateRoot) {
          throw new Error(`fork at height ${h}: ${nodes[0]!.name} has ${first.hash} (stateRoot ${String(first.header.stateRoot)}), ${nodes[i]!.name} has ${b.hash} (stateRoot ${String(b.header.stateRoot)})`)
        }
      })
      blocks.push(first)
    }
    return blocks
  }

  async startAll (which: number[] = this.nodes.map((n) => n.index)): Promise<void> {
    await Promise.all(which.map(async (i) => await this.nodes[i]!.start()))
  }

  /** Writes each node's whole output to DIR/<name>.log (kept for a failed test) and returns DIR. */
  async saveLogs (): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'chorus-e2e-logs-'))
    await Promise.all(this.nodes.map(async (n) => await writeFile(join(dir, `${n.name}.log`), n.log())))
    return dir
  }

  /** SIGKILLs every node and removes the homes. */
  async destroy (): Promise<void> {
    await Promise.all(this.nodes.map(async (n) => await n.kill()))
    await rm(this.dir, { recursive: true, force: true, maxRetries: 3 })
  }
}

/** Inits a network on free port ranges and starts the nodes asked for (all by default). */
export async function createNetwork (opts: NetworkOptions): Promise<TestNetwork> {
  const total = opts.validators + (opts.fullNodes ?? 0)
  const dir = await mkdtemp(join(tmpdir(), 'chorus-net-'))
  let net: TestNetwork | undefined
  try {
    const rpcBase = await freeRange(total)
    const p2pBase = await freeRange(total, Array.from({ length: total }, (_, i) => rpcBase + i))
    const args = ['init', '--validators', String(opts.validators), '--full-nodes', String(opts.fullNodes ?? 0), '--out', join(dir, 'net'),
      '--rpc-port', String(rpcBase), '--p2p-port', String(p2pBase), '--json']
    if (opts.blockTimeMs !== undefined) args.push('--block-time', String(opts.blockTimeMs))
    const made = await cli(args)
    if (made.code !== 0) throw new Error(`chorus ${args.join(' ')} failed:\n${made.stderr}`)
    const homes = made.json.homes as InitHome[]
    const nodes = homes.map((h, i) => new NetNode(i, h.name, h.home, h.validator, h.peerId, h.rpc, h.p2p, opts.startArgs ?? []))
    net = new TestNetwork(dir, made.json.chainId as string, nodes, rpcBase, p2pBase)
    await net.startAll(opts.start)
    return net
  } catch (e) {
    if (net !== undefined) await net.destroy()
    else await rm(dir, { recursive: true, force: true })
    throw e
  }
}

/**
 * Registers an afterEach that SIGKILLs every node of every network made through the
 * returned function (pass or fail), and returns that function.
 */
export function useNetworks (): (opts: NetworkOptions) => Promise<TestNetwork> {
  const made: TestNetwork[] = []
  afterEach(async (ctx) => {
    const nets = made.splice(0)
    await Promise.all(nets.map(async (n) => await Promise.all(n.nodes.map(async (node) => await node.kill()))))
    if (ctx.task.result?.state === 'fail') for (const n of nets) console.error(`node logs of the failed test: ${await n.saveLogs()}`)
    await Promise.all(nets.map(async (n) => await n.destroy()))
  }, 60_000)
  return async (opts) => {
    const net = await createNetwork(opts)
    made.push(net)
    return net
  }
}

/** Reads a home's genesis chain id (for a node started outside a network). */
export async function chainIdOf (home: string): Promise<string> {
  return (JSON.parse(await readFile(join(home, 'genesis.json'), 'utf8')) as { chainId: string }).chainId
}
