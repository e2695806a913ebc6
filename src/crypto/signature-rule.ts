/**
 * Chorus-Ed25519-v1, the signature rule (DESIGN §5): strict, prime-order, cofactorless.
 *
 * A signature R‖S by key A over M is valid iff
 *   1. A is canonical (y < p; not x = 0 with the sign bit set),
 *   2. A is not small-order and [L]A = O,
 *   3. R is not one of the 8 small-order points (byte comparison),
 *   4. S < L,
 *   5. [S]B = R + [k]A exactly, k = SHA-512(R‖A‖M) mod L over the original bytes.
 * "Exactly" means R must also be a canonical encoding: OpenSSL compares the
 * canonical encoding of [S]B − [k]A with R's bytes, so a non-canonical R never
 * verifies there, and the reference below decodes R strictly to agree.
 *
 * This module is the reference implementation (noble's Point API, no `node:`
 * import): browsers, light clients and the differential test use it. The node's
 * fast path in verify.ts must give the same answer on every input.
 */
import { ED25519_TORSION_SUBGROUP, ed25519 } from '@noble/curves/ed25519.js'
import { hexToBytes } from '@noble/hashes/utils.js'
import { equalBytes } from './bytes.ts'
import { sha512 } from './hash.ts'

const Point = ed25519.Point
type Point = InstanceType<typeof Point>
/** The prime order of the base point. */
export const L = Point.Fn.ORDER

/** Canonical encodings of the 8 points of the torsion subgroup. */
export const SMALL_ORDER_ENCODINGS: readonly Uint8Array[] = ED25519_TORSION_SUBGROUP.map((h) => hexToBytes(h))

export function isSmallOrderEncoding (bytes: Uint8Array): boolean {
  return SMALL_ORDER_ENCODINGS.some((e) => equalBytes(e, bytes))
}

function bytesToNumberLE (b: Uint8Array): bigint {
  let n = 0n
  for (let i = b.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(b[i]!)
  return n
}

/** Strict decoding: null unless `bytes` is the canonical encoding of a curve point. */
function decodePoint (bytes: Uint8Array): Point | null {
  try {
    return Point.fromBytes(bytes, false)
  } catch {
    return null
  }
}

/**
 * Checks 1–2 on a public key: canonical, not small-order, in the prime-order
 * subgroup. Pure, so a caller may cache the answer per key.
 */
export function isValidPublicKey (publicKey: Uint8Array): boolean {
  if (publicKey.length !== 32) return false
  const A = decodePoint(publicKey)
  return A !== null && !A.isSmallOrder() && A.isTorsionFree()
}

/** The whole rule, with noble's Point arithmetic. */
export function verifyReference (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== 64 || publicKey.length !== 32) return false
  const A = decodePoint(publicKey)
  if (A === null || A.isSmallOrder() || !A.isTorsionFree()) return false
  const rBytes = signature.subarray(0, 32)
  if (isSmallOrderEncoding(rBytes)) return false
  const R = decodePoint(rBytes)
  if (R === null) return false
  const s = bytesToNumberLE(signature.subarray(32))
  if (s >= L) return false
  const k = bytesToNumberLE(sha512(rBytes, publicKey, message)) % L
  // BASE.multiply refuses 0; S = 0 is legal input and means [S]B = O.
  const SB = s === 0n ? Point.ZERO : Point.BASE.multiply(s)
  return R.add(A.multiplyUnsafe(k)).equals(SB)
}
