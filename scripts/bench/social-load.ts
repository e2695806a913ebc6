/**
 * What the load benchmarks share (network.ts, load.ts, growth.ts): `chorus` child processes
 * and their cleanup, a `chorus start --dev` node, the open-loop lanes of load.ts, free
 * loopback ports, an OpenSSL signer that makes the SDK's bytes,
 * JSON-RPC batches, the block poller, and the social load itself: senders funded by
 * transfers from the dev key, two seed posts each (what likes point at), and the mix of
 * 70% posts, 15% follows, 15% likes.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process'
import { rmSync } from 'node:fs'
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import type { Agent } from 'node:http'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { RpcClient } from '../../src/client/rpc-client.ts'
import * as b from '../../src/client/transactions.ts'
import { encodeAddress } from '../../src/crypto/address.ts'
import { parseHex } from '../../src/crypto/bytes.ts'
import { generateSecretKey } from '../../src/crypto/keys.ts'
import type { TxBody } from '../../src/protocol/types.ts'
import { ownAgent, rpcBatch as httpBatch } from './abuse-measure.ts'
import { OpenSslSigner, type SignedOut } from './openssl-signer.ts'

export const CLI = fileURLToPath(new URL('../../bin/chorus.js', import.meta.url))
export const SEED_POSTS_PER_SENDER = 2
/** How often the poller asks for the head. */
export const POLL_MS = 50
export const now = (): number => performance.now()
export const sleep = async (ms: number): Promise<void> => await new Promise((r) => setTimeout(r, ms))
export const fmt = (n: number, d = 0): string => n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d })
/** The p-quantile of an ascending array. */
export const q = (sorted: number[], p: number): number => sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!

// ---------------------------------------------------------------- processes and cleanup

export interface Proc {
  name: string
  proc: ChildProcess
  url: string
  rpc: RpcClient
  lines: string[]
  exited: Promise<void>
  /** Set when the script stops it: any other exit is a crash. */
  stopping: boolean
}

export interface SpawnOptions {
  /** Node's own flags, before bin/chorus.js (e.g. --cpu-prof). */
  nodeArgs?: string[]
  env?: NodeJS.ProcessEnv
  /** The node logs at debug level. */
  debug?: boolean
}

/**
 * The `chorus` children of this process and its temp dirs. On exit, failure or signal
 * every child is SIGKILLed and (unless `keep`) the temp dirs removed; the children also
 * stop by themselves if this process dies (--stop-with-stdin: their stdin closes).
 */
export class Children {
  readonly procs: Proc[] = []
  readonly tempDirs: string[] = []

  constructor (private readonly keep: boolean) {
    process.on('exit', () => {
      this.killAllNow()
      if (!this.keep) for (const d of this.tempDirs) try { rmSync(d, { recursive: true, force: true }) } catch { /* best effort */ }
    })
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => { console.error(`\n${sig}: killing the nodes`); process.exit(130) })
  }

  /** At the end of a run: with --keep, `node`'s log is written into `root` and `root` kept; otherwise `root` goes. */
  async finish (root: string, node: Proc | null): Promise<void> {
    if (this.keep) {
      if (node !== null) await writeFile(join(root, 'node.log'), node.lines.join('\n') + '\n')
      console.log(`kept ${root}`)
    } else {
      await rm(root, { recursive: true, force: true })
      this.tempDirs.length = 0
    }
  }

  killAllNow (): void {
    for (const p of this.procs) if (p.proc.exitCode === null && p.proc.signalCode === null) try { p.proc.kill('SIGKILL') } catch { /* gone */ }
  }

  /** Spawns `chorus ARGS --stop-with-stdin` and keeps its output. */
  spawnChorus (name: string, args: string[], rpcPort: number, opts: SpawnOptions = {}): Proc {
    const proc = spawn(process.execPath, [...(opts.nodeArgs ?? []), CLI, ...args, '--stop-with-stdin', ...(opts.debug === true ? ['--log-level', 'debug'] : [])], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: opts.env ?? process.env
    })
    const lines: string[] = []
    let partial = ''
    const onData = (d: Buffer): void => {
      const parts = (partial + d.toString()).split('\n')
      partial = parts.pop()!
      lines.push(...parts)
    }
    proc.stdout!.on('data', onData)
    proc.stderr!.on('data', onData)
    const exited = new Promise<void>((resolve) => proc.once('exit', () => { if (partial !== '') lines.push(partial); resolve() }))
    const url = `http://127.0.0.1:${rpcPort}`
    const p = { name, proc, url, rpc: new RpcClient(url, { timeoutMs: 30_000 }), lines, exited, stopping: false }
    this.procs.push(p)
    return p
  }

  /** Per child: its WARN and ERROR lines counted, with up to four distinct examples. */
  logSummary (): Array<{ name: string, warn: number, error: number, examples: string[] }> {
    return this.procs.map((p) => {
      const warn = p.lines.filter((l) => / WARN /.test(l))
      const error = p.lines.filter((l) => / ERROR /.test(l) || /^\s*(Error|TypeError|RangeError)\b/.test(l))
      const seen = new Set<string>()
      const examples: string[] = []
      for (const l of [...error, ...warn]) {
        const key = l.replace(/^\S+ /, '').replace(/ .*?=.*$/, '').slice(0, 60)
        if (seen.has(key)) continue
        seen.add(key)
        if (examples.length < 4) examples.push(l.replace(/^\S+ /, '').slice(0, 220))
      }
      return { name: p.name, warn: warn.length, error: error.length, examples }
    })
  }

  /** After a failure: which children died, and their logs' warnings; then every child is killed. */
  async reportFailure (): Promise<void> {
    for (const p of this.procs) if (!p.stopping && (p.proc.exitCode !== null || p.proc.signalCode !== null)) console.error(`${p.name} died: exit ${p.proc.exitCode ?? p.proc.signalCode}\n  ${p.lines.slice(-5).join('\n  ')}`)
    for (const s of this.logSummary()) if (s.warn + s.error > 0) console.error(`${s.name}: warn ${s.warn}, error ${s.error}\n  ${s.examples.join('\n  ')}`)
    this.killAllNow()
    await Promise.race([Promise.all(this.procs.map(async (p) => await p.exited)), sleep(5000)])
  }
}

/** Thrown inside a waitUntil condition: stops the wait at once (a child died). */
export class Fatal extends Error {}

export async function waitUntil<T> (what: string, f: () => Promise<T | undefined | null | false>, timeoutMs: number, everyMs = 100): Promise<T> {
  const end = now() + timeoutMs
  for (;;) {
    try {
      const v = await f()
      if (v !== undefined && v !== null && v !== false) return v
    } catch (e) {
      if (e instanceof Fatal) throw e
      // not yet
    }
    if (now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(everyMs)
  }
}

export async function waitForRpc (p: Proc): Promise<void> {
  await waitUntil(`${p.name}'s RPC`, async () => {
    if (p.proc.exitCode !== null) throw new Fatal(`${p.name} exited (${p.proc.exitCode})`)
    return await p.rpc.getHead()
  }, 60_000).catch((e: Error) => { throw new Error(`${e.message}\n${p.lines.slice(-20).join('\n')}`) })
}

/** SIGTERM, wait up to `graceMs`, then SIGKILL. */
export async function stopProc (p: Proc, graceMs = 10_000): Promise<void> {
  p.stopping = true
  if (p.proc.exitCode !== null || p.proc.signalCode !== null) return
  p.proc.kill('SIGTERM')
  const t = setTimeout(() => p.proc.kill('SIGKILL'), graceMs)
  await p.exited
  clearTimeout(t)
}

async function portFree (port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const s = createServer()
    s.once('error', () => resolve(false))
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)))
  })
}

/** A base port with `count` free ports from it, from a random place in 20000–59999. */
export async function freeRange (count: number, avoid: Set<number> = new Set()): Promise<number> {
  for (let tries = 0; tries < 200; tries++) {
    const base = 20000 + Math.floor(Math.random() * 40000)
    let ok = true
    for (let i = 0; i < count && ok; i++) ok = !avoid.has(base + i) && await portFree(base + i)
    if (ok) return base
  }
  throw new Error('no free port range')
}

const CLK_TCK = (() => { try { return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100 } catch { return 100 } })()

/** CPU seconds (user + system) a process has used, from /proc; 0 if unknown. */
export async function cpuSeconds (pid: number | undefined): Promise<number> {
  if (pid === undefined) return 0
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(f[11]) + Number(f[12])) / CLK_TCK
  } catch {
    return 0
  }
}

/** CPU seconds (user + system) of each of a process's threads, summed by thread name; empty if unknown. */
export async function threadCpu (pid: number | undefined): Promise<Map<string, number>> {
  const out = new Map<string, number>()
  if (pid === undefined) return out
  let tids: string[]
  try { tids = await readdir(`/proc/${pid}/task`) } catch { return out }
  for (const tid of tids) {
    try {
      const stat = await readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8')
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      out.set(name, (out.get(name) ?? 0) + (Number(f[11]) + Number(f[12])) / CLK_TCK)
    } catch { /* the thread ended */ }
  }
  return out
}

/** Resident memory of a process now and at its peak (VmRSS, VmHWM), bytes; null if unknown. */
export async function memoryOf (pid: number | undefined): Promise<{ rss: number, peak: number } | null> {
  if (pid === undefined) return null
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8')
    const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024
    return { rss: kb('VmRSS'), peak: kb('VmHWM') }
  } catch {
    return null
  }
}

// ---------------------------------------------------------------- signing (OpenSSL: the SDK's noble signer is too slow to feed the nodes)

export type { SignedOut }

export class Sender extends OpenSslSigner {
  follows = 0
  likes = 0
  /** Set after a BAD_NONCE: ask the node for the next nonce before signing again. */
  resync = false
  lane = 0

  constructor (secretKey: Uint8Array, readonly index: number) {
    super(secretKey)
  }

  sign (chainId: string, body: TxBody, minFeePerByte: bigint): SignedOut {
    return this.signTx(chainId, body, minFeePerByte)
  }
}

// ---------------------------------------------------------------- JSON-RPC batches

// ---------------------------------------------------------------- command line

/** The value after `name` on the command line, if given. */
export function flag (name: string): string | undefined {
  const i = process.argv.indexOf(name)
  return i < 0 ? undefined : process.argv[i + 1]
}

/** Every value of a repeatable flag (`--node-arg A --node-arg B`). */
export const flagValues = (name: string): string[] => process.argv.flatMap((a, i) => a === name && i + 1 < process.argv.length ? [process.argv[i + 1]!] : [])

/** The load shape (200 senders, 8 requests in flight, batches of 50), or --senders, --lanes, --batch. */
export function loadShape (): { senders: number, lanes: number, batch: number } {
  return { senders: Number(flag('--senders') ?? 200), lanes: Number(flag('--lanes') ?? 8), batch: Number(flag('--batch') ?? 50) }
}

const agents = new Map<string, Agent>()

export interface RpcReply { result?: any, error?: { code: number, message: string, data?: { code?: string, expected?: number } } }

/**
 * One JSON-RPC batch; a transport failure answers every call with UNAVAILABLE. With
 * `from`, the request leaves from that loopback address (its own keep-alive agent): the
 * node counts its RPC work per client IP, so lanes from distinct addresses are distinct clients.
 */
export async function rpcBatch (url: string, calls: Array<[string, unknown[]]>, from?: string): Promise<RpcReply[]> {
  if (from !== undefined) {
    let agent = agents.get(from)
    if (agent === undefined) agents.set(from, agent = ownAgent(1))
    return await httpBatch(Number(new URL(url).port), calls, { agent, localAddress: from, timeoutMs: 60_000 })
  }
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(calls.map(([method, params], id) => ({ jsonrpc: '2.0', id, method, params }))),
      signal: AbortSignal.timeout(60_000)
    })
    const out = await res.json() as RpcReply[] | RpcReply
    if (!Array.isArray(out)) return calls.map(() => out)
    const byId: RpcReply[] = calls.map(() => ({ error: { code: -1, message: 'no reply' } }))
    for (const r of out as Array<RpcReply & { id: number }>) byId[r.id] = r
    return byId
  } catch (e) {
    return calls.map(() => ({ error: { code: -32002, message: (e as Error).message, data: { code: 'UNAVAILABLE' } } }))
  }
}

/** tx_submit refusals for load or room: the tx can be sent again as it is. */
export const RETRYABLE: ReadonlySet<string> = new Set(['RATE_LIMITED', 'BUSY', 'UNAVAILABLE', 'TIMEOUT', 'MEMPOOL_FULL'])

/**
 * Submits signed txs in one batch until every one is accepted: a tx refused for load
 * (RETRYABLE), and its sender's later txs in the batch (BAD_NONCE then), go again after
 * 20 ms. Any other refusal throws. (A node admits 32 units of work in flight per IP, 16
 * tx_submit calls, so lanes in parallel from one client are refused part of their batches.)
 */
export async function submitAll (url: string, txs: Array<SignedOut & { sender: Sender }>, what: string): Promise<void> {
  let left = txs
  for (let tries = 0; left.length > 0; tries++) {
    if (tries > 0) await sleep(20)
    if (tries > 500) throw new Error(`${what}: still refused for load after 500 tries`)
    const r = await rpcBatch(url, left.map((t) => ['tx_submit', [t.hex]]))
    const retrying = new Set<Sender>()
    const again: typeof left = []
    r.forEach((x, i) => {
      const t = left[i]!
      if (x.error === undefined) return
      const code = x.error.data?.code ?? String(x.error.code)
      if (code === 'ALREADY_KNOWN') return
      if (!RETRYABLE.has(code) && !(code === 'BAD_NONCE' && retrying.has(t.sender))) throw new Error(`${what} refused: ${JSON.stringify(x.error)}`)
      retrying.add(t.sender)
      again.push(t)
    })
    left = again
  }
}

// ---------------------------------------------------------------- the block poller

export interface BlockSeen {
  height: number
  txs: number
  /** When the poller had read the block (after chain_getBlock). */
  seenAt: number
  /** When chain_getHead first answered this height or a later one. */
  headAt: number
}

/** What sees txs commit: when each was first seen committed. */
export interface CommitWatcher {
  readonly committedAt: ReadonlyMap<string, number>
  waitFor: (ids: string[], what: string, timeoutMs?: number) => Promise<void>
}

/** Reads every new block of one node as it commits (chain_getHead every POLL_MS): when each tx was first seen committed. */
export class Poller implements CommitWatcher {
  readonly blocks: BlockSeen[] = []
  readonly committedAt = new Map<string, number>()
  errors = 0
  private running = true
  private readonly done: Promise<void>

  constructor (private readonly rpc: RpcClient, private next: number) {
    this.done = this.loop()
  }

  get height (): number { return this.next - 1 }
  txsUpTo (h: number): number { return this.blocks.filter((x) => x.height <= h).reduce((s, x) => s + x.txs, 0) }
  get chainTxs (): number { return this.blocks.reduce((s, x) => s + x.txs, 0) }

  private async loop (): Promise<void> {
    while (this.running) {
      try {
        const head = await this.rpc.getHead()
        const headAt = now()
        while (this.running && this.next <= head.height) {
          const blk = await this.rpc.getBlock(this.next)
          const t = now()
          for (const id of blk.txs as string[]) this.committedAt.set(id, t)
          this.blocks.push({ height: this.next, txs: blk.txs.length, seenAt: t, headAt })
          this.next++
        }
      } catch {
        this.errors++
      }
      await sleep(POLL_MS)
    }
  }

  async waitFor (ids: string[], what: string, timeoutMs = 60_000): Promise<void> {
    await waitUntil(what, async () => ids.every((id) => this.committedAt.has(id)), timeoutMs, 50)
  }

  async stop (): Promise<void> {
    this.running = false
    await this.done
  }
}

/**
 * The heads of one node as a client sees them, from a newHeads subscription on its
 * WebSocket (/ws): each block's time is when its event arrived (pushed, so not held up by
 * the RPC admission that a busy client's polls meet). Each block's tx ids are read
 * afterwards (chain_getBlock, again until answered) and take their block's time.
 */
export class HeadWatcher implements CommitWatcher {
  readonly blocks: BlockSeen[] = []
  readonly committedAt = new Map<string, number>()
  errors = 0
  /** Whether committedAt records each tx (growth.ts turns it off: a million ids would be the client's memory). */
  keepIds = true
  /** Called with each block's tx ids as they are read, in height order. */
  onBlock: ((b: BlockSeen, ids: string[]) => void) | null = null
  private readonly toRead: BlockSeen[] = []
  private running = true
  private reader: Promise<void> = Promise.resolve()

  private constructor (private readonly rpc: RpcClient, private readonly ws: WebSocket, private next: number) {}

  /** Subscribes at `url` (http://host:port; the socket is ws://host:port/ws); the first block it records is `from`. */
  static async open (url: string, from: number): Promise<HeadWatcher> {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/ws`)
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener('open', () => resolve(), { once: true })
      ws.addEventListener('error', () => reject(new Error(`WebSocket ${url}/ws failed`)), { once: true })
    })
    const w = new HeadWatcher(new RpcClient(url, { timeoutMs: 30_000 }), ws, from)
    const subscribed = new Promise<void>((resolve, reject) => {
      ws.addEventListener('message', (e) => {
        const m = JSON.parse(String(e.data)) as { id?: number, result?: unknown, error?: unknown, method?: string, params?: { result?: { height?: number } } }
        if (m.id === 1) { if (m.error !== undefined) reject(new Error(`subscribe: ${JSON.stringify(m.error)}`)); else resolve() }
        const height = m.method === 'subscription' ? m.params?.result?.height : undefined
        if (typeof height === 'number') w.onHead(height, now())
      })
    })
    ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'subscribe', params: ['newHeads', {}] }))
    await subscribed
    w.reader = w.read()
    return w
  }

  get height (): number { return this.next - 1 }

  /** Every height from the last one seen to `height` became the head at `at` (the ones between were never shown). */
  private onHead (height: number, at: number): void {
    for (; this.next <= height; this.next++) {
      const b: BlockSeen = { height: this.next, txs: 0, seenAt: NaN, headAt: at }
      this.blocks.push(b)
      this.toRead.push(b)
    }
  }

  private async read (): Promise<void> {
    while (this.running || this.toRead.length > 0) {
      const b = this.toRead[0]
      if (b === undefined) { await sleep(20); continue }
      try {
        const blk = await this.rpc.getBlock(b.height)
        b.txs = blk.txs.length
        b.seenAt = now()
        if (this.keepIds) for (const id of blk.txs as string[]) this.committedAt.set(id, b.headAt)
        this.toRead.shift()
        this.onBlock?.(b, blk.txs as string[])
      } catch {
        this.errors++
        await sleep(50)
      }
    }
  }

  /** Blocks whose txs are not read yet. */
  get unread (): number { return this.toRead.length }

  async waitFor (ids: string[], what: string, timeoutMs = 60_000): Promise<void> {
    await waitUntil(what, async () => ids.every((id) => this.committedAt.has(id)), timeoutMs, 50)
  }

  /** Closes the subscription, then reads the blocks it has seen. */
  async stop (): Promise<void> {
    this.ws.close()
    this.running = false
    await this.reader
  }
}

// ---------------------------------------------------------------- the social load

export interface ChainInfo { chainId: string, prefix: string, minFee: bigint }

export interface SocialSetup {
  urls: string[]
  senders: Sender[]
  seedPosts: Uint8Array[]
  chain: ChainInfo
}

export interface SocialOptions {
  senders: number
  /** Sender i submits on lane i mod lanes, and lane l to urls[l mod urls.length]. */
  lanes: number
  /** Txs per JSON-RPC batch. */
  batch: number
}

let txCounter = 0

/** The next tx of the mix for `s`: of every 20, 14 posts, 3 follows, 3 likes (a post once it has followed or liked all it can). */
export function nextBody (s: Sender, setup: Pick<SocialSetup, 'senders' | 'seedPosts'>): TxBody {
  const r = txCounter++ % 20
  const n = setup.senders.length
  if (r >= 14 && r < 17 && s.follows < n - 1) return b.follow(setup.senders[(s.index + 1 + s.follows++) % n]!.publicKey)
  if (r >= 17 && s.likes < setup.seedPosts.length) return b.like(setup.seedPosts[(s.index + s.likes++) % setup.seedPosts.length]!)
  return b.post(`benchmark post ${txCounter} by sender ${s.index}: a short message, about as long as people write them`)
}

/** The secret key of a home's dev account (`<home>/keys/dev.json`, as `chorus start --dev` writes it). */
export async function devKey (home: string): Promise<Uint8Array> {
  return await keyFromFile(join(home, 'keys', 'dev.json'))
}

export async function keyFromFile (file: string): Promise<Uint8Array> {
  return parseHex((JSON.parse(await readFile(file, 'utf8')) as { secretKey: string }).secretKey)!
}

/** Funds the senders from the dev key and has each make its seed posts (what likes point at); returns once all are committed. */
export async function prepareSocial (urls: string[], devSecret: Uint8Array, poller: CommitWatcher, opts: SocialOptions): Promise<SocialSetup> {
  const rpc = new RpcClient(urls[0]!, { timeoutMs: 30_000 })
  const params = await rpc.getParams()
  const chain: ChainInfo = { chainId: params.chainId, prefix: params.addressPrefix, minFee: BigInt(params.params.minFeePerByte!) }
  const dev = new Sender(devSecret, -1)
  // the OpenSSL signer makes the SDK's bytes
  const check = b.Signer.fromSecretKey(devSecret).sign({ chainId: chain.chainId, nonce: 7, body: b.post('same bytes?') }, { minFeePerByte: chain.minFee })
  dev.nonce = 7
  if (dev.sign(chain.chainId, b.post('same bytes?'), chain.minFee).hex !== check.hex) throw new Error('the OpenSSL signer disagrees with the SDK')
  dev.nonce = Number((await rpc.getAccount(encodeAddress(dev.publicKey, chain.prefix))).pendingNonce)

  const senders = Array.from({ length: opts.senders }, (_, i) => new Sender(generateSecretKey(), i))
  senders.forEach((s, i) => { s.lane = i % opts.lanes })
  const fund: string[] = []
  for (let i = 0; i < senders.length; i += opts.batch) {
    const txs = senders.slice(i, i + opts.batch).map((s) => dev.sign(chain.chainId, b.transfer(s.publicKey, 10_000_000_000n), chain.minFee))
    await submitAll(urls[0]!, txs.map((t) => ({ ...t, sender: dev })), 'funding')
    fund.push(...txs.map((t) => t.id))
  }
  await poller.waitFor(fund, 'the funding transfers to commit')

  const seeds: Array<SignedOut & { sender: Sender }> = []
  for (const s of senders) for (let k = 0; k < SEED_POSTS_PER_SENDER; k++) seeds.push({ sender: s, ...s.sign(chain.chainId, b.post(`seed post ${k} of sender ${s.index}`), chain.minFee) })
  await Promise.all(Array.from({ length: opts.lanes }, async (_, lane) => {
    const mine = seeds.filter((x) => x.sender.lane === lane)
    for (let i = 0; i < mine.length; i += opts.batch) await submitAll(urls[lane % urls.length]!, mine.slice(i, i + opts.batch), 'seed post')
  }))
  await poller.waitFor(seeds.map((x) => x.id), 'the seed posts to commit')
  return { urls, senders, seedPosts: seeds.map((x) => parseHex(x.id)!), chain }
}

// ---------------------------------------------------------------- one dev node (load.ts, growth.ts)

export interface DevNode {
  node: Proc
  url: string
  /** Its CHORUS_HOME: the chain's data, and keys/dev.json. */
  home: string
  /** http://127.0.0.1:PORT/metrics with `metrics`, else null. */
  metricsUrl: string | null
}

export interface DevNodeOptions {
  /** Target block time written to genesis (default 1000 ms). */
  blockTimeMs?: number
  /** Serve Prometheus metrics (--metrics-port) on a free loopback port. */
  metrics?: boolean
  /** Node's own flags, before bin/chorus.js. */
  nodeArgs?: string[]
  /** More `chorus start` flags, after the ones made here (reads.ts: --no-timeline-index). */
  args?: string[]
}

/**
 * Starts `chorus start --dev` in `root` (CHORUS_HOME root/home, HOME root/user, both made
 * here) on free loopback ports, as a child of `children` (killed on exit or signal), and
 * returns once its RPC answers.
 */
export async function startDevNode (children: Children, root: string, opts: DevNodeOptions = {}): Promise<DevNode> {
  const home = join(root, 'home')
  const user = join(root, 'user')
  await mkdir(user, { recursive: true })
  const rpcPort = await freeRange(1)
  const p2pPort = await freeRange(1, new Set([rpcPort]))
  const metricsPort = opts.metrics === true ? await freeRange(1, new Set([rpcPort, p2pPort])) : null
  const args = ['start', '--dev', '--home', home, '--rpc-port', String(rpcPort), '--p2p-port', String(p2pPort), '--block-time', String(opts.blockTimeMs ?? 1000)]
  if (metricsPort !== null) args.push('--metrics-port', String(metricsPort))
  args.push(...(opts.args ?? []))
  const node = children.spawnChorus('dev', args, rpcPort, { nodeArgs: opts.nodeArgs ?? [], env: { ...process.env, HOME: user, CHORUS_HOME: home } })
  await waitForRpc(node)
  return { node, url: node.url, home, metricsUrl: metricsPort === null ? null : `http://127.0.0.1:${metricsPort}/metrics` }
}

// ---------------------------------------------------------------- open-loop lanes (load.ts, growth.ts)

/** A signed tx and the sender whose nonce order its lane keeps. */
export interface LaneTx extends SignedOut { sender: Sender }

/** One client of the load: the node it submits to, the loopback address it sends from, its txs in nonce order per sender. */
export interface Lane<T extends LaneTx = LaneTx> { url: string, from: string, queue: T[] }

/**
 * `n` lanes, lane i submitting to urls[i mod urls.length] from 127.0.0.(10 + i): the node
 * admits a bounded amount of RPC work in flight per client IP, so lanes from distinct
 * addresses are distinct clients. A sender belongs to lane `sender.lane`.
 */
export function makeLanes<T extends LaneTx> (urls: string[], n: number): Array<Lane<T>> {
  return Array.from({ length: n }, (_, i) => ({ url: urls[i % urls.length]!, from: `127.0.0.${10 + i}`, queue: [] as T[] }))
}

/** What the lanes met: accepted txs, refusals by code (with one message each), txs sent again, round trips. */
export class SubmitStats {
  accepted = 0
  retries = 0
  /** Txs of senders refused for a reason other than load or room, not sent. */
  dropped = 0
  readonly dead = new Set<Sender>()
  readonly refused = new Map<string, number>()
  readonly refusedExample = new Map<string, string>()
  /** Each batch's round trip, ms. */
  readonly rtts: number[] = []
  /** When the first MEMPOOL_FULL came, and how many txs had been accepted by then. */
  firstFull: { t: number, accepted: number } | null = null

  count (code: string, message: string): void {
    this.refused.set(code, (this.refused.get(code) ?? 0) + 1)
    if (!this.refusedExample.has(code)) this.refusedExample.set(code, message)
  }
}

export interface OpenLoopOptions<T extends LaneTx> {
  /** Txs per JSON-RPC batch. */
  batch: number
  /** The heads as they show (a lane refused with MEMPOOL_FULL waits for the next block, up to 1 s). */
  heads: { readonly blocks: readonly BlockSeen[] }
  /** A tx was accepted (`known`: ALREADY_KNOWN, accepted by an earlier send) from the batch sent at `at`. */
  onAccepted?: (t: T, at: number, known: boolean) => void
  /** A lane's queue is empty: resolve true once more is queued, false to end the lane. Without it an empty queue ends the lane. */
  more?: (lane: Lane<T>) => Promise<boolean>
  /** Ends every lane after its batch in flight (the rest of its queue is not sent). */
  signal?: AbortSignal
}

/** A lane refused for load waits this long, twice as long after each further refusal up to the max, and again from the min after a batch without one. */
export const BACKOFF_MIN_MS = 10
export const BACKOFF_MAX_MS = 160

/**
 * Submits each lane's queue with tx_submit in JSON-RPC batches, open loop: a lane sends
 * its next batch as soon as the last is answered. A tx refused for room or load
 * (RETRYABLE; and the same sender's later txs in that batch, BAD_NONCE) goes back to the
 * head of its lane, which waits for the next block (MEMPOOL_FULL) or backs off
 * (BACKOFF_MIN_MS doubling to BACKOFF_MAX_MS while refused); any other refusal drops the
 * sender's remaining txs. Resolves when every lane has ended.
 */
export async function submitOpenLoop<T extends LaneTx> (lanes: Array<Lane<T>>, opts: OpenLoopOptions<T>, stats = new SubmitStats()): Promise<SubmitStats> {
  const waitForBlock = async (ms: number): Promise<void> => {
    const n = opts.heads.blocks.length
    const end = now() + ms
    while (opts.heads.blocks.length === n && now() < end && opts.signal?.aborted !== true) await sleep(10)
  }
  await Promise.all(lanes.map(async (lane) => {
    const queue = lane.queue
    let backoff = BACKOFF_MIN_MS
    while (opts.signal?.aborted !== true) {
      if (queue.length === 0) {
        if (opts.more === undefined || !(await opts.more(lane))) break
        continue
      }
      const items: T[] = []
      while (items.length < opts.batch && queue.length > 0) {
        const t = queue.shift()!
        if (stats.dead.has(t.sender)) stats.dropped++
        else items.push(t)
      }
      if (items.length === 0) continue
      const at = now()
      const replies = await rpcBatch(lane.url, items.map((t) => ['tx_submit', [t.hex]]), lane.from)
      stats.rtts.push(now() - at)
      const again: T[] = []
      const retrying = new Set<Sender>()
      let full = false
      replies.forEach((r, i) => {
        const t = items[i]!
        if (r.error === undefined) { stats.accepted++; opts.onAccepted?.(t, at, false); return }
        const code = r.error.data?.code ?? String(r.error.code)
        stats.count(code, r.error.message)
        if (code === 'ALREADY_KNOWN') { stats.accepted++; opts.onAccepted?.(t, at, true); return }
        if (RETRYABLE.has(code) || (code === 'BAD_NONCE' && retrying.has(t.sender))) {
          if (code === 'MEMPOOL_FULL') full = true
          again.push(t)
          retrying.add(t.sender)
          return
        }
        stats.dead.add(t.sender)
      })
      if (full && stats.firstFull === null) stats.firstFull = { t: now(), accepted: stats.accepted }
      if (again.length === 0) { backoff = BACKOFF_MIN_MS; continue }
      stats.retries += again.length
      queue.unshift(...again)
      if (full) await waitForBlock(1000)
      else {
        await sleep(backoff)
        backoff = Math.min(BACKOFF_MAX_MS, backoff * 2)
      }
    }
  }))
  return stats
}

/** Bytes under `dir` (du -sb); null if du fails. */
export async function duBytes (dir: string): Promise<number | null> {
  try {
    const { stdout } = await promisify(execFile)('du', ['-sb', dir])
    return Number(stdout.split('\t')[0])
  } catch {
    return null
  }
}
