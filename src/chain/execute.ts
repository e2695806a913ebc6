/**
 * Executing a block's transactions against the state: the same code builds a
 * proposal (skipping txs that fail) and checks one (any failure rejects the block).
 */
import { u64be } from '../crypto/bytes.ts'
import { ChorusError, ErrorCode, fail } from '../protocol/errors.ts'
import { type ChainRules, checkTxRules, failSignature } from '../protocol/validate.ts'
import type { Hash, PublicKey, SignedTx } from '../protocol/types.ts'
import { Bucket } from '../state/buckets.ts'
import { decodeAmount } from '../state/records.ts'
import { nextStateRoot } from '../state/root.ts'
import { type RangeOptions, prefixRange } from '../state/store.ts'
import { releaseUnbonding, applyTx } from '../state/transition.ts'
import { type StateReader, StateView, type Write } from '../state/view.ts'

/** What execution reads: point lookups and (for unbonding) one range. */
export interface StateSource extends StateReader {
  range (bucket: Bucket, opts: RangeOptions): Promise<Array<[Uint8Array, Uint8Array]>>
}

export interface BlockEnv {
  height: number
  timeMs: number
  proposer: PublicKey
  prevStateRoot: Hash
}

export interface Execution {
  txs: SignedTx[]
  writes: Write[]
  /** The state after the block: the source with `writes` over it (point reads only), while nothing else has written the source. */
  after: StateReader
  stateRoot: Hash
  /** Txs left out while building, each with why. */
  rejected: Array<{ tx: SignedTx, error: ChorusError }>
}

export interface ExecuteOptions {
  rules: ChainRules
  /**
   * Whether a candidate's signature verifies. The caller verifies before executing (in one
   * batch, off the main thread), or knows (a candidate from the mempool was verified on admission).
   */
  signatureValid: (tx: SignedTx) => boolean
  /** Building: drop failing txs and stop at the limits. Checking: any failure is a bad block. */
  mode: 'build' | 'check'
  /** Byte budget for the txs (build mode). */
  maxTxBytes?: number
}


export async function executeBlock (source: StateSource, env: BlockEnv, candidates: Iterable<SignedTx>, opts: ExecuteOptions): Promise<Execution> {
  const view = new StateView(source)
  const txs: SignedTx[] = []
  const rejected: Execution['rejected'] = []
  const { params } = opts.rules
  let bytes = 0
  for (const tx of candidates) {
    if (opts.mode === 'build') {
      if (txs.length >= params.maxBlockTxs) break
      if (bytes + tx.bytes.length > (opts.maxTxBytes ?? params.maxBlockBytes)) continue
    }
    const child = view.child()
    try {
      checkTxRules(tx, opts.rules)
      if (!opts.signatureValid(tx)) failSignature()
      const applied = applyTx(child, tx, { height: env.height, timeMs: env.timeMs, index: txs.length, proposer: env.proposer, params })
      if (applied !== undefined) await applied // a read that had to wait (only for a store without synchronous reads)
    } catch (e) {
      if (!(e instanceof ChorusError)) throw e
      if (opts.mode === 'check') fail(ErrorCode.BAD_BLOCK, `tx ${txs.length} fails: ${e.code}`, { fault: 'badTx', txCode: e.code })
      rejected.push({ tx, error: e })
      continue
    }
    view.merge(child)
    txs.push(tx)
    bytes += tx.bytes.length
  }
  const matured = await source.range(Bucket.unbonding, prefixRange(u64be(env.height)))
  await releaseUnbonding(view, env.height, matured.map(([k, v]) => ({ address: k.subarray(8), amount: decodeAmount(v) })))
  const writes = view.sortedWrites()
  return { txs, writes, after: view, stateRoot: nextStateRoot(env.prevStateRoot, writes), rejected }
}

