/**
 * Gossip validation of a tx batch (DESIGN §8): each tx goes through the same
 * admission as `tx_submit` (stateless rules, then a dry run against the head).
 * A tx that is invalid in itself (bad signature, wrong chain, fee too low,
 * malformed) makes the batch REJECT: its sender is at fault. A tx that only
 * does not fit the state now (a nonce already used, a taken username, a full
 * mempool) is skipped; a batch with nothing new is IGNOREd.
 */
import { ChorusError, ErrorCode, type ErrorCode as Code } from '../../protocol/errors.ts'
import type { SignedTx } from '../../protocol/types.ts'
import type { TxPool } from '../tx-pool.ts'
import { ignore, reject } from './gossip-error.ts'

/** Codes that say the tx itself is invalid, whatever the state. */
const INVALID_IN_ITSELF = new Set<Code>([
  ErrorCode.BAD_SIGNATURE, ErrorCode.WRONG_CHAIN, ErrorCode.FEE_TOO_LOW, ErrorCode.MALFORMED, ErrorCode.NON_CANONICAL,
  ErrorCode.UNKNOWN_VERSION, ErrorCode.UNKNOWN_KIND, ErrorCode.TOO_LARGE, ErrorCode.INVALID_FIELD, ErrorCode.INVALID_USERNAME, ErrorCode.INVALID_AMOUNT
])

/** Admits what it can (all of the batch together: one signature batch, one turn of the lock); returns the txs admitted, or throws a GossipError. */
export async function admitTxBatch (txs: readonly SignedTx[], pool: TxPool): Promise<SignedTx[]> {
  const results = await pool.submitMany(txs, 'gossip')
  for (const [i, r] of results.entries()) {
    if (!(r instanceof Error)) continue
    if (!(r instanceof ChorusError)) throw r
    if (INVALID_IN_ITSELF.has(r.code)) reject(r.code, `tx ${i}: ${r.detail}`)
  }
  const admitted = results.filter((r): r is SignedTx => !(r instanceof Error))
  if (admitted.length === 0) ignore(ErrorCode.ALREADY_KNOWN, 'nothing new in the batch')
  return admitted
}
