/** Verifying that a commit finalises a block: precommits of more than 2/3 of the stake. */
import { encodeVote } from '../codec/block.ts'
import { toHex } from '../crypto/bytes.ts'
import { signingBytes } from '../crypto/hash.ts'
import { ErrorCode, fail } from './errors.ts'
import type { Commit, Vote } from './types.ts'
import type { VerifyFn } from './validate.ts'
import type { ValidatorSet } from './validator-set.ts'

/** The precommit a commit signature signed. */
export function precommitOf (commit: Commit, chainId: string, validator: Uint8Array): Vote {
  return { type: 'precommit', chainId, height: commit.height, round: commit.round, blockHash: commit.blockHash, validator }
}

/** True iff `power` is more than 2/3 of `total`. */
export const isQuorum = (power: bigint, total: bigint): boolean => power * 3n > total * 2n

/** Throws BAD_BLOCK unless `commit` carries valid precommits of more than 2/3 of `set`'s power. */
export function verifyCommit (commit: Commit, set: ValidatorSet, chainId: string, verify: VerifyFn): void {
  const seen = new Set<string>()
  let power = 0n
  for (const { validator, signature } of commit.signatures) {
    const id = toHex(validator)
    if (seen.has(id)) fail(ErrorCode.BAD_BLOCK, 'commit signs twice for one validator', { fault: 'lastCommit' })
    seen.add(id)
    const p = set.powerOf(validator)
    if (p === 0n) fail(ErrorCode.BAD_BLOCK, 'commit signature from a non-validator', { fault: 'lastCommit' })
    const bytes = signingBytes('vote', encodeVote(precommitOf(commit, chainId, validator)))
    if (!verify(validator, bytes, signature)) fail(ErrorCode.BAD_BLOCK, 'commit signature does not verify', { fault: 'lastCommit' })
    power += p
  }
  if (!isQuorum(power, set.totalPower)) fail(ErrorCode.BAD_BLOCK, 'commit lacks more than 2/3 of the stake', { fault: 'lastCommit' })
}
