/**
 * SHA-256 and SHA-512, with domain tags for signatures. Browser-safe: noble's
 * hashes, except that under Node SHA-256 is OpenSSL's one-shot `crypto.hash`
 * (the same digest, several times faster on a tx's few hundred bytes: every tx
 * id is one). Node's module is reached through `process.getBuiltinModule`, not
 * an import, so a browser bundle never sees it.
 */
import { sha256 as nobleSha256, sha512 as nobleSha512 } from '@noble/hashes/sha2.js'
import { concatBytes, utf8 } from './bytes.ts'

type OneShotHash = (algorithm: string, data: Uint8Array, encoding: 'buffer') => Uint8Array
const nodeHash = ((globalThis as { process?: { getBuiltinModule?: (id: string) => { hash?: OneShotHash } | undefined } })
  .process?.getBuiltinModule?.('crypto'))?.hash

const sha256Of: (data: Uint8Array) => Uint8Array = nodeHash === undefined
  ? nobleSha256
  : (data) => {
      const b = nodeHash('sha256', data, 'buffer')
      return new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
    }

export function sha256 (...parts: Uint8Array[]): Uint8Array {
  return sha256Of(parts.length === 1 ? parts[0]! : concatBytes(...parts))
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
