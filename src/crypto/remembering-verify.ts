/**
 * A VerifyFn that remembers the checks that passed, so one signature is verified once: a
 * vote verified as gossip is not verified again in the commit that carries it (the next
 * block's lastCommit, a synced block's commit). Only successes are kept, under a key of the
 * 32-byte public key, the 64-byte signature and the message, so a remembered answer is for the same check.
 * Bounded: the oldest are forgotten first.
 */
import type { VerifyFn } from '../protocol/validate.ts'
import { BoundedSet } from '../util/bounded-set.ts'
import { binaryKey, concatBytes } from './bytes.ts'

/** Enough for several heights of votes from a large validator set. */
export const REMEMBERED_SIGNATURES = 16_384

export function rememberingVerify (verify: VerifyFn, capacity = REMEMBERED_SIGNATURES): VerifyFn {
  const passed = new BoundedSet(capacity)
  return (publicKey, message, signature) => {
    // fixed widths before the message make the key unambiguous; anything else is the rule's to refuse
    if (publicKey.length !== 32 || signature.length !== 64) return verify(publicKey, message, signature)
    const key = binaryKey(concatBytes(publicKey, signature, message))
    if (passed.has(key)) return true
    const ok = verify(publicKey, message, signature)
    if (ok) passed.add(key)
    return ok
  }
}
