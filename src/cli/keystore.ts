/**
 * Keys in DIR/keys/NAME.json, mode 0600. Plain form (like CometBFT's
 * priv_validator_key.json) or, with a password, the secret encrypted at rest
 * with scrypt + AES-256-GCM.
 */
import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto'
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { encodeAddress } from '../crypto/address.ts'
import { parseHex, toHex } from '../crypto/bytes.ts'
import { publicKeyOf } from '../crypto/keys.ts'
import { ErrorCode, fail } from '../protocol/errors.ts'

const NAME = /^[A-Za-z0-9_-]{1,64}$/
const SCRYPT = { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 }

export interface KeyFile {
  name: string
  address: string
  publicKey: string
  /** Present in plain files. */
  secretKey?: string
  /** Present in encrypted files. */
  encrypted?: { kdf: 'scrypt', N: number, r: number, p: number, salt: string, cipher: 'aes-256-gcm', iv: string, ciphertext: string, tag: string }
}

export interface LoadedKey { name: string, address: string, publicKey: Uint8Array, secretKey: Uint8Array }

export const keysDir = (home: string): string => join(home, 'keys')
const keyPath = (home: string, name: string): string => join(keysDir(home), `${name}.json`)

function checkName (name: string): void {
  if (!NAME.test(name)) fail(ErrorCode.INVALID_FIELD, 'a key name is 1-64 of [A-Za-z0-9_-]')
}

/** Writes a new key file; refuses to overwrite one. */
export async function saveKey (home: string, name: string, secretKey: Uint8Array, prefix: string, password?: string): Promise<KeyFile> {
  checkName(name)
  if (secretKey.length !== 32) fail(ErrorCode.INVALID_FIELD, 'a secret key is 32 bytes')
  await mkdir(keysDir(home), { recursive: true, mode: 0o700 })
  const publicKey = publicKeyOf(secretKey)
  const file: KeyFile = { name, address: encodeAddress(publicKey, prefix), publicKey: toHex(publicKey) }
  if (password === undefined) {
    file.secretKey = toHex(secretKey)
  } else {
    const salt = randomBytes(16)
    const iv = randomBytes(12)
    const key = scryptSync(password, salt, 32, SCRYPT)
    const cipher = createCipheriv('aes-256-gcm', key, iv)
    const ciphertext = Buffer.concat([cipher.update(secretKey), cipher.final()])
    file.encrypted = {
      kdf: 'scrypt', N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p, salt: toHex(salt),
      cipher: 'aes-256-gcm', iv: toHex(iv), ciphertext: toHex(ciphertext), tag: toHex(cipher.getAuthTag())
    }
  }
  try {
    await writeFile(keyPath(home, name), JSON.stringify(file, null, 2) + '\n', { mode: 0o600, flag: 'wx' })
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') fail(ErrorCode.INVALID_FIELD, `key ${name} already exists in ${keysDir(home)}`)
    throw e
  }
  return file
}

export async function readKeyFile (home: string, name: string): Promise<KeyFile> {
  checkName(name)
  try {
    return JSON.parse(await readFile(keyPath(home, name), 'utf8')) as KeyFile
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') fail(ErrorCode.NOT_FOUND, `no key ${name} in ${keysDir(home)}`)
    return fail(ErrorCode.MALFORMED, `key file for ${name} is not valid JSON`)
  }
}

/** Loads a key, decrypting it with `password` if it is encrypted. */
export async function loadKey (home: string, name: string, password?: string): Promise<LoadedKey> {
  const file = await readKeyFile(home, name)
  let secretKey: Uint8Array | null
  if (file.encrypted !== undefined) {
    if (password === undefined) fail(ErrorCode.INVALID_FIELD, `key ${name} is encrypted: pass --password-file`)
    const e = file.encrypted
    try {
      const key = scryptSync(password as string, parseHex(e.salt)!, 32, { N: e.N, r: e.r, p: e.p, maxmem: SCRYPT.maxmem })
      const d = createDecipheriv('aes-256-gcm', key, parseHex(e.iv)!)
      d.setAuthTag(parseHex(e.tag)!)
      secretKey = Buffer.concat([d.update(parseHex(e.ciphertext)!), d.final()])
    } catch {
      return fail(ErrorCode.INVALID_FIELD, `wrong password for key ${name}`)
    }
  } else {
    secretKey = parseHex(file.secretKey ?? '')
  }
  if (secretKey === null || secretKey.length !== 32) fail(ErrorCode.MALFORMED, `key file for ${name} holds no 32-byte secret key`)
  return { name, address: file.address, publicKey: publicKeyOf(secretKey!), secretKey: secretKey! }
}

export async function listKeys (home: string): Promise<KeyFile[]> {
  let names: string[]
  try {
    names = (await readdir(keysDir(home))).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort()
  } catch {
    return []
  }
  const out: KeyFile[] = []
  for (const n of names) if (NAME.test(n)) out.push(await readKeyFile(home, n))
  return out
}
