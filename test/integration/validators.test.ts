/**
 * Four in-process validators over an in-memory transport (the real network code
 * over a memory hub, built by the node's composition root), each with its own
 * real LevelDB, file WAL and file sign state. One is killed right after it
 * durably signed and before the message left; its WAL gets a torn tail; it
 * restarts from disk, never signs anything conflicting, and rejoins.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { type Genesis, parseGenesis } from '../../src/chain/genesis.ts'
import { decodeConsensusGossip, type ConsensusGossip } from '../../src/codec/gossip.ts'
import { CrashForTest } from '../../src/consensus/driver.ts'
import { encodeAddress } from '../../src/crypto/address.ts'
import { toHex } from '../../src/crypto/bytes.ts'
import { generateSecretKey, publicKeyOf } from '../../src/crypto/keys.ts'
import { silentLogger } from '../../src/logger.ts'
import { ChorusNode } from '../../src/node.ts'
import { IMMEDIATE_LINK, MemoryHub } from '../../src/p2p/memory-transport.ts'
import { readAccount } from '../../src/state/transition.ts'
import { Signer, stake, unstake } from '../../src/client/transactions.ts'
import { waitFor } from '../support/wait.ts'

const TIMEOUTS = { propose: 400, prevote: 200, precommit: 200, delta: 100, gossip: 200 }
let root: string | undefined
const rootDir = async (): Promise<string> => (root ??= await mkdtemp(join(tmpdir(), 'chorus-validators-')))
const running = new Set<ChorusNode>()

afterAll(async () => {
  for (const n of running) await n.stop()
  if (root !== undefined) await rm(root, { recursive: true, force: true })
})

interface Validator { id: string, dir: string, secretKey: Uint8Array, node?: ChorusNode }

async function boot (v: Validator, hub: MemoryHub, genesis: Genesis, crashAfterSigning?: (msgType: string) => boolean): Promise<void> {
  v.node = await ChorusNode.start({
    dataDir: join(v.dir, 'data'), genesis, rpc: null, p2p: null, timeouts: TIMEOUTS,
    validator: { secretKey: v.secretKey, signStatePath: join(v.dir, 'sign-state.json'), walPath: join(v.dir, 'consensus.wal') }
  }, {
    logger: silentLogger, transport: hub.transport(v.id),
    beforeSend: (msg) => { if (crashAfterSigning?.(msg.type) === true) throw new CrashForTest() }
  })
  running.add(v.node)
}

async function stop (v: Validator): Promise<void> {
  await v.node!.stop()
  running.delete(v.node!)
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
    const hub = new MemoryHub()
    for (const v of vals) await boot(v, hub, genesis)
    await waitFor(() => vals.every((v) => v.node!.chain.head.height >= 1), 'height 1')
    const submitEverywhere = async (body: Parameters<typeof staker.sign>[0]['body']) => {
      const nonce = (await readAccount(joiner.node!.store, staker.publicKey)).nonce
      const tx = staker.sign({ chainId: genesis.chainId, nonce, body }).tx
      // submitted to one validator: gossip takes it to the others
      await vals[1]!.node!.pool.submitDecoded(tx)
      await waitFor(async () => (await readAccount(joiner.node!.store, staker.publicKey)).nonce > nonce, 'the tx to be included')
    }
    await submitEverywhere(stake(20n))
    const signedBy = async (v: Validator, h: number) => (await v.node!.chain.getCommit(h))!.signatures.some((s) => toHex(s.validator) === toHex(staker.publicKey))
    // the epoch after the stake: the joiner is a validator (20 of 50) and its precommits are in commits
    await waitFor(() => joiner.node!.chain.validators.powerOf(staker.publicKey) === 20n, 'the joiner in the set', 20_000)
    const joinedAt = joiner.node!.chain.head.height
    await waitFor(async () => joiner.node!.chain.head.height >= joinedAt + 3 && await signedBy(vals[0]!, joinedAt + 2), 'a commit signed by the joiner', 20_000)
    await submitEverywhere(unstake(20n))
    await waitFor(() => vals[0]!.node!.chain.validators.powerOf(staker.publicKey) === 0n, 'the joiner to leave', 20_000)
    const leftAt = vals[0]!.node!.chain.head.height
    await waitFor(() => vals[0]!.node!.chain.head.height >= leftAt + 2, 'blocks without it')
    expect(await signedBy(vals[0]!, leftAt + 2)).toBe(false)
    for (const v of vals) await stop(v)
  }, 60_000)

  it('survive a validator killed between signing and sending, with a torn WAL, and agree', async () => {
    const base = await rootDir()
    const vals: Validator[] = Array.from({ length: 4 }, (_, i) => ({ id: `v${i}`, dir: join(base, `v${i}`), secretKey: generateSecretKey() }))
    const genesis = parseGenesis({
      chainId: 'chorus-it', genesisTimeMs: Date.now(), params: { blockTimeMs: 50 },
      accounts: [],
      validators: vals.map((v) => ({ address: encodeAddress(publicKeyOf(v.secretKey)), power: '10' }))
    })
    const sent: ConsensusGossip[] = []
    const hub = new MemoryHub({ ...IMMEDIATE_LINK, published: (_from, topic, data) => { if (topic === 'consensus') sent.push(decodeConsensusGossip(data)) } })
    const victim = vals[3]!
    let armed = false
    for (const v of vals) await boot(v, hub, genesis, v === victim ? (t) => armed && t === 'vote' && !(armed = false) : undefined)
    await waitFor(() => vals.every((v) => v.node!.chain.head.height >= 3), 'height 3 everywhere')

    // kill the victim right after its next signature is durable, before the vote leaves
    armed = true
    await waitFor(() => !armed, 'the victim to sign and die')
    await stop(victim)
    // and tear its WAL's last write
    const walPath = join(victim.dir, 'consensus.wal')
    const wal = await readFile(walPath)
    if (wal.length > 20) await writeFile(walPath, wal.subarray(0, wal.length - 5))

    const before = Math.max(...vals.slice(0, 3).map((v) => v.node!.chain.head.height))
    await waitFor(() => vals.slice(0, 3).every((v) => v.node!.chain.head.height >= before + 3), 'the other three to go on without it')
    await boot(victim, hub, genesis)
    const target = Math.max(...vals.map((v) => v.node!.chain.head.height)) + 3
    await waitFor(() => vals.every((v) => v.node!.chain.head.height >= target), 'all four, the victim included, past the others\' height', 30_000)

    // agreement, from disk
    const top = Math.min(...vals.map((v) => v.node!.chain.head.height))
    for (let h = 1; h <= top; h++) {
      const hashes = new Set<string>()
      for (const v of vals) hashes.add(toHex((await v.node!.chain.getBlock(h))!.header.stateRoot) + toHex((await v.node!.chain.getCommit(h))!.blockHash))
      expect(hashes.size, `height ${h}`).toBe(1)
    }
    // no conflicting signatures by anyone: one value per (validator, height, round, type)
    const seen = new Map<string, string>()
    for (const msg of sent) {
      if (msg.type !== 'vote') continue
      const v = msg.vote.vote
      const k = `${toHex(v.validator)}/${v.height}/${v.round}/${v.type}`
      const val = v.blockHash === null ? 'nil' : toHex(v.blockHash)
      expect(seen.get(k) ?? val, k).toBe(val)
      seen.set(k, val)
    }
  }, 60_000)
})
