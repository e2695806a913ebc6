/** Byte helpers shared by every layer; browser-safe. */
import { hexToBytes } from '@noble/hashes/utils.js'

/**
 * Node's Buffer, when this runs in Node (bytes.ts is also bundled for browsers, so no `node:`
 * import): its native hex and latin1 slicers read any Uint8Array, with no Buffer made.
 */
type Slicer = (this: Uint8Array, start: number, end: number) => string
/** Writes hex digit pairs into `this` from `offset`, and returns the bytes written. */
type HexWriter = (this: Uint8Array, hex: string, offset: number, length: number) => number
const nodeBuffer = (globalThis as { Buffer?: { prototype: { hexSlice?: Slicer, latin1Slice?: Slicer, hexWrite?: HexWriter } } }).Buffer
const nativeHex = checked(nodeBuffer?.prototype.hexSlice, '00010f10abff')
const nativeLatin1 = checked(nodeBuffer?.prototype.latin1Slice, '\x00\x01\x0f\x10\xab\xff')
const nativeHexWrite = checkedWriter(nodeBuffer?.prototype.hexWrite)

/** `slice` if it is a function that gives `expected` for the sample bytes, else undefined. */
function checked (slice: Slicer | undefined, expected: string): Slicer | undefined {
  if (typeof slice !== 'function') return undefined
  try {
    return slice.call(new Uint8Array([0, 1, 0x0f, 0x10, 0xab, 0xff]), 0, 6) === expected ? slice : undefined
  } catch {
    return undefined
  }
}

/** `write` if it decodes a sample of hex digits (either case) to the right bytes, else undefined. */
function checkedWriter (write: HexWriter | undefined): HexWriter | undefined {
  if (typeof write !== 'function') return undefined
  try {
    const out = new Uint8Array(2)
    return write.call(out, '0fAb', 0, 2) === 2 && out[0] === 0x0f && out[1] === 0xab ? write : undefined
  } catch {
    return undefined
  }
}

/** The two hex digits of every byte, as char codes. */
const HEX_PAIRS = (() => {
  const digits = '0123456789abcdef'
  const t = new Uint16Array(256)
  for (let i = 0; i < 256; i++) t[i] = digits.charCodeAt(i >> 4) | (digits.charCodeAt(i & 15) << 8)
  return t
})()
const latin = new TextDecoder('latin1')

/**
 * Lowercase hex, as one flat string. Node's native slicer where there is one; elsewhere a
 * table of digit pairs decoded at once. (Built by `+=`, as noble's bytesToHex does without a
 * native toHex, a 32-byte key is a chain of 63 cons strings, ~2 KiB that a Map key keeps.)
 */
export function toHex (b: Uint8Array): string {
  if (nativeHex !== undefined) return nativeHex.call(b, 0, b.length)
  const out = new Uint16Array(b.length)
  for (let i = 0; i < b.length; i++) out[i] = HEX_PAIRS[b[i]!]!
  // little-endian pairs read as bytes: first digit, then second (every platform JS runs on is little-endian)
  return latin.decode(out)
}

/**
 * The bytes as a string of one char per byte (latin1): a compact, flat Map key for byte
 * strings, half the length of hex. Not for display; `equal keys ⇔ equal bytes`.
 */
export function binaryKey (b: Uint8Array): string {
  if (nativeLatin1 !== undefined) return nativeLatin1.call(b, 0, b.length)
  let s = ''
  for (let i = 0; i < b.length; i += 4096) s += String.fromCharCode(...b.subarray(i, i + 4096))
  return s
}

/**
 * Strict hex (even length, [0-9a-fA-F], optional 0x); returns null when malformed. Checked by the
 * regex (Node's decoder alone would take 'İ', U+0130, as '0'), then decoded natively in Node:
 * every tx_submit's tx comes this way, and a lowercase copy and a JS decode doubled the cost.
 */
export function parseHex (s: string): Uint8Array | null {
  const h = s.startsWith('0x') ? s.slice(2) : s
  if (h.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(h)) return null
  if (nativeHexWrite === undefined) return hexToBytes(h.toLowerCase())
  const out = new Uint8Array(h.length / 2)
  nativeHexWrite.call(out, h, 0, out.length)
  return out
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

const utf8Encoder = new TextEncoder()
const utf8Decoder = new TextDecoder()

export const utf8 = {
  encode: (s: string): Uint8Array => utf8Encoder.encode(s),
  decode: (b: Uint8Array): string => utf8Decoder.decode(b),
  byteLength: (s: string): number => utf8Encoder.encode(s).length
}

/**
 * Big-endian u64 so that LevelDB key order is numeric order. Written byte by byte: these
 * build most keys, and a DataView over a fresh small array makes V8 give it a backing
 * store of its own, several times the cost of the writes.
 */
export function u64be (n: number | bigint): Uint8Array {
  const out = new Uint8Array(8)
  if (typeof n === 'number' && Number.isSafeInteger(n) && n >= 0) {
    writeU32(out, 0, Math.floor(n / 0x1_0000_0000))
    writeU32(out, 4, n >>> 0)
  } else {
    new DataView(out.buffer).setBigUint64(0, BigInt(n))
  }
  return out
}

/**
 * prefix ‖ u64be(height) ‖ u32be(index), made in one array: the shape of every key that names a
 * chain position under an owner (an author's posts, a post's replies, a reader's timeline rows).
 */
export function heightIndexKey (prefix: Uint8Array, height: number, index: number): Uint8Array {
  if (!Number.isSafeInteger(height) || height < 0 || !Number.isInteger(index) || index < 0 || index > 0xffff_ffff) {
    return concatBytes(prefix, u64be(height), u32be(index)) // their errors and wrap-arounds, as before
  }
  const at = prefix.length
  const out = new Uint8Array(at + 12)
  out.set(prefix)
  writeU32(out, at, Math.floor(height / 0x1_0000_0000))
  writeU32(out, at + 4, height >>> 0)
  writeU32(out, at + 8, index)
  return out
}

export function readU64be (b: Uint8Array, offset = 0): number {
  // one rounding of the exact value, as Number(bigint) does
  return readU32(b, offset) * 0x1_0000_0000 + readU32(b, offset + 4)
}

export function u32be (n: number): Uint8Array {
  const out = new Uint8Array(4)
  if (Number.isInteger(n) && n >= 0 && n <= 0xffff_ffff) writeU32(out, 0, n)
  else new DataView(out.buffer).setUint32(0, n)
  return out
}

export function readU32be (b: Uint8Array, offset = 0): number {
  return readU32(b, offset)
}

function writeU32 (out: Uint8Array, at: number, n: number): void {
  out[at] = n >>> 24
  out[at + 1] = n >>> 16
  out[at + 2] = n >>> 8
  out[at + 3] = n
}

function readU32 (b: Uint8Array, at: number): number {
  if (at < 0 || at + 4 > b.length) throw new RangeError('Offset is outside the bounds of the DataView')
  return b[at]! * 0x100_0000 + ((b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!)
}
