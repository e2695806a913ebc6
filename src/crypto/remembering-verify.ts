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

/** The remembering VerifyFn, and a way to tell it of a signature known good without a check. */
export interface RememberingVerify extends VerifyFn {
  /**
   * Remembers a signature this node just made with its own key (its vote, which comes back to
   * it in the next block's commit): one of its own, never a peer's, is good by construction.
   */
  signedHere: (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array) => void
}

export function rememberingVerify (verify: VerifyFn, capacity = REMEMBERED_SIGNATURES): RememberingVerify {
  const passed = new BoundedSet(capacity)
  // fixed widths before the message make the key unambiguous; anything else is the rule's to refuse
  const keyOf = (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): string | null =>
    publicKey.length === 32 && signature.length === 64 ? binaryKey(concatBytes(publicKey, signature, message)) : null
  const remembering: VerifyFn = (publicKey, message, signature) => {
    const key = keyOf(publicKey, message, signature)
    if (key === null) return verify(publicKey, message, signature)
    if (passed.has(key)) return true
    const ok = verify(publicKey, message, signature)
    if (ok) passed.add(key)
    return ok
  }
  return Object.assign(remembering, {
    signedHere: (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array) => {
      const key = keyOf(publicKey, message, signature)
      if (key !== null) passed.add(key)
    }
  })
}
