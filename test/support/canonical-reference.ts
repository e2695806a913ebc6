/**
 * The canonical decoder as it was before the one-pass reader (src/codec/canonical.ts at
 * 7673f06), frozen here as the reference the new decoder must agree with on every input:
 * a depth walk, msgpackr's parse, a normalizing pass, a re-encode and a byte comparison.
 * Used by test/unit/codec/canonical-decode-reference.test.ts and scripts/bench/canonical-decode.ts.
 *
 * Its answers depend on msgpackr's native string extractor (msgpackr-extract): without it
 * (MSGPACKR_NATIVE_ACCELERATION_DISABLED=true, or a platform with no prebuilt addon) msgpackr
 * decodes a string longer than 64 bytes with a TextDecoder that drops a leading U+FEFF, and
 * such strings fail the re-encode. `nativeStrings` says which one this process runs.
 */
import { Unpackr, isNativeAccelerationEnabled } from 'msgpackr'
import { type Value, MAX_DEPTH, encodeCanonical } from '../../src/codec/canonical.ts'
import { equalBytes } from '../../src/crypto/bytes.ts'
import { ErrorCode, fail } from '../../src/protocol/errors.ts'

export const nativeStrings: boolean = isNativeAccelerationEnabled

const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: false, int64AsType: 'bigint', moreTypes: false })

/** The reference decodeCanonical: TOO_LARGE, then MALFORMED (depth walk, msgpackr), then NON_CANONICAL. */
export function decodeCanonicalReference (bytes: Uint8Array, maxBytes: number): Value {
  if (bytes.length > maxBytes) fail(ErrorCode.TOO_LARGE, `${bytes.length} bytes exceeds ${maxBytes}`)
  checkDepth(bytes)
  let value: unknown
  try {
    // a fresh view: msgpackr caches a DataView on the object it reads, and the caller's bytes stay untouched
    value = unpackr.unpack(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length))
  } catch (e) {
    fail(ErrorCode.MALFORMED, `not msgpack: ${(e as Error).message.slice(0, 80)}`)
  }
  const tree = normalize(value, 0)
  let again: Uint8Array
  try {
    again = encodeCanonical(tree)
  } catch {
    fail(ErrorCode.NON_CANONICAL, 'holds a value outside the canonical subset')
  }
  if (!equalBytes(again, bytes)) fail(ErrorCode.NON_CANONICAL, 'bytes differ from the canonical encoding')
  return tree
}

/** msgpackr hands back Buffers for bin; present plain Uint8Array views to the schema layer. */
function normalize (v: unknown, depth: number): Value {
  if (Array.isArray(v)) {
    if (depth >= MAX_DEPTH) fail(ErrorCode.MALFORMED, `arrays nested deeper than ${MAX_DEPTH}`)
    return v.map((x) => normalize(x, depth + 1))
  }
  if (v instanceof Uint8Array && v.constructor !== Uint8Array) return new Uint8Array(v.buffer, v.byteOffset, v.length)
  if (v === null || typeof v === 'boolean' || typeof v === 'number' || typeof v === 'bigint' ||
    typeof v === 'string' || v instanceof Uint8Array) return v
  return fail(ErrorCode.NON_CANONICAL, 'maps, extensions and undefined are not canonical')
}

function msgpackItem (b: Uint8Array, view: DataView, pos: number): { items: number, head: number } | { size: number } | null {
  const t = b[pos]!
  if (t <= 0x7f || t >= 0xe0 || t === 0xc0 || t === 0xc2 || t === 0xc3) return { size: 1 }
  if (t >= 0x90 && t <= 0x9f) return { items: t & 0x0f, head: 1 }
  if (t >= 0x80 && t <= 0x8f) return { items: (t & 0x0f) * 2, head: 1 }
  if (t >= 0xa0 && t <= 0xbf) return { size: 1 + (t & 0x1f) }
  const lenBytes = t === 0xc4 || t === 0xd9 ? 1 : t === 0xc5 || t === 0xda || t === 0xdc || t === 0xde ? 2 : t === 0xc6 || t === 0xdb || t === 0xdd || t === 0xdf ? 4 : 0
  if (lenBytes > 0) {
    if (pos + 1 + lenBytes > b.length) return null
    const n = lenBytes === 1 ? b[pos + 1]! : lenBytes === 2 ? view.getUint16(pos + 1) : view.getUint32(pos + 1)
    if (t === 0xdc || t === 0xdd) return { items: n, head: 1 + lenBytes }
    if (t === 0xde || t === 0xdf) return { items: n * 2, head: 1 + lenBytes }
    return { size: 1 + lenBytes + n }
  }
  if (t === 0xcc || t === 0xd0) return { size: 2 }
  if (t === 0xcd || t === 0xd1) return { size: 3 }
  if (t === 0xce || t === 0xd2 || t === 0xca) return { size: 5 }
  if (t === 0xcf || t === 0xd3 || t === 0xcb) return { size: 9 }
  return null
}

function checkDepth (b: Uint8Array): void {
  const remaining: number[] = []
  const view = new DataView(b.buffer, b.byteOffset, b.length)
  const close = (): void => {
    while (remaining.length > 0) {
      const last = remaining.length - 1
      remaining[last]! -= 1
      if (remaining[last]! > 0) return
      remaining.pop()
    }
  }
  let pos = 0
  while (pos < b.length) {
    const item = msgpackItem(b, view, pos)
    if (item === null) return
    if ('size' in item) {
      pos += item.size
      close()
      continue
    }
    pos += item.head
    if (item.items === 0) { close(); continue }
    if (remaining.length >= MAX_DEPTH) fail(ErrorCode.MALFORMED, `arrays nested deeper than ${MAX_DEPTH}`)
    remaining.push(item.items)
  }
}
