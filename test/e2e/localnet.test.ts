/** `chorus localnet --validators 4`: four validators in one process, each with its own RPC, agreeing. */
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { RpcClient } from '../../src/client/rpc-client.ts'
import { post } from '../../src/client/transactions.ts'
import { CLI, freePort, signerFromHome } from '../support/node-process.ts'
import { waitFor } from '../support/wait.ts'

let home: string | undefined
let stop: (() => void) | undefined
afterAll(async () => {
  stop?.()
  if (home !== undefined) await rm(home, { recursive: true, force: true })
})

describe('chorus localnet', () => {
  it('runs four validators that sign commits together and share every tx', async () => {
    home = await mkdtemp(join(tmpdir(), 'chorus-localnet-'))
    const port = await freePort() // node i listens on port + i
    const proc = spawn(process.execPath, [CLI, 'localnet', '--validators', '4', '--home', home, '--rpc-port', String(port), '--block-time', '200'], { stdio: ['ignore', 'ignore', 'pipe'] })
    let log = ''
    proc.stderr!.on('data', (d: Buffer) => { log += d.toString() })
    stop = () => proc.kill('SIGKILL')
    const rpcs = [0, 1, 2, 3].map((i) => new RpcClient(`http://127.0.0.1:${port + i}`, { timeoutMs: 20_000 }))
    await waitFor(async () => (await rpcs[3]!.getHead()).height >= 3, `height 3 on node3\n${log}`, 30_000, 100)
    const block = await rpcs[2]!.getBlock(2)
    expect((block.commit as { signatures: unknown[] }).signatures.length).toBeGreaterThanOrEqual(3)
    expect(await rpcs[0]!.listValidators()).toHaveLength(4)

    const dev = await signerFromHome(join(home, 'node0'), 'dev')
    const { chainId } = await rpcs[1]!.getParams()
    const tx = dev.sign({ chainId, nonce: 0, body: post('four validators agree') })
    // submitted to node1; every node's mempool may carry it, but it lands once, on all
    const res = await rpcs[1]!.submitTx(tx.hex, { wait: 'commit' })
    await waitFor(async () => (await rpcs[3]!.getHead()).height >= res.height!, 'node3 to reach the tx height')
    for (const rpc of rpcs) expect((await rpc.getPost(tx.id)).text).toBe('four validators agree')
    const heads = await Promise.all(rpcs.map(async (r) => await r.getBlock(res.height!)))
    expect(new Set(heads.map((b) => b.hash)).size).toBe(1)
    proc.kill('SIGTERM')
    await new Promise((r) => proc.once('exit', r))
    stop = undefined
  }, 60_000)
})
