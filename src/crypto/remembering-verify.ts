/**
 * Signatures that passed, remembered, so one signature is verified once: a vote verified as
 * gossip is not verified again in the commit that carries it (the next block's lastCommit, a
 * synced block's commit). The one owner of that memory, with two ways in that share it: a
 * VerifyFn on this thread (commits, evidence, gossip with no verify pool) and a BatchVerifyFn
 * through a batch verifier (gossip's votes and proposals, off the main thread with a pool).
 * Only successes are kept, under a key of the 32-byte public key, the 64-byte signature and
 * the message, so a remembered answer is for the same check. Bounded: the oldest are forgotten first.
 */
import type { VerifyFn } from '../protocol/validate.ts'
import { BoundedSet } from '../util/bounded-set.ts'
import { binaryKey, concatBytes } from './bytes.ts'
import { type BatchVerifyFn, type SignatureCheck, inlineBatchVerify } from './signature-batch.ts'

/** Enough for several heights of votes from a large validator set. */
export const REMEMBERED_SIGNATURES = 16_384

export interface RememberingVerifier {
  /** One check, on this thread. */
  readonly verify: VerifyFn
  /** Checks through the batch verifier; those remembered are answered here and not sent. */
  readonly verifyBatch: BatchVerifyFn
}

/** `batch` answers what `verify` answers (signature-batch.ts), wherever it runs: the two share one memory. */
export function rememberingVerifier (verify: VerifyFn, batch: BatchVerifyFn = inlineBatchVerify(verify), capacity = REMEMBERED_SIGNATURES): RememberingVerifier {
  const passed = new BoundedSet(capacity)
  // fixed widths before the message make the key unambiguous; anything else is the rule's to refuse, and not kept
  const keyOf = (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): string | null =>
    publicKey.length === 32 && signature.length === 64 ? binaryKey(concatBytes(publicKey, signature, message)) : null
  return {
    verify: (publicKey, message, signature) => {
      const key = keyOf(publicKey, message, signature)
      if (key !== null && passed.has(key)) return true
      const ok = verify(publicKey, message, signature)
      if (ok && key !== null) passed.add(key)
      return ok
    },
    verifyBatch: async (checks) => {
      const keys = checks.map((c) => keyOf(c.publicKey, c.message, c.signature))
      const answers = keys.map((k) => k !== null && passed.has(k))
      const todo: SignatureCheck[] = []
      for (const [i, c] of checks.entries()) if (!answers[i]) todo.push(c)
      if (todo.length === 0) return answers
      const got = await batch(todo)
      let k = 0
      for (const [i, key] of keys.entries()) {
        if (answers[i]) continue
        const ok = got[k++]!
        answers[i] = ok
        if (ok && key !== null) passed.add(key)
      }
      return answers
    }
  }
}

/** The VerifyFn alone. */
export function rememberingVerify (verify: VerifyFn, capacity = REMEMBERED_SIGNATURES): VerifyFn {
  return rememberingVerifier(verify, undefined, capacity).verify
}
