/**
 * The user's key, in this browser only: the secret is encrypted with a passphrase (PBKDF2-SHA-256,
 * 600,000 rounds, then AES-GCM, all WebCrypto) and kept in localStorage; it is never sent anywhere.
 */
import { Signer, parseHex, toHex } from '../../src/client/index.ts'

const STORAGE_KEY = 'chorus.key.v1'
const ROUNDS = 600_000

interface StoredKey { address: string, salt: string, iv: string, ciphertext: string }

export function storedAddress (): string | null {
  const raw = localStorage.getItem(STORAGE_KEY)
  return raw === null ? null : (JSON.parse(raw) as StoredKey).address
}

async function aesKey (passphrase: string, salt: Uint8Array): Promise<CryptoKey> {
  const base = await crypto.subtle.importKey('raw', new TextEncoder().encode(passphrase), 'PBKDF2', false, ['deriveKey'])
  return await crypto.subtle.deriveKey({ name: 'PBKDF2', hash: 'SHA-256', salt: salt as BufferSource, iterations: ROUNDS }, base, { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt'])
}

/** Encrypts and stores `secretKey` (a new one when absent); returns its signer. */
export async function storeKey (passphrase: string, secretKey?: Uint8Array): Promise<Signer> {
  if (passphrase.length < 8) throw new Error('the passphrase needs at least 8 characters')
  const secret = secretKey ?? crypto.getRandomValues(new Uint8Array(32))
  if (secret.length !== 32) throw new Error('a secret key is 32 bytes (64 hex characters)')
  const signer = Signer.fromSecretKey(secret)
  const salt = crypto.getRandomValues(new Uint8Array(16))
  const iv = crypto.getRandomValues(new Uint8Array(12))
  const ciphertext = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, await aesKey(passphrase, salt), secret as BufferSource))
  const stored: StoredKey = { address: signer.address(), salt: toHex(salt), iv: toHex(iv), ciphertext: toHex(ciphertext) }
  localStorage.setItem(STORAGE_KEY, JSON.stringify(stored))
  return signer
}

/** The stored key, decrypted; throws when the passphrase is wrong. */
export async function unlockKey (passphrase: string): Promise<Signer> {
  return Signer.fromSecretKey(await revealSecret(passphrase))
}

/** The stored secret itself (for a backup), decrypted; throws when the passphrase is wrong. */
export async function revealSecret (passphrase: string): Promise<Uint8Array> {
  const raw = localStorage.getItem(STORAGE_KEY)
  if (raw === null) throw new Error('there is no key in this browser')
  const s = JSON.parse(raw) as StoredKey
  try {
    return new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: parseHex(s.iv)! as BufferSource }, await aesKey(passphrase, parseHex(s.salt)!), parseHex(s.ciphertext)! as BufferSource))
  } catch {
    throw new Error('wrong passphrase')
  }
}

export function forgetKey (): void {
  localStorage.removeItem(STORAGE_KEY)
}

export function parseSecret (hex: string): Uint8Array {
  const bytes = parseHex(hex.trim())
  if (bytes === null || bytes.length !== 32) throw new Error('a secret key is 64 hex characters')
  return bytes
}
