/** Account addresses: a 32-byte Ed25519 public key in bech32m with the chain's prefix. */
import { bech32m } from '@scure/base'
import { PUBLIC_KEY_BYTES } from './keys.ts'

export const DEFAULT_PREFIX = 'chorus'

export function encodeAddress (publicKey: Uint8Array, prefix = DEFAULT_PREFIX): string {
  return bech32m.encode(prefix, bech32m.toWords(publicKey))
}

/** Returns the public key, or null if `text` is not an address with this prefix. */
export function decodeAddress (text: string, prefix = DEFAULT_PREFIX): Uint8Array | null {
  try {
    const { prefix: p, words } = bech32m.decode(text as `${string}1${string}`)
    if (p !== prefix) return null
    const bytes = bech32m.fromWords(words)
    return bytes.length === PUBLIC_KEY_BYTES ? bytes : null
  } catch {
    return null
  }
}
