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
import { Mempool } from '../../src/chain/mempool.ts'
import { Lock, TxPool } from '../../src/chain/tx-pool.ts'
import { systemClock } from '../../src/consensus/clock.ts'
import { ConsensusDriver, DEFAULT_TIMEOUTS } from '../../src/consensus/driver.ts'
import { SignState, fileSignStore } from '../../src/consensus/sign-state.ts'
import { NoPeers } from '../../src/consensus/transport.ts'
import { fileWal } from '../../src/consensus/wal.ts'
import { encodeBlock } from '../../src/codec/block.ts'
import { encodeAddress } from '../../src/crypto/address.ts'
import { toHex } from '../../src/crypto/bytes.ts'
import { generateSecretKey, publicKeyOf } from '../../src/crypto/keys.ts'
import { verifySignature } from '../../src/crypto/verify.ts'
import { silentLogger } from '../../src/logger.ts'
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

    store = await Store.open(join(dir, 'data'))
    chain = await Chain.open(store, genesis, verifySignature)
    const signState = await SignState.load(fileSignStore(join(dir, 'sign-state.json')), secretKey)
    const driver = new ConsensusDriver({ publicKey: publicKeyOf(secretKey), signState, wal: fileWal(walPath) }, DEFAULT_TIMEOUTS, {
      chain, pool: new TxPool(chain, new Mempool(), new Lock()), transport: new NoPeers(), clock: systemClock, logger: silentLogger
    })
    await driver.start()
    await waitFor(() => chain.head.height >= 2, 'two blocks')
    await driver.stop()
    expect(toHex((await chain.getCommit(1))!.blockHash)).toBe(toHex(built.hash))
    expect((await chain.getBlock(1))!.header.timeMs).toBe(built.block.header.timeMs)
    await store.close()
  })
})
