/**
 * Crash safety: SIGKILL a dev node while it commits a stream of txs, then
 * check the store is exactly at its last committed block (replaying every
 * block from genesis into a fresh store gives the same state root, balances
 * and posts), and that the node continues from there on the same home.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { Chain } from '../../src/chain/chain.ts'
import * as b from '../../src/client/transactions.ts'
import { parseHex, toHex } from '../../src/crypto/bytes.ts'
import { verifySignature } from '../../src/crypto/verify.ts'
import { loadGenesis } from '../../src/cli/home.ts'
import { Store } from '../../src/state/store.ts'
import { readAccount } from '../../src/state/transition.ts'
import { type NodeProcess, signerFromHome, startNode } from '../support/node-process.ts'
import { waitFor } from '../support/wait.ts'

let home: string
let node: NodeProcess | undefined

afterAll(async () => {
  await node?.stop()
  if (home !== undefined) await rm(home, { recursive: true, force: true })
})

describe('restart after SIGKILL', () => {
  it('recovers exactly the last committed block and carries on', async () => {
    home = await mkdtemp(join(tmpdir(), 'chorus-restart-'))
    node = await startNode(home, ['--block-time', '100'])
    const { chainId } = await node.rpc.getParams()
    const dev = await signerFromHome(home, 'dev')
    const friend = b.Signer.generate()

    // a stream of txs, submitted without waiting, while blocks commit every 100 ms
    let nonce = 0
    const included: string[] = []
    const submitted: string[] = []
    let streaming = true
    const stream = (async () => {
      while (streaming) {
        const tx = dev.sign({ chainId, nonce, body: nonce % 2 === 0 ? b.post(`post ${nonce}`) : b.transfer(friend.publicKey, 1000n) })
        try {
          await node!.rpc.submitTx(tx.hex)
          submitted.push(tx.id)
          nonce++
        } catch {
          return // the node is gone
        }
      }
    })()
    await waitFor(async () => (await node!.rpc.getHead()).height >= 8 && nonce >= 40, 'blocks with txs', 30_000)
    const before = await node.rpc.getHead()
    for (const id of submitted.slice(0, 10)) if ((await node.rpc.getTx(id)).status === 'included') included.push(id)
    await node.kill()
    streaming = false
    await stream
    node = undefined

    // open the store the killed process left
    const genesis = await loadGenesis(home)
    const store = await Store.open(join(home, 'data'))
    const chain = await Chain.open(store, genesis, verifySignature)
    const head = chain.head
    expect(head.height).toBeGreaterThanOrEqual(before.height)
    const headBlock = (await chain.getBlock(head.height))!
    expect(toHex(headBlock.header.stateRoot)).toBe(toHex(head.stateRoot))
    expect(await chain.getBlock(head.height + 1)).toBeNull()

    // replay every block into a fresh store: same roots, same state
    const replayStore = await Store.open(join(home, 'replay'))
    const replay = await Chain.open(replayStore, genesis, verifySignature)
    for (let h = 1; h <= head.height; h++) {
      const checked = await replay.checkBlock((await chain.getBlock(h))!)
      await replay.commitBlock(checked, (await chain.getCommit(h))!)
    }
    expect(replay.head).toEqual(head)
    for (const who of [dev.publicKey, friend.publicKey]) expect(await readAccount(store, who)).toEqual(await readAccount(replayStore, who))
    expect(included.length).toBeGreaterThan(0)
    for (const id of included) expect(await chain.txLocation(parseHex(id)!)).not.toBeNull()
    const devAccount = await readAccount(store, dev.publicKey)
    expect(devAccount.postCount).toBeGreaterThan(0)
    await replayStore.close()
    await store.close()

    // the same home starts again at the next height
    node = await startNode(home, ['--block-time', '100'])
    expect((await node.rpc.getBlock(head.height)).hash).toBe(toHex(head.hash))
    await waitFor(async () => (await node!.rpc.getHead()).height > head.height, 'a new block after restart')
    const account = await node.rpc.getAccount(dev.address())
    expect(Number(account.nonce)).toBeGreaterThanOrEqual(devAccount.nonce)
    expect((await node.rpc.getProfile(dev.address())).postCount).toBeGreaterThanOrEqual(devAccount.postCount)
  })
})
