/**
 * A validator that crashed after deciding a block but before the store had it:
 * on restart the WAL replay brings back that very block (not a new one) and
 * commits it before the validator goes on.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { Chain } from '../../src/chain/chain.ts'
import { parseGenesis } from '../../src/chain/genesis.ts'
import { fileWal } from '../../src/consensus/wal.ts'
import { encodeBlock } from '../../src/codec/block.ts'
import { encodeAddress } from '../../src/crypto/address.ts'
import { toHex } from '../../src/crypto/bytes.ts'
import { generateSecretKey, publicKeyOf } from '../../src/crypto/keys.ts'
import { verifySignature } from '../../src/crypto/verify.ts'
import { silentLogger } from '../../src/logger.ts'
import { ChorusNode } from '../../src/node.ts'
import { Store } from '../../src/state/store.ts'
import { waitFor } from '../support/wait.ts'

let dir: string | undefined
afterAll(async () => { if (dir !== undefined) await rm(dir, { recursive: true, force: true }) })

describe('WAL replay', () => {
  it('commits the block the WAL shows this validator proposed, before anything new', async () => {
    dir = await mkdtemp(join(tmpdir(), 'chorus-replay-'))
    const secretKey = generateSecretKey()
    const genesis = parseGenesis({
      chainId: 'chorus-replay', genesisTimeMs: Date.now() - 10_000, params: { blockTimeMs: 100 },
      accounts: [], validators: [{ address: encodeAddress(publicKeyOf(secretKey)), power: '1' }]
    })
    const walPath = join(dir, 'consensus.wal')
    let store = await Store.open(join(dir, 'data'))
    let chain = await Chain.open(store, genesis, verifySignature)
    // the state of a crash: the WAL holds height 1 and the block built for it; the store has nothing
    const built = await chain.buildBlock([], publicKeyOf(secretKey), Date.now() - 5_000, null)
    const wal = fileWal(walPath)
    await wal.reset({ kind: 'height', height: 1, round: 0 })
    await wal.append({ kind: 'built', height: 1, round: 0, block: encodeBlock(built.block) })
    await wal.sync()
    await wal.close()
    await store.close()

    const node = await ChorusNode.start({
      dataDir: join(dir, 'data'), genesis, rpc: null, p2p: null,
      validator: { secretKey, signStatePath: join(dir, 'sign-state.json'), walPath }
    }, { logger: silentLogger })
    await waitFor(() => node.chain.head.height >= 2, 'two blocks')
    expect(toHex((await node.chain.getCommit(1))!.blockHash)).toBe(toHex(built.hash))
    expect((await node.chain.getBlock(1))!.header.timeMs).toBe(built.block.header.timeMs)
    await node.stop()
  })
})
