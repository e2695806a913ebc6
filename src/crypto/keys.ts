/** Ed25519 keys and signing with noble: the same code runs in a browser. */
import { ed25519 } from '@noble/curves/ed25519.js'
import { type Domain, signingBytes } from './hash.ts'

export const SECRET_KEY_BYTES = 32
export const PUBLIC_KEY_BYTES = 32
export const SIGNATURE_BYTES = 64

export function generateSecretKey (): Uint8Array {
  return ed25519.utils.randomSecretKey()
}

export function publicKeyOf (secretKey: Uint8Array): Uint8Array {
  return ed25519.getPublicKey(secretKey)
}

/** Signs `tag || payload` for the given domain. */
export function signDomain (domain: Domain, payload: Uint8Array, secretKey: Uint8Array): Uint8Array {
  return ed25519.sign(signingBytes(domain, payload), secretKey)
}
