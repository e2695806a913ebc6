/** SHA-256 and SHA-512 (noble, browser-safe), with domain tags for signatures. */
import { sha256 as nobleSha256, sha512 as nobleSha512 } from '@noble/hashes/sha2.js'
import { concatBytes, utf8 } from './bytes.ts'

export function sha256 (...parts: Uint8Array[]): Uint8Array {
  return nobleSha256(parts.length === 1 ? parts[0]! : concatBytes(...parts))
}

export function sha512 (...parts: Uint8Array[]): Uint8Array {
  return nobleSha512(parts.length === 1 ? parts[0]! : concatBytes(...parts))
}

/** Domain tags: a signature for one purpose is never valid for another (DESIGN §4). */
export const Domain = {
  tx: utf8.encode('chorus/tx/v1'),
  vote: utf8.encode('chorus/vote/v1'),
  proposal: utf8.encode('chorus/proposal/v1')
} as const
export type Domain = keyof typeof Domain

/** The exact bytes a signer signs for `domain`: tag || payload. */
export function signingBytes (domain: Domain, payload: Uint8Array): Uint8Array {
  return concatBytes(Domain[domain], payload)
}
