/**
 * The node's signature check: Chorus-Ed25519-v1 (see signature-rule.ts) at
 * OpenSSL speed. Checks 1–2 run once per key and are cached with the key's
 * KeyObject; check 3 is a byte comparison; OpenSSL's `crypto.verify` enforces
 * 4 and 5 (S < L, and the cofactorless equation against R's exact bytes).
 * Not for browsers: the client SDK uses verifyReference and noble's signing.
 */
import { type KeyObject, createPrivateKey, createPublicKey, sign as opensslSign, verify as opensslVerify } from 'node:crypto'
import { concatBytes } from './bytes.ts'
import { isSmallOrderEncoding, isValidPublicKey } from './signature-rule.ts'

const SPKI_ED25519_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00])
const CACHE_LIMIT = 16_384

/** Valid keys map to their KeyObject; rejected keys map to null. Insertion order is LRU order. */
const keyCache = new Map<string, KeyObject | null>()

function checkedKey (publicKey: Uint8Array): KeyObject | null {
  const id = Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.length).toString('latin1')
  const hit = keyCache.get(id)
  if (hit !== undefined) {
    keyCache.delete(id)
    keyCache.set(id, hit)
    return hit
  }
  const key = isValidPublicKey(publicKey)
    ? createPublicKey({ key: Buffer.from(concatBytes(SPKI_ED25519_PREFIX, publicKey)), format: 'der', type: 'spki' })
    : null
  keyCache.set(id, key)
  if (keyCache.size > CACHE_LIMIT) keyCache.delete(keyCache.keys().next().value!)
  return key
}

/** True iff `signature` is valid for `message` under `publicKey` by Chorus-Ed25519-v1. No domain tag is added. */
export function verifySignature (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false
  const key = checkedKey(publicKey)
  if (key === null) return false
  if (isSmallOrderEncoding(signature.subarray(0, 32))) return false
  return opensslVerify(null, message, key, signature)
}

const PKCS8_ED25519_PREFIX = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20])

/**
 * A signing function over OpenSSL for a node's own key (validator votes and
 * proposals): Ed25519 is deterministic, so it signs exactly as noble would,
 * at a small fraction of the cost.
 */
export function opensslSigner (secretKey: Uint8Array): (message: Uint8Array) => Uint8Array {
  const key = createPrivateKey({ key: Buffer.from(concatBytes(PKCS8_ED25519_PREFIX, secretKey)), format: 'der', type: 'pkcs8' })
  return (message) => new Uint8Array(opensslSign(null, message, key))
}
