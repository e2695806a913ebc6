/**
 * Block execution throughput on a real LevelDB: txs/s through the mempool
 * admission path and through build + commit of full blocks, in the same run.
 *   npx tsx scripts/bench/blocks.ts [txs]
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { encodeVote } from '../../src/codec/block.ts'
import { Chain } from '../../src/chain/chain.ts'
import { parseGenesis } from '../../src/chain/genesis.ts'
import { Mempool } from '../../src/chain/mempool.ts'
import { TxPool } from '../../src/chain/tx-pool.ts'
import * as b from '../../src/client/transactions.ts'
import { encodeAddress } from '../../src/crypto/address.ts'
import { generateSecretKey, publicKeyOf, signDomain } from '../../src/crypto/keys.ts'
import { verifySignature } from '../../src/crypto/verify.ts'
import type { Commit } from '../../src/protocol/types.ts'
import { Store } from '../../src/state/store.ts'

const total = Number(process.argv[2] ?? 5000)
const dir = await mkdtemp(join(tmpdir(), 'chorus-bench-'))
const vSecret = generateSecretKey()
const vKey = publicKeyOf(vSecret)
const users = Array.from({ length: 200 }, () => b.Signer.generate())
const genesis = parseGenesis({
  chainId: 'bench', genesisTimeMs: 1,
  accounts: users.map((u) => ({ address: u.address(), balance: '1000000000000' })),
  validators: [{ address: encodeAddress(vKey), power: '1' }]
})
const store = await Store.open(join(dir, 'db'))
const chain = await Chain.open(store, genesis, verifySignature)
const pool = new TxPool(chain, new Mempool({ maxTxs: total * 2, maxBytes: 1 << 30, maxPerSender: total }))

const nonces = users.map(() => 0)
const txs = Array.from({ length: total }, (_, i) => {
  const u = i % users.length
  const body = i % 3 === 0 ? b.post(`benchmark post ${i} with a little text in it`) : i % 3 === 1 ? b.transfer(users[(u + 1) % users.length]!.publicKey, 10n) : b.follow(users[(u + 1 + (nonces[u]! % 150)) % users.length]!.publicKey)
  return users[u]!.sign({ chainId: 'bench', nonce: nonces[u]!++, body }).tx
})

let t0 = performance.now()
for (const tx of txs) await pool.submitDecoded(tx)
const admit = total / ((performance.now() - t0) / 1000)

t0 = performance.now()
let lastCommit: Commit | null = null
let blocks = 0
while (pool.mempool.size > 0) {
  const built = await chain.buildBlock(pool.mempool.ordered(), vKey, chain.head.timeMs + 1000, lastCommit)
  const vote = { type: 'precommit' as const, chainId: 'bench', height: built.block.header.height, round: 0, blockHash: built.hash, validator: vKey }
  lastCommit = { height: vote.height, round: 0, blockHash: built.hash, signatures: [{ validator: vKey, signature: signDomain('vote', encodeVote(vote), vSecret) }] }
  await chain.commitBlock(built, lastCommit)
  if (built.execution.txs.length === 0) throw new Error('no progress')
  blocks++
}
const exec = total / ((performance.now() - t0) / 1000)

// a follower re-checks the same blocks (signatures verified again, roots compared)
const store2 = await Store.open(join(dir, 'db2'))
const follower = await Chain.open(store2, genesis, verifySignature)
t0 = performance.now()
for (let h = 1; h <= chain.head.height; h++) await follower.commitBlock(await follower.checkBlock((await chain.getBlock(h))!), (await chain.getCommit(h))!)
const check = total / ((performance.now() - t0) / 1000)

console.log(`txs: ${total} in ${blocks} blocks`)
console.log(`mempool admission (decode, verify, dry run)  ${admit.toFixed(0).padStart(7)} tx/s`)
console.log(`build + commit (proposer)                     ${exec.toFixed(0).padStart(7)} tx/s`)
console.log(`check + commit (follower)                     ${check.toFixed(0).padStart(7)} tx/s`)
console.log(`follower / proposer: ${(check / exec).toFixed(2)}x`)
await store.close(); await store2.close()
await rm(dir, { recursive: true, force: true })
