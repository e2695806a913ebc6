/** A real chain on a real LevelDB in a temp dir, with named signers and single-validator commits. */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { encodeVote } from '../../src/codec/block.ts'
import { Chain, type CheckedBlock } from '../../src/chain/chain.ts'
import { type Genesis, parseGenesis } from '../../src/chain/genesis.ts'
import { Mempool, type MempoolLimits } from '../../src/chain/mempool.ts'
import { TxPool } from '../../src/chain/tx-pool.ts'
import { Signer, type TxDraft } from '../../src/client/transactions.ts'
import { generateSecretKey, publicKeyOf, signDomain } from '../../src/crypto/keys.ts'
import { encodeAddress } from '../../src/crypto/address.ts'
import type { BatchVerifyFn } from '../../src/crypto/signature-batch.ts'
import { verifySignature } from '../../src/crypto/verify.ts'
import { ChorusError } from '../../src/protocol/errors.ts'
import type { Commit, SignedTx, TxBody } from '../../src/protocol/types.ts'
import { Store } from '../../src/state/store.ts'
import { readAccount } from '../../src/state/transition.ts'

export const CHAIN_ID = 'chorus-test'

export interface Fixture {
  chain: Chain
  store: Store
  pool: TxPool
  genesis: Genesis
  validator: ValidatorKey
  users: Signer[]
  dir: string
  /** Signs a tx for `signer` with its next nonce (pending counted). */
  tx: (signer: Signer, body: TxBody, over?: Partial<TxDraft>) => Promise<SignedTx>
  /** Builds, commits and returns the next block from the mempool (or from `txs`). */
  block: (txs?: SignedTx[]) => Promise<CheckedBlock>
  /** The typed code a submission fails with, or 'OK'. */
  submitCode: (tx: SignedTx | Uint8Array) => Promise<string>
  close: () => Promise<void>
}

export interface ValidatorKey { secretKey: Uint8Array, publicKey: Uint8Array }

export function validatorKey (): ValidatorKey {
  const secretKey = generateSecretKey()
  return { secretKey, publicKey: publicKeyOf(secretKey) }
}

/** The single validator's commit of `checked`. */
export function commitFor (checked: CheckedBlock, validator: ValidatorKey, round = 0): Commit {
  const h = checked.block.header
  const vote = { type: 'precommit' as const, chainId: h.chainId, height: h.height, round, blockHash: checked.hash, validator: validator.publicKey }
  return { height: h.height, round, blockHash: checked.hash, signatures: [{ validator: validator.publicKey, signature: signDomain('vote', encodeVote(vote), validator.secretKey) }] }
}

/** `verifyBatch`: the chain's tx signature batches (default: the rule, inline on this thread). */
export async function makeFixture (opts: { params?: Record<string, number | string>, users?: number, mempool?: MempoolLimits, verifyBatch?: BatchVerifyFn } = {}): Promise<Fixture> {
  const dir = await mkdtemp(join(tmpdir(), 'chorus-test-'))
  const validator = validatorKey()
  const users = Array.from({ length: opts.users ?? 3 }, () => Signer.generate())
  const genesis = parseGenesis({
    chainId: CHAIN_ID,
    genesisTimeMs: 1_700_000_000_000,
    params: opts.params ?? {},
    accounts: users.map((u) => ({ address: u.address(), balance: '1000000000' })),
    validators: [{ address: encodeAddress(validator.publicKey), power: '100' }]
  })
  const store = await Store.open(join(dir, 'db'))
  const chain = await Chain.open(store, genesis, verifySignature, opts.verifyBatch)
  const pool = new TxPool(chain, new Mempool(opts.mempool))
  let lastCommit: Commit | null = null
  const fx: Fixture = {
    chain, store, pool, genesis, validator, users, dir,
    async tx (signer, body, over = {}) {
      const nonce = await pool.nextNonce(signer.publicKey)
      return signer.sign({ chainId: CHAIN_ID, nonce, body, ...over }, genesis.params).tx
    },
    async block (txs) {
      const built = await chain.buildBlock(txs ?? pool.mempool.ordered(), validator.publicKey, chain.head.timeMs + 1000, lastCommit)
      const commit = commitFor(built, validator)
      await chain.commitBlock(built, commit)
      lastCommit = commit
      for (const r of built.execution.rejected) pool.mempool.dropWithSuccessors(r.tx)
      return built
    },
    async submitCode (tx) {
      try {
        if (tx instanceof Uint8Array) await pool.submit(tx)
        else await pool.submitDecoded(tx)
        return 'OK'
      } catch (e) {
        if (e instanceof ChorusError) return e.code
        throw e
      }
    },
    async close () {
      await store.close()
      await rm(dir, { recursive: true, force: true })
    }
  }
  return fx
}

export { readAccount }
