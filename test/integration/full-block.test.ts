/**
 * A proposer holds a block until the target block time, unless a full block's worth is
 * pending: then it proposes at once (issue #10). A real node, LevelDB, WAL and sign state.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { parseGenesis } from '../../src/chain/genesis.ts'
import { Signer, post } from '../../src/client/transactions.ts'
import { encodeAddress } from '../../src/crypto/address.ts'
import { generateSecretKey, publicKeyOf } from '../../src/crypto/keys.ts'
import { silentLogger } from '../../src/logger.ts'
import { ChorusNode } from '../../src/node.ts'
import { waitFor } from '../support/wait.ts'

const BLOCK_TIME_MS = 20_000
const FULL = 6
let dir: string
let node: ChorusNode | undefined

afterAll(async () => {
  await node?.stop()
  await rm(dir, { recursive: true, force: true })
})

describe('a full block does not wait for the target block time', () => {
  it('proposes as soon as the mempool holds maxBlockTxs, and the block time still moves forward', async () => {
    dir = await mkdtemp(join(tmpdir(), 'chorus-full-block-'))
    const secretKey = generateSecretKey()
    const users = Array.from({ length: FULL }, () => Signer.generate())
    const genesis = parseGenesis({
      chainId: 'full-block', genesisTimeMs: Date.now() - BLOCK_TIME_MS, params: { blockTimeMs: BLOCK_TIME_MS, maxBlockTxs: FULL },
      accounts: users.map((u) => ({ address: u.address(), balance: '1000000' })),
      validators: [{ address: encodeAddress(publicKeyOf(secretKey)), power: '1' }]
    })
    node = await ChorusNode.start({
      dataDir: join(dir, 'data'), genesis, rpc: null, p2p: null,
      validator: { secretKey, signStatePath: join(dir, 'sign-state.json'), walPath: join(dir, 'consensus.wal') }
    }, { logger: silentLogger })
    // the first block is due at once (genesis is a block time old); then a full block's worth goes in
    await waitFor(() => node!.chain.head.height >= 1, 'the first block', 60_000)
    const before = node.chain.head
    const txs = users.map((u) => u.sign({ chainId: 'full-block', nonce: 0, body: post('fill it') }).tx)
    for (const tx of txs) await node.pool.submitDecoded(tx)
    const at = await waitFor(async () => await node!.chain.txLocation(txs[FULL - 1]!.id) ?? undefined, 'the full block', 60_000)
    const block = (await node.chain.getBlock(at.height))!
    expect(block.txs).toHaveLength(FULL)
    expect(at.height).toBe(before.height + 1)
    // made well before the target: the header's own clock says so, not this test's
    expect(block.header.timeMs - before.timeMs).toBeLessThan(BLOCK_TIME_MS / 2)
    expect(block.header.timeMs).toBeGreaterThan(before.timeMs)
  }, 120_000)
})
