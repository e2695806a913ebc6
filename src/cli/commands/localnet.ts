/**
 * `chorus localnet --validators N [--full-nodes M]`: a network on this machine
 * as N + M separate OS processes, each `chorus start --home DIR/node<i>`, talking
 * over libp2p on loopback. The first run makes the homes (as `init --validators N
 * --full-nodes M --out DIR`: each home's config.json holds its ports and the
 * other nodes as bootstrap peers); later runs use the homes that exist.
 *
 * The supervisor prints each node (name, RPC URL, peer id) on stdout, forwards
 * every child's output to its stderr prefixed with the node name, reports a
 * child that exits (the others keep running), and on SIGINT or SIGTERM sends
 * each child SIGTERM, waits, and SIGKILLs what is still running after 10 s.
 */
import type { Command } from 'commander'
import { type ChildProcess, spawn } from 'node:child_process'
import { readdir, stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import type { Logger } from '../../logger.ts'
import { ErrorCode, fail } from '../../protocol/errors.ts'
import { DEFAULT_P2P_HOST, DEFAULT_P2P_PORT, DEFAULT_RPC_HOST, DEFAULT_RPC_PORT, peerMultiaddr, readConfig } from '../config.ts'
import { hasGenesis, homePaths, initNetwork, loadGenesis } from '../home.ts'
import { keysDir } from '../keystore.ts'
import { action } from '../output.ts'
import { intOption, logLevelFlag, portOption } from './options.ts'
import { nodeLogger } from './start.ts'

const CLI = fileURLToPath(new URL('../../../bin/chorus.js', import.meta.url))
/** How long a node gets to stop after SIGTERM before it is killed. */
const STOP_GRACE_MS = 10_000

interface LocalnetFlags {
  validators: number
  fullNodes: number
  home: string
  rpcPort?: number
  p2pPort?: number
  rpcHost?: string
  blockTime?: number
  logLevel: string
  logJson?: boolean
  json?: boolean
}

/** One node of the localnet, as printed. */
interface Member {
  name: string
  role: 'validator' | 'full'
  home: string
  rpc: string
  p2p: string
  peerId: string
}

async function exists (path: string): Promise<boolean> {
  try {
    await stat(path)
    return true
  } catch {
    return false
  }
}

/** A URL a client on this machine can reach a server listening on `host` with. */
function rpcUrl (host: string, port: number): string {
  const local = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host
  return `http://${local.includes(':') ? `[${local}]` : local}:${port}`
}

/** Reads the homes under `dir` (node0 … node{K-1}) and checks they are the network asked for. */
async function readMembers (dir: string, opts: LocalnetFlags): Promise<Member[]> {
  const names = (await readdir(dir)).filter((d) => /^node[0-9]+$/.test(d)).sort((a, b) => Number(a.slice(4)) - Number(b.slice(4)))
  names.forEach((n, i) => { if (n !== `node${i}`) fail(ErrorCode.INVALID_FIELD, `${dir} holds ${names.join(', ')}: expected node0 … node${names.length - 1}`) })
  const { readNodeKey } = await import('../../p2p/identity.ts') // loaded on use: `chorus --help` needs none of libp2p (#8)
  const members: Member[] = []
  for (const name of names) {
    const paths = homePaths(join(dir, name))
    if (!await hasGenesis(paths.home)) fail(ErrorCode.NOT_FOUND, `${paths.home} has no genesis.json`)
    const config = await readConfig(paths.home)
    const key = await readNodeKey(paths.nodeKey)
    if (config === null || key === null) {
      fail(ErrorCode.NOT_FOUND, `${paths.home} has no ${config === null ? 'config.json' : 'node-key.json'} (made by an older chorus that ran localnet in one process): remove ${dir} to make a new localnet`)
    }
    const rpcHost = opts.rpcHost ?? config!.rpc?.host ?? DEFAULT_RPC_HOST
    const p2pHost = config!.p2p?.host ?? DEFAULT_P2P_HOST
    members.push({
      name,
      role: await exists(join(keysDir(paths.home), 'validator.json')) ? 'validator' : 'full',
      home: paths.home,
      rpc: rpcUrl(rpcHost, config!.rpc?.port ?? DEFAULT_RPC_PORT),
      p2p: peerMultiaddr(p2pHost, config!.p2p?.port ?? DEFAULT_P2P_PORT, key!.peerId),
      peerId: key!.peerId
    })
  }
  const validators = members.filter((m) => m.role === 'validator').length
  const full = members.length - validators
  if (validators !== opts.validators || full !== opts.fullNodes) {
    fail(ErrorCode.INVALID_FIELD, `${dir} holds ${validators} validator home(s) and ${full} full-node home(s), not ${opts.validators} and ${opts.fullNodes}: ` +
      `run with --validators ${validators} --full-nodes ${full}, or remove ${dir} to make a new localnet`)
  }
  return members
}

/** Checks that --rpc-port/--p2p-port on a later run agree with the homes (the ports are in each config.json). */
async function checkPorts (dir: string, opts: LocalnetFlags): Promise<void> {
  const config = await readConfig(join(dir, 'node0'))
  const rpc = config?.rpc?.port ?? DEFAULT_RPC_PORT
  const p2p = config?.p2p?.port ?? DEFAULT_P2P_PORT
  if (opts.rpcPort !== undefined && opts.rpcPort !== rpc) fail(ErrorCode.INVALID_FIELD, `${dir} was made with --rpc-port ${rpc}, not ${opts.rpcPort} (the ports are in each home's config.json)`)
  if (opts.p2pPort !== undefined && opts.p2pPort !== p2p) fail(ErrorCode.INVALID_FIELD, `${dir} was made with --p2p-port ${p2p}, not ${opts.p2pPort} (the ports are in each home's config.json)`)
}

/** Copies each line of a child's output to our stderr, marked with the node's name. */
function forward (stream: NodeJS.ReadableStream, name: string, json: boolean): void {
  createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
    if (json) {
      try {
        const v = JSON.parse(line) as unknown
        if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
          process.stderr.write(JSON.stringify({ node: name, ...v }) + '\n')
          return
        }
      } catch { /* not a JSON log line: prefix it as text */ }
    }
    process.stderr.write(`${name} | ${line}\n`)
  })
}

interface Child { member: Member, proc: ChildProcess, exited: Promise<void>, running: boolean }

/** Runs the members as child processes until SIGINT or SIGTERM (or until every one has exited). */
function supervise (members: Member[], opts: LocalnetFlags, logger: Logger): Child[] {
  const json = opts.logJson === true || opts.json === true
  const passThrough = ['--log-level', opts.logLevel, ...(json ? ['--log-json'] : []), ...(opts.rpcHost === undefined ? [] : ['--rpc-host', opts.rpcHost])]
  let stopping = false
  let failed = false
  const children: Child[] = members.map((member) => {
    // stdin stays an open pipe: the child stops when it closes, so killing this supervisor leaves no node behind
    const proc = spawn(process.execPath, [CLI, 'start', '--home', member.home, ...passThrough, '--stop-with-stdin'], { stdio: ['pipe', 'pipe', 'pipe'] })
    const child: Child = { member, proc, running: true, exited: Promise.resolve() }
    child.exited = new Promise((resolve) => {
      const done = (code: number | null, signal: NodeJS.Signals | null, error?: Error) => {
        if (!child.running) return
        child.running = false
        if (stopping) {
          if (code !== 0) failed = true
          logger.info('Node stopped', { node: member.name, code, signal })
        } else {
          failed = true
          const alive = children.filter((c) => c.running).length
          logger.error('Node exited; the others keep running', {
            node: member.name, code, signal, ...(error === undefined ? {} : { error: error.message }), running: alive,
            restart: `chorus start --home ${member.home}`
          })
          if (alive === 0) {
            logger.error('Every node has exited')
            process.exit(1)
          }
        }
        resolve()
      }
      proc.once('exit', (code, signal) => done(code, signal))
      proc.once('error', (e) => done(null, null, e))
    })
    proc.stdin!.on('error', () => { /* the child is gone: its exit is reported above */ })
    forward(proc.stdout!, member.name, json)
    forward(proc.stderr!, member.name, json)
    return child
  })

  let killed = false
  const killAll = () => {
    for (const c of children) {
      if (!c.running) continue
      killed = true
      logger.warn('Killing a node that did not stop', { node: c.member.name, pid: c.proc.pid })
      c.proc.kill('SIGKILL')
    }
  }
  let stoppingAt = 0
  const shutdown = (signal: string) => {
    if (stopping) {
      // a second Ctrl-C: stop waiting (not the same signal delivered twice, as `timeout` and process groups do)
      if (Date.now() - stoppingAt > 500) killAll()
      return
    }
    stopping = true
    stoppingAt = Date.now()
    logger.info('Stopping every node', { signal, nodes: children.filter((c) => c.running).length })
    for (const c of children) if (c.running) c.proc.kill('SIGTERM')
    const timer = setTimeout(killAll, STOP_GRACE_MS)
    void Promise.all(children.map(async (c) => await c.exited)).then(() => {
      clearTimeout(timer)
      process.exit(killed || failed ? 1 : 0)
    })
  }
  process.on('SIGINT', () => shutdown('SIGINT'))
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  return children
}

export function registerLocalnet (program: Command): void {
  program.command('localnet')
    .description('Run a network on this machine: N validators and M full nodes, each a separate `chorus start --home <home>/node<i>` process. ' +
      'The first run makes the homes (as `init --validators N --full-nodes M`); later runs use them. ' +
      'Prints each node (name, role, RPC URL, peer id) on stdout; the nodes\' logs go to stderr, each line marked with its node. ' +
      'Ctrl-C or SIGTERM stops every node (SIGKILL after 10 s); the exit code is non-zero if one had to be killed or had exited on its own')
    .requiredOption('--validators <n>', 'number of validators (first run; later runs check it against the homes)', intOption)
    .option('--full-nodes <m>', 'number of full nodes, homes node<N> … (first run; later runs check it)', intOption, 0)
    .option('--home <dir>', 'where the homes live (node0 … node{N+M-1})', '.chorus-localnet')
    .option('--rpc-port <port>', 'first run: JSON-RPC port of node0, node i gets port + i (default 26657)', portOption)
    .option('--p2p-port <port>', 'first run: libp2p port of node0, node i gets port + i (default 36656)', portOption)
    .option('--rpc-host <host>', 'JSON-RPC listen address of every node (default: each home\'s config.json, 127.0.0.1)')
    .option('--block-time <ms>', 'first run: target block time in ms', intOption)
    .addOption(logLevelFlag('the nodes\' log level: debug, info, warn or error', 'info'))
    .option('--log-json', 'logs as one JSON object per line, each with a "node" field')
    .option('--json', 'print the nodes as JSON, one object per line: {name, role, home, rpc, p2p, peerId, pid, chainId}; implies --log-json')
    .action(action(async (opts: LocalnetFlags) => {
      const logger = nodeLogger(opts).child('localnet')
      const dir = resolve(opts.home)
      if (!await hasGenesis(join(dir, 'node0'))) {
        const n = await initNetwork(dir, opts.validators, { fullNodes: opts.fullNodes, blockTimeMs: opts.blockTime, rpcPort: opts.rpcPort, p2pPort: opts.p2pPort })
        logger.warn('Created a localnet with INSECURE keys', { home: n.out, chainId: n.chainId, validators: opts.validators, fullNodes: opts.fullNodes, dev: n.dev.address })
      } else {
        await checkPorts(dir, opts)
      }
      const members = await readMembers(dir, opts)
      const { chainId } = await loadGenesis(join(dir, 'node0'))
      const children = supervise(members, opts, logger)
      if (opts.json === true) {
        for (const c of children) process.stdout.write(JSON.stringify({ ...c.member, pid: c.proc.pid ?? null, chainId }) + '\n')
      } else {
        process.stdout.write([
          `Localnet ${chainId} in ${dir}: ${opts.validators} validator(s), ${opts.fullNodes} full node(s)`,
          ...children.map((c) => `  ${c.member.name.padEnd(7)} ${c.member.role.padEnd(9)} ${c.member.rpc.padEnd(24)} ${c.member.peerId}  pid ${c.proc.pid ?? '-'}`),
          'Logs follow on stderr. Ctrl-C stops every node.'
        ].join('\n') + '\n')
      }
    }))
}
