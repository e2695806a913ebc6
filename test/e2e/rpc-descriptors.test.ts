/**
 * A dev node under a small open-file limit, flooded with idle RPC connections,
 * keeps its descriptors for itself: it keeps making blocks, and serves again
 * once the connections go. (Before the caps, the connections took every
 * descriptor and consensus stopped for good on EMFILE.)
 */
import { connect, type Socket } from 'node:net'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type NodeProcess, startNode } from '../support/node-process.ts'
import { waitFor } from '../support/wait.ts'

const OPEN_FILES = 256
let node: NodeProcess
let home: string

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'chorus-fds-'))
  node = await startNode(home, [], { openFiles: OPEN_FILES })
})
afterAll(async () => {
  await node?.stop()
  await rm(home, { recursive: true, force: true })
})

/** The highest height in the node's "Committed block" log lines. */
const loggedHeight = (): number => Math.max(0, ...[...node.log().matchAll(/Committed block .*?height=(\d+)/g)].map((m) => Number(m[1])))

describe('RPC connections under the open-file limit', () => {
  it('logs the limit and the caps it fitted, with a warning that says what to raise', () => {
    expect(node.log()).toMatch(new RegExp(`Descriptor limits openFiles=${OPEN_FILES} .*rpcConnections=\\d+`))
    expect(node.log()).toMatch(/WARN .*ulimit -n/)
  })

  it('keeps making blocks while idle connections come past the limit, and serves again when they go', async () => {
    const port = Number(new URL(node.rpcUrl).port)
    const sockets: Socket[] = []
    try {
      for (let i = 0; i < OPEN_FILES + 100; i++) {
        const s = connect({ host: '127.0.0.1', port, localAddress: `127.0.0.${1 + (i % 8)}` })
        s.on('error', () => {}) // refused ones are closed by the node
        await new Promise<void>((resolve) => { s.once('connect', () => resolve()); s.once('close', () => resolve()) })
        sockets.push(s)
      }
      // the connections past the cap were closed at once: the node holds far fewer descriptors than its limit
      // (before the caps it held all 256, and the sign state's next write failed with EMFILE)
      expect((await readdir(`/proc/${node.proc.pid}/fd`)).length).toBeLessThan(OPEN_FILES / 2)
      const from = loggedHeight()
      await waitFor(() => loggedHeight() >= from + 3, 'three more blocks while the connections are held', 30_000)
    } finally {
      for (const s of sockets) s.destroy()
    }
    const head = await waitFor(async () => await node.rpc.getHead(), 'the RPC to answer again', 30_000)
    expect(head.height).toBeGreaterThanOrEqual(loggedHeight() - 1)
    const health = await fetch(`${node.rpcUrl}/health`)
    expect(health.status).toBe(200)
  })
})
