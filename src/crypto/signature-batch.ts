/**
 * Signature checks in batches: what to check, and the packed form a batch
 * crosses to a worker thread in (one buffer, transferred, not copied):
 *   count(u32) then per check: messageLength(u32) ‖ publicKey(32) ‖ signature(64) ‖ message
 * The rule itself is the caller's VerifyFn (the node's is verify.ts); a batch
 * answers exactly what that function answers for each check, in order.
 */
import type { VerifyFn } from '../protocol/validate.ts'

export interface SignatureCheck {
  publicKey: Uint8Array
  /** The signed bytes, domain tag included (hash.ts signingBytes). */
  message: Uint8Array
  signature: Uint8Array
}

/** Verifies every check; resolves with one answer per check, in order. */
export type BatchVerifyFn = (checks: readonly SignatureCheck[]) => Promise<boolean[]>

/** A batch verifier that runs `verify` on this thread (tests, the simulator, tiny batches). */
export function inlineBatchVerify (verify: VerifyFn): BatchVerifyFn {
  return async (checks) => checks.map((c) => verify(c.publicKey, c.message, c.signature))
}

const KEY = 32
const SIG = 64

/** A check whose key or signature has the wrong length cannot verify: it crosses with no message, marked. */
const MALFORMED = 0xffffffff
const wellFormed = (c: SignatureCheck): boolean => c.publicKey.length === KEY && c.signature.length === SIG

export function packChecks (checks: readonly SignatureCheck[]): Uint8Array {
  let size = 4
  for (const c of checks) size += 4 + KEY + SIG + (wellFormed(c) ? c.message.length : 0)
  const out = new Uint8Array(size)
  const view = new DataView(out.buffer)
  view.setUint32(0, checks.length)
  let at = 4
  for (const c of checks) {
    if (!wellFormed(c)) {
      view.setUint32(at, MALFORMED)
      at += 4 + KEY + SIG
      continue
    }
    view.setUint32(at, c.message.length)
    out.set(c.publicKey, at + 4)
    out.set(c.signature, at + 4 + KEY)
    out.set(c.message, at + 4 + KEY + SIG)
    at += 4 + KEY + SIG + c.message.length
  }
  return out
}

/** Runs `verify` over a packed batch: one byte per check, 1 for valid. */
export function verifyPacked (packed: Uint8Array, verify: VerifyFn): Uint8Array {
  const view = new DataView(packed.buffer, packed.byteOffset, packed.byteLength)
  const count = view.getUint32(0)
  const results = new Uint8Array(count)
  let at = 4
  for (let i = 0; i < count; i++) {
    const length = view.getUint32(at)
    if (length === MALFORMED) {
      at += 4 + KEY + SIG
      continue // results[i] stays 0
    }
    const key = packed.subarray(at + 4, at + 4 + KEY)
    const sig = packed.subarray(at + 4 + KEY, at + 4 + KEY + SIG)
    const message = packed.subarray(at + 4 + KEY + SIG, at + 4 + KEY + SIG + length)
    results[i] = verify(key, message, sig) ? 1 : 0
    at += 4 + KEY + SIG + length
  }
  return results
}
