/**
 * Four in-process validators over an in-memory transport, each with its own
 * real LevelDB, file WAL and file sign state. One is killed right after it
 * durably signed and before the message left; its WAL gets a torn tail; it
 * restarts from disk, never signs anything conflicting, and rejoins.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { Chain } from '../../src/chain/chain.ts'
import { type Genesis, parseGenesis } from '../../src/chain/genesis.ts'
import { Mempool } from '../../src/chain/mempool.ts'
import { Lock, TxPool } from '../../src/chain/tx-pool.ts'
import { systemClock } from '../../src/consensus/clock.ts'
import { ConsensusDriver, CrashForTest } from '../../src/consensus/driver.ts'
import { SignState, fileSignStore } from '../../src/consensus/sign-state.ts'
import { fileWal } from '../../src/consensus/wal.ts'
import { encodeAddress } from '../../src/crypto/address.ts'
import { toHex } from '../../src/crypto/bytes.ts'
import { generateSecretKey, publicKeyOf } from '../../src/crypto/keys.ts'
import { verifySignature } from '../../src/crypto/verify.ts'
import { silentLogger } from '../../src/logger.ts'
import { Store } from '../../src/state/store.ts'
import { readAccount } from '../../src/state/transition.ts'
import { Signer, stake, unstake } from '../../src/client/transactions.ts'
import { MemoryNetwork } from '../../src/consensus/memory-transport.ts'
import { waitFor } from '../support/wait.ts'

const TIMEOUTS = { propose: 400, prevote: 200, precommit: 200, delta: 100, gossip: 200 }
let root: string | undefined
const rootDir = async (): Promise<string> => (root ??= await mkdtemp(join(tmpdir(), 'chorus-validators-')))
const stores: Store[] = []
const drivers: ConsensusDriver[] = []

afterAll(async () => {
  for (const d of drivers) await d.stop()
  for (const s of stores) await s.close().catch(() => undefined)
  if (root !== undefined) await rm(root, { recursive: true, force: true })
})

interface Validator { id: string, dir: string, secretKey: Uint8Array, store?: Store, chain?: Chain, pool?: TxPool, driver?: ConsensusDriver }

async function boot (v: Validator, net: MemoryNetwork, genesis: Genesis, crashAfterSigning?: (msgType: string) => boolean): Promise<void> {
  v.store = await Store.open(join(v.dir, 'data'))
  stores.push(v.store)
  v.chain = await Chain.open(v.store, genesis, verifySignature)
  const pool = v.pool = new TxPool(v.chain, new Mempool(), new Lock())
  const signState = await SignState.load(fileSignStore(join(v.dir, 'sign-state.json')), v.secretKey)
  v.driver = new ConsensusDriver({ publicKey: publicKeyOf(v.secretKey), signState, wal: fileWal(join(v.dir, 'consensus.wal')) }, TIMEOUTS, {
    chain: v.chain, pool, transport: net.transport(v.id), clock: systemClock, logger: silentLogger,
    beforeSend: (msg) => { if (crashAfterSigning?.(msg.type) === true) throw new CrashForTest() }
  })
  drivers.push(v.driver)
  await v.driver.start()
}

describe('four validators in one process', () => {
  it('let a staker join at the next epoch and sign commits, and leave again when it unstakes', async () => {
    const base = await rootDir()
    const vals: Validator[] = Array.from({ length: 4 }, (_, i) => ({ id: `e${i}`, dir: join(base, `e${i}`), secretKey: generateSecretKey() }))
    const joiner = vals[3]!
    const staker = Signer.fromSecretKey(joiner.secretKey)
    const genesis = parseGenesis({
      chainId: 'chorus-epochs', genesisTimeMs: Date.now(), params: { blockTimeMs: 50, epochBlocks: 4, unbondingBlocks: 2 },
      accounts: [{ address: staker.address(), balance: '1000000' }],
      validators: vals.slice(0, 3).map((v) => ({ address: encodeAddress(publicKeyOf(v.secretKey)), power: '10' }))
    })
    const net = new MemoryNetwork()
    for (const v of vals) await boot(v, net, genesis)
    await waitFor(() => vals.every((v) => v.chain!.head.height >= 1), 'height 1')
    const submitEverywhere = async (body: Parameters<typeof staker.sign>[0]['body']) => {
      const nonce = (await readAccount(joiner.store!, staker.publicKey)).nonce
      const tx = staker.sign({ chainId: genesis.chainId, nonce, body }).tx
      for (const v of vals) await v.pool!.submitDecoded(tx).catch(() => undefined)
      await waitFor(async () => (await readAccount(joiner.store!, staker.publicKey)).nonce > nonce, 'the tx to be included')
    }
    await submitEverywhere(stake(20n))
    const signedBy = async (v: Validator, h: number) => (await v.chain!.getCommit(h))!.signatures.some((s) => toHex(s.validator) === toHex(staker.publicKey))
    // the epoch after the stake: the joiner is a validator (20 of 50) and its precommits are in commits
    await waitFor(() => joiner.chain!.validators.powerOf(staker.publicKey) === 20n, 'the joiner in the set', 20_000)
    const joinedAt = joiner.chain!.head.height
    await waitFor(async () => joiner.chain!.head.height >= joinedAt + 3 && await signedBy(vals[0]!, joinedAt + 2), 'a commit signed by the joiner', 20_000)
    await submitEverywhere(unstake(20n))
    await waitFor(() => vals[0]!.chain!.validators.powerOf(staker.publicKey) === 0n, 'the joiner to leave', 20_000)
    const leftAt = vals[0]!.chain!.head.height
    await waitFor(() => vals[0]!.chain!.head.height >= leftAt + 2, 'blocks without it')
    expect(await signedBy(vals[0]!, leftAt + 2)).toBe(false)
    for (const v of vals) { await v.driver!.stop(); net.remove(v.id) }
  }, 60_000)

  it('survive a validator killed between signing and sending, with a torn WAL, and agree', async () => {
    const base = await rootDir()
    const vals: Validator[] = Array.from({ length: 4 }, (_, i) => ({ id: `v${i}`, dir: join(base, `v${i}`), secretKey: generateSecretKey() }))
    const genesis = parseGenesis({
      chainId: 'chorus-it', genesisTimeMs: Date.now(), params: { blockTimeMs: 50 },
      accounts: [],
      validators: vals.map((v) => ({ address: encodeAddress(publicKeyOf(v.secretKey)), power: '10' }))
    })
    const net = new MemoryNetwork(true)
    const victim = vals[3]!
    let armed = false
    for (const v of vals) await boot(v, net, genesis, v === victim ? (t) => armed && t === 'vote' && !(armed = false) : undefined)
    await waitFor(() => vals.every((v) => v.chain!.head.height >= 3), 'height 3 everywhere')

    // kill the victim right after its next signature is durable, before the vote leaves
    armed = true
    await waitFor(() => !armed, 'the victim to sign and die')
    await victim.driver!.stop()
    net.remove(victim.id)
    await victim.store!.close()
    // and tear its WAL's last write
    const walPath = join(victim.dir, 'consensus.wal')
    const wal = await readFile(walPath)
    if (wal.length > 20) await writeFile(walPath, wal.subarray(0, wal.length - 5))

    const before = Math.max(...vals.slice(0, 3).map((v) => v.chain!.head.height))
    await waitFor(() => vals.slice(0, 3).every((v) => v.chain!.head.height >= before + 3), 'the other three to go on without it')
    await boot(victim, net, genesis)
    const target = Math.max(...vals.map((v) => v.chain!.head.height)) + 3
    await waitFor(() => vals.every((v) => v.chain!.head.height >= target), 'all four, the victim included, past the others\' height', 30_000)

    // agreement, from disk
    const top = Math.min(...vals.map((v) => v.chain!.head.height))
    for (let h = 1; h <= top; h++) {
      const hashes = new Set<string>()
      for (const v of vals) hashes.add(toHex((await v.chain!.getBlock(h))!.header.stateRoot) + toHex((await v.chain!.getCommit(h))!.blockHash))
      expect(hashes.size, `height ${h}`).toBe(1)
    }
    // no conflicting signatures by anyone: one value per (validator, height, round, type)
    const seen = new Map<string, string>()
    for (const { msg } of net.sent) {
      if (msg.type !== 'vote') continue
      const v = msg.vote.vote
      const k = `${toHex(v.validator)}/${v.height}/${v.round}/${v.type}`
      const val = v.blockHash === null ? 'nil' : toHex(v.blockHash)
      expect(seen.get(k) ?? val, k).toBe(val)
      seen.set(k, val)
    }
  }, 60_000)
})
