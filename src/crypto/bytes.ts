/** Byte helpers shared by every layer; browser-safe. */
import { hexToBytes } from '@noble/hashes/utils.js'

const HEX_CODES = new TextEncoder().encode('0123456789abcdef')
const latin = new TextDecoder()

/**
 * Lowercase hex, as one flat string. (Built by `+=`, as noble's bytesToHex does without a
 * native toHex, a 32-byte key is a chain of 63 cons strings, ~2 KiB that a Map key keeps.)
 */
export function toHex (b: Uint8Array): string {
  const out = new Uint8Array(b.length * 2)
  for (let i = 0; i < b.length; i++) {
    out[2 * i] = HEX_CODES[b[i]! >> 4]!
    out[2 * i + 1] = HEX_CODES[b[i]! & 15]!
  }
  return latin.decode(out)
}

/** Strict hex (even length, [0-9a-f], optional 0x); returns null when malformed. */
export function parseHex (s: string): Uint8Array | null {
  const h = s.startsWith('0x') ? s.slice(2) : s
  if (h.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(h)) return null
  return hexToBytes(h.toLowerCase())
}

export function concatBytes (...parts: Uint8Array[]): Uint8Array {
  let n = 0
  for (const p of parts) n += p.length
  const out = new Uint8Array(n)
  let o = 0
  for (const p of parts) { out.set(p, o); o += p.length }
  return out
}

export function equalBytes (a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** Lexicographic order, as LevelDB orders keys. */
export function compareBytes (a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!
  return a.length - b.length
}

export const utf8 = {
  encode: (s: string): Uint8Array => new TextEncoder().encode(s),
  decode: (b: Uint8Array): string => new TextDecoder().decode(b),
  byteLength: (s: string): number => new TextEncoder().encode(s).length
}

/** Big-endian u64 so that LevelDB key order is numeric order. */
export function u64be (n: number | bigint): Uint8Array {
  const out = new Uint8Array(8)
  new DataView(out.buffer).setBigUint64(0, BigInt(n))
  return out
}

export function readU64be (b: Uint8Array, offset = 0): number {
  return Number(new DataView(b.buffer, b.byteOffset + offset, 8).getBigUint64(0))
}

export function u32be (n: number): Uint8Array {
  const out = new Uint8Array(4)
  new DataView(out.buffer).setUint32(0, n)
  return out
}

export function readU32be (b: Uint8Array, offset = 0): number {
  return new DataView(b.buffer, b.byteOffset + offset, 4).getUint32(0)
}
