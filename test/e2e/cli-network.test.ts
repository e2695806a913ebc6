/**
 * The network commands as an operator runs them: `init --validators`, `init --genesis`,
 * and `localnet` supervising one `chorus start` process per home. (Block production
 * across processes is tested where the p2p network is.)
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { RpcClient } from '../../src/client/rpc-client.ts'
import { CLI, cli, freeRange } from '../support/node-process.ts'
import { waitFor } from '../support/wait.ts'

let dir: string
let running: ChildProcess[] = []
beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'chorus-cli-net-')) })
afterEach(async () => {
  // a killed localnet closes its children's stdin, which stops them
  await Promise.all(running.map(async (p) => {
    if (p.exitCode !== null || p.signalCode !== null) return
    p.kill('SIGKILL')
    await new Promise((r) => p.once('exit', r))
  }))
  running = []
  await rm(dir, { recursive: true, force: true })
})

/** Whether process `pid` still runs (a zombie nobody reaped yet counts as gone). */
function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  try {
    return !/^[0-9]+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return true // no /proc here
  }
}

interface Localnet { proc: ChildProcess, stdout: () => string, stderr: () => string, exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }> }

function localnet (args: string[]): Localnet {
  const proc = spawn(process.execPath, [CLI, 'localnet', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  running.push(proc)
  let out = ''
  let err = ''
  proc.stdout!.on('data', (d: Buffer) => { out += d.toString() })
  proc.stderr!.on('data', (d: Buffer) => { err += d.toString() })
  const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })))
  return { proc, stdout: () => out, stderr: () => err, exited }
}

interface Printed { name: string, role: string, home: string, rpc: string, p2p: string, peerId: string, pid: number, chainId: string }

describe('chorus init (networks)', () => {
  it('init --validators N --full-nodes M --out DIR, then init --home --genesis joins the chain', async () => {
    const made = await cli(['init', '--validators', '2', '--full-nodes', '1', '--out', join(dir, 'net'), '--rpc-port', '41000', '--p2p-port', '42000', '--json'])
    expect(made.code, made.stderr).toBe(0)
    expect(made.json.homes.map((h: { name: string, validator: string | null }) => [h.name, h.validator === null])).toEqual([['node0', false], ['node1', false], ['node2', true]])
    const node2 = JSON.parse(await readFile(join(dir, 'net', 'node2', 'config.json'), 'utf8'))
    expect(node2.rpc.port).toBe(41002)
    expect(node2.p2p.bootstrap).toEqual([made.json.homes[0].p2p, made.json.homes[1].p2p])

    const joined = await cli(['init', '--home', join(dir, 'joiner'), '--genesis', join(dir, 'net', 'node0', 'genesis.json'), '--bootstrap', made.json.homes[0].p2p, '--json'])
    expect(joined.code, joined.stderr).toBe(0)
    expect(joined.json).toMatchObject({ chainId: made.json.chainId, config: { p2p: { bootstrap: [made.json.homes[0].p2p] } } })
    expect(joined.json.peerId).toMatch(/^12D3KooW/)

    const clash = await cli(['init', '--home', join(dir, 'y'), '--genesis', join(dir, 'net', 'node0', 'genesis.json'), '--validators', '2'])
    expect(clash.code).toBe(2) // a usage error
    expect(clash.stderr).toContain('INVALID_FIELD')
    const noPeer = await cli(['init', '--home', join(dir, 'z'), '--genesis', join(dir, 'net', 'node0', 'genesis.json'), '--bootstrap', '/ip4/127.0.0.1/tcp/42000'])
    expect(noPeer.code).toBe(2)
    expect(noPeer.stderr).toContain('/p2p/')
  })
})

describe('chorus localnet', () => {
  it('--help describes the separate processes and the JSON output', async () => {
    const r = await cli(['localnet', '--help'])
    expect(r.code).toBe(0)
    for (const flag of ['--validators', '--full-nodes', '--home', '--rpc-port', '--p2p-port', '--block-time', '--json']) expect(r.stdout).toContain(flag)
    expect(r.stdout).toContain('separate')
  })

  it('runs one process per home, reports a node that dies, and stops the rest on SIGTERM', async () => {
    const rpcBase = await freeRange(3)
    const p2pBase = await freeRange(3, [rpcBase, rpcBase + 1, rpcBase + 2])
    const home = join(dir, 'ln')
    const net = localnet(['--validators', '2', '--full-nodes', '1', '--home', home, '--rpc-port', String(rpcBase), '--p2p-port', String(p2pBase), '--json'])
    const nodes = await waitFor(() => {
      const lines = net.stdout().split('\n').filter((l) => l.trim() !== '')
      return lines.length >= 3 ? lines.map((l) => JSON.parse(l) as Printed) : undefined
    }, `three nodes printed\n${net.stderr()}`, 30_000)
    expect(nodes.map((n) => [n.name, n.role, n.rpc])).toEqual([
      ['node0', 'validator', `http://127.0.0.1:${rpcBase}`],
      ['node1', 'validator', `http://127.0.0.1:${rpcBase + 1}`],
      ['node2', 'full', `http://127.0.0.1:${rpcBase + 2}`]
    ])
    for (const n of nodes) {
      expect(n.pid).not.toBe(net.proc.pid)
      const key = JSON.parse(await readFile(join(home, n.name, 'node-key.json'), 'utf8')) as { peerId: string }
      expect(n.peerId).toBe(key.peerId)
      expect(n.p2p).toBe(`/ip4/127.0.0.1/tcp/${p2pBase + Number(n.name.slice(4))}/p2p/${key.peerId}`)
    }
    const rpcs = nodes.map((n) => new RpcClient(n.rpc, { timeoutMs: 10_000 }))
    for (const rpc of rpcs) await waitFor(async () => (await rpc.getStatus()).chainId === nodes[0]!.chainId, `${rpc.url} to answer\n${net.stderr()}`, 30_000, 100)
    const status = await cli(['query', 'status', '--rpc', nodes[2]!.rpc, '--json'])
    expect(status.json).toMatchObject({ chainId: nodes[0]!.chainId, validator: null })
    expect((await rpcs[1]!.getStatus()).validator).not.toBeNull()
    // each child's JSON log lines come through marked with its node
    await waitFor(() => ['node0', 'node1', 'node2'].every((n) => net.stderr().includes(`"node":"${n}"`)), 'every node\'s logs')

    // one node dies: it is reported, and the others keep running
    process.kill(nodes[1]!.pid, 'SIGKILL')
    await waitFor(() => net.stderr().includes('Node exited') && net.stderr().includes('"node":"node1"'), 'the death to be reported')
    expect(net.proc.exitCode).toBeNull()
    expect((await rpcs[0]!.getStatus()).chainId).toBe(nodes[0]!.chainId)

    net.proc.kill('SIGTERM')
    const { code } = await net.exited
    expect(code).toBe(1) // a node had died on its own
    for (const n of nodes) expect(alive(n.pid), n.name).toBe(false)
    expect(net.stderr()).toContain('Stopping every node')

    // a later run checks the homes against the counts asked for
    const wrong = await cli(['localnet', '--validators', '3', '--home', home])
    expect(wrong.code).toBe(1)
    expect(wrong.stderr).toContain('2 validator home(s) and 1 full-node home(s)')
  }, 90_000)

  it('exits 0 when every node stops cleanly on SIGTERM, and a killed localnet leaves no node behind', async () => {
    const rpcBase = await freeRange(2)
    const p2pBase = await freeRange(2, [rpcBase, rpcBase + 1])
    const home = join(dir, 'ln')
    const args = ['--validators', '2', '--home', home, '--rpc-port', String(rpcBase), '--p2p-port', String(p2pBase)]
    const first = localnet(args)
    await waitFor(() => first.stdout().includes('Ctrl-C'), `the node list\n${first.stderr()}`, 30_000)
    const pids = [...first.stdout().matchAll(/pid ([0-9]+)/g)].map((m) => Number(m[1]))
    expect(pids).toHaveLength(2)
    for (const i of [0, 1]) await waitFor(async () => await new RpcClient(`http://127.0.0.1:${rpcBase + i}`).getStatus(), `node${i} to answer\n${first.stderr()}`, 30_000, 100)
    expect(first.stderr()).toMatch(/node0 \| .*Node started/) // text logs are prefixed with the node name
    first.proc.kill('SIGTERM')
    expect((await first.exited).code).toBe(0)
    for (const pid of pids) expect(alive(pid)).toBe(false)

    // the second run reuses the homes; SIGKILL on the supervisor closes the children's stdin, and they stop
    const second = localnet(args)
    await waitFor(() => second.stdout().includes('Ctrl-C'), `the node list\n${second.stderr()}`, 30_000)
    expect(second.stderr()).not.toContain('Created a localnet')
    const again = [...second.stdout().matchAll(/pid ([0-9]+)/g)].map((m) => Number(m[1]))
    for (const i of [0, 1]) await waitFor(async () => await new RpcClient(`http://127.0.0.1:${rpcBase + i}`).getStatus(), `node${i} to answer again\n${second.stderr()}`, 30_000, 100)
    second.proc.kill('SIGKILL')
    await second.exited
    await waitFor(() => again.every((pid) => !alive(pid)), 'the orphaned nodes to stop', 20_000, 100)
  }, 90_000)
})
