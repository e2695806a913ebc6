/**
 * The node's signature check: Chorus-Ed25519-v1 (see signature-rule.ts) at
 * OpenSSL speed. Checks 1–2 run once per key and are cached with the key's
 * KeyObject, and a valid key is remembered longer than its KeyObject (CheckedKeys);
 * check 3 is a byte comparison; OpenSSL's `crypto.verify` enforces
 * 4 and 5 (S < L, and the cofactorless equation against R's exact bytes).
 * Not for browsers: the client SDK uses verifyReference and noble's signing.
 */
import { type KeyObject, createPrivateKey, createPublicKey, sign as opensslSign, verify as opensslVerify } from 'node:crypto'
import { binaryKey, concatBytes } from './bytes.ts'
import { BoundedMap } from '../util/bounded-map.ts'
import { BoundedSet } from '../util/bounded-set.ts'
import { isSmallOrderEncoding, isValidPublicKey } from './signature-rule.ts'

const SPKI_ED25519_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00])
/** KeyObjects kept (valid keys) and refusals (invalid ones): a few hundred bytes of native key each. */
const KEY_OBJECTS = 16_384
/** Keys that passed checks 1–2, remembered beyond their KeyObjects: ~100 bytes of heap each. */
const VALID_KEYS = 131_072

/**
 * Checks 1–2 on public keys, once per key. Check 2 (the subgroup check, a scalar multiplication
 * in JS) costs ~650 µs, ten signature verifications' worth; making a KeyObject costs ~25 µs. So
 * a key whose KeyObject was dropped (more signers than KEY_OBJECTS) but which is remembered as
 * valid gets a new KeyObject without the check. Invalid keys are only ever in the first map.
 */
export class CheckedKeys {
  /** Valid keys map to their KeyObject; rejected keys map to null; least recently used dropped first. */
  private readonly keyObjects: BoundedMap<string, KeyObject | null>
  private readonly valid: BoundedSet
  /** Subgroup checks run (for tests and benchmarks). */
  subgroupChecks = 0

  // no parameter properties: a verify worker loads this file with Node's type stripping, which has none
  constructor (maxKeyObjects = KEY_OBJECTS, maxValid = VALID_KEYS) {
    this.keyObjects = new BoundedMap(maxKeyObjects)
    this.valid = new BoundedSet(maxValid)
  }

  /** The key's KeyObject if it passes checks 1–2, else null. */
  get (publicKey: Uint8Array): KeyObject | null {
    const id = binaryKey(publicKey)
    const hit = this.keyObjects.use(id)
    if (hit !== undefined) return hit
    let ok = this.valid.has(id)
    if (!ok) {
      this.subgroupChecks++
      ok = isValidPublicKey(publicKey)
      if (ok) this.valid.add(id)
    }
    const key = ok ? createPublicKey({ key: Buffer.from(concatBytes(SPKI_ED25519_PREFIX, publicKey)), format: 'der', type: 'spki' }) : null
    this.keyObjects.set(id, key)
    return key
  }
}

/** This thread's keys (each verify worker has its own). */
const checkedKeys = new CheckedKeys()

/** As verifySignature, with the keys of `keys`: for tests and benchmarks of the key caches. */
export function verifyWith (keys: CheckedKeys, publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false
  const key = keys.get(publicKey)
  if (key === null) return false
  if (isSmallOrderEncoding(signature.subarray(0, 32))) return false
  return opensslVerify(null, message, key, signature)
}

/** True iff `signature` is valid for `message` under `publicKey` by Chorus-Ed25519-v1. No domain tag is added. */
export function verifySignature (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  return verifyWith(checkedKeys, publicKey, message, signature)
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
