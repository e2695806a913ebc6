/** `chorus localnet --validators 4`: four validator processes over libp2p, each with its own RPC, agreeing. */
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { RpcClient } from '../../src/client/rpc-client.ts'
import { post } from '../../src/client/transactions.ts'
import { CLI, freeRange, signerFromHome } from '../support/node-process.ts'
import { waitFor } from '../support/wait.ts'

let home: string | undefined
let stop: (() => Promise<void>) | undefined
afterAll(async () => {
  await stop?.()
  if (home !== undefined) await rm(home, { recursive: true, force: true })
})

describe('chorus localnet', () => {
  it('runs four validator processes that sign commits together and share every tx', async () => {
    home = await mkdtemp(join(tmpdir(), 'chorus-localnet-'))
    // node i serves RPC on port + i and listens for peers on p2p + i: ranges of their own, clear of other test files'
    const port = await freeRange(4)
    const p2p = await freeRange(4, [port, port + 1, port + 2, port + 3])
    const proc = spawn(process.execPath, [CLI, 'localnet', '--validators', '4', '--home', home, '--rpc-port', String(port), '--p2p-port', String(p2p), '--block-time', '200'], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let log = ''
    proc.stdout!.on('data', (d: Buffer) => { out += d.toString() })
    proc.stderr!.on('data', (d: Buffer) => { log += d.toString() })
    const exited = new Promise((resolve) => proc.once('exit', resolve))
    // on failure: SIGKILL the supervisor and each node it printed (pid N)
    stop = async () => {
      for (const m of out.matchAll(/pid ([0-9]+)/g)) {
        try { process.kill(Number(m[1]), 'SIGKILL') } catch { /* gone */ }
      }
      proc.kill('SIGKILL')
      await exited
    }
    const rpcs = [0, 1, 2, 3].map((i) => new RpcClient(`http://127.0.0.1:${port + i}`, { timeoutMs: 20_000 }))
    await waitFor(async () => (await rpcs[3]!.getHead()).height >= 3, `height 3 on node3\n${log}`, 60_000, 100)
    expect([...out.matchAll(/pid ([0-9]+)/g)]).toHaveLength(4) // one process per validator
    const block = await rpcs[2]!.getBlock(2)
    expect((block.commit as { signatures: unknown[] }).signatures.length).toBeGreaterThanOrEqual(3)
    expect(await rpcs[0]!.listValidators()).toHaveLength(4)

    const dev = await signerFromHome(join(home, 'node0'), 'dev')
    const { chainId } = await rpcs[1]!.getParams()
    const tx = dev.sign({ chainId, nonce: 0, body: post('four validators agree') })
    // submitted to node1; every node's mempool may carry it, but it lands once, on all
    const res = await rpcs[1]!.submitTx(tx.hex, { wait: 'commit' })
    for (const [i, rpc] of rpcs.entries()) await waitFor(async () => (await rpc.getHead()).height >= res.height!, `node${i} to reach the tx height`)
    for (const rpc of rpcs) expect((await rpc.getPost(tx.id)).text).toBe('four validators agree')
    const heads = await Promise.all(rpcs.map(async (r) => await r.getBlock(res.height!)))
    expect(new Set(heads.map((b) => b.hash)).size).toBe(1)
    proc.kill('SIGTERM')
    expect(await exited).toBe(0) // every node stopped cleanly
    stop = undefined
  }, 90_000)
})
