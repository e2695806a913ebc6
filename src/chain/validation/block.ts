/**
 * Gossip validation of a committed block (the block topic, DESIGN §8): the next
 * block after the head, with a commit of more than 2/3 of the set that decides
 * it. Executing the block (and so its txs) is the importer's job once its txs
 * are filled in; this is the cheap check that says whether to bother.
 */
import { blockHash } from '../../codec/block.ts'
import type { CompactBlock } from '../../codec/gossip.ts'
import { equalBytes } from '../../crypto/bytes.ts'
import { verifyCommit } from '../../protocol/commit.ts'
import { ErrorCode } from '../../protocol/errors.ts'
import type { Commit } from '../../protocol/types.ts'
import type { ValidatorSet } from '../../protocol/validator-set.ts'
import type { Chain } from '../chain.ts'
import { ignore, reject } from './gossip-error.ts'

/**
 * Accepts or throws a GossipError. Returns 'import' for the next block, 'head' for the
 * block this node committed last (accepted, so it is forwarded on to nodes that lack it:
 * validators have usually committed a block before its proposer publishes it).
 */
export function validateCommittedBlock (block: CompactBlock, commit: Commit, chain: Chain): 'import' | 'head' {
  const h = block.header
  if (h.chainId !== chain.chainId) reject(ErrorCode.WRONG_CHAIN, `for chain ${h.chainId}`)
  if (h.height === chain.head.height && h.height > 0 && equalBytes(blockHash(h), chain.head.hash)) {
    checkCommit(block, commit, chain.lastValidators, chain)
    return 'head'
  }
  if (h.height <= chain.head.height) ignore(ErrorCode.STALE, `height ${h.height} is committed`)
  if (h.height > chain.head.height + 1) ignore(ErrorCode.FUTURE, `height ${h.height} is ahead of ${chain.head.height + 1}`)
  checkCommit(block, commit, chain.validators, chain)
  return 'import'
}

function checkCommit (block: CompactBlock, commit: Commit, set: ValidatorSet, chain: Chain): void {
  const h = block.header
  if (commit.height !== h.height || !equalBytes(commit.blockHash, blockHash(h))) reject(ErrorCode.BAD_BLOCK, 'the commit is for another block')
  if (block.txIds.length > chain.rules.params.maxBlockTxs) reject(ErrorCode.BAD_BLOCK, 'too many txs')
  try {
    verifyCommit(commit, set, chain.chainId, chain.verify)
  } catch (e) {
    reject(ErrorCode.BAD_BLOCK, (e as Error).message)
  }
}
