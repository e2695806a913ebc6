/**
 * Canonical msgpack (DESIGN §4): the one encoding of hashed and signed bytes.
 *
 * Values are a small tree: nil, booleans, integers, UTF-8 strings, bin, and
 * arrays — never maps, floats or extensions. Every value has exactly one
 * encoding: integers and lengths in their shortest form, whether they came
 * from a `number` or a `bigint`.
 *
 * `decodeCanonical` reads untrusted bytes in one strict pass that accepts the
 * one encoding and nothing else: non-minimal ints and lengths, floats, maps,
 * extensions, trailing bytes and invalid UTF-8 all fail it. It replaced a
 * decoder that parsed with msgpackr, re-encoded and compared the bytes, and
 * accepts exactly what that one accepted.
 */
import { ErrorCode, fail } from '../protocol/errors.ts'

export type Value = null | boolean | number | bigint | string | Uint8Array | readonly Value[]

/**
 * No protocol structure nests arrays deeper than 6 (a commit's signature pair inside a
 * compact block inside a consensus message); a peer's or client's deeper input is
 * MALFORMED here, before anything recurses over it.
 */
export const MAX_DEPTH = 16

const MAX_U64 = (1n << 64n) - 1n
const MIN_I64 = -(1n << 63n)
const textEncoder = new TextEncoder()

/** A scratch writer grown past this is dropped after its encode rather than kept. */
const KEEP_SCRATCH_BYTES = 1 << 20

class Writer {
  buf: Uint8Array
  view: DataView
  pos = 0

  constructor (size: number) {
    this.buf = new Uint8Array(size)
    this.view = new DataView(this.buf.buffer)
  }

  /** Makes room for `n` more bytes; every write below calls it, or checks first itself. */
  ensure (n: number): void {
    if (this.pos + n > this.buf.length) this.grow(n)
  }

  private grow (n: number): void {
    let size = this.buf.length * 2
    while (size < this.pos + n) size *= 2
    const next = new Uint8Array(size)
    next.set(this.buf.subarray(0, this.pos))
    this.buf = next
    this.view = new DataView(next.buffer)
  }

  u8 (v: number): void {
    if (this.pos >= this.buf.length) this.grow(1)
    this.buf[this.pos++] = v
  }

  u16 (v: number): void { this.ensure(2); this.view.setUint16(this.pos, v); this.pos += 2 }
  u32 (v: number): void { this.ensure(4); this.view.setUint32(this.pos, v); this.pos += 4 }
  u64 (v: bigint): void { this.ensure(8); this.view.setBigUint64(this.pos, v); this.pos += 8 }
  i64 (v: bigint): void { this.ensure(8); this.view.setBigInt64(this.pos, v); this.pos += 8 }
  bytes (b: Uint8Array): void { this.ensure(b.length); this.buf.set(b, this.pos); this.pos += b.length }
  /** A copy of what was written: the writer's buffer is reused. */
  result (): Uint8Array { return this.buf.slice(0, this.pos) }
}

/**
 * The writer every encode reuses: encoding is synchronous and never re-enters itself, so one
 * scratch buffer serves all (started at 0 by each encode, copied out at its end).
 */
let scratch = new Writer(4096)

function writeInt (w: Writer, n: bigint): void {
  if (n >= 0n) {
    if (n < 0x80n) w.u8(Number(n))
    else if (n <= 0xffn) { w.u8(0xcc); w.u8(Number(n)) }
    else if (n <= 0xffffn) { w.u8(0xcd); w.u16(Number(n)) }
    else if (n <= 0xffffffffn) { w.u8(0xce); w.u32(Number(n)) }
    else if (n <= MAX_U64) { w.u8(0xcf); w.u64(n) }
    else fail(ErrorCode.MALFORMED, 'integer above 2^64-1')
  } else {
    if (n >= -32n) w.u8(Number(n) & 0xff)
    else if (n >= -0x80n) { w.u8(0xd0); w.u8(Number(n) & 0xff) }
    else if (n >= -0x8000n) { w.u8(0xd1); w.u16(Number(n) & 0xffff) }
    else if (n >= -0x80000000n) { w.u8(0xd2); w.u32(Number(n) >>> 0) }
    else if (n >= MIN_I64) { w.u8(0xd3); w.i64(n) }
    else fail(ErrorCode.MALFORMED, 'integer below -2^63')
  }
}

/** writeInt for a safe integer `number`, in the same bytes, without making a bigint below 2^32. */
function writeNumber (w: Writer, n: number): void {
  if (n >= 0) {
    if (n < 0x80) w.u8(n)
    else if (n <= 0xff) { w.u8(0xcc); w.u8(n) }
    else if (n <= 0xffff) { w.u8(0xcd); w.u16(n) }
    else if (n <= 0xffffffff) { w.u8(0xce); w.u32(n) }
    else { w.u8(0xcf); w.u64(BigInt(n)) }
  } else {
    if (n >= -32) w.u8(n & 0xff)
    else if (n >= -0x80) { w.u8(0xd0); w.u8(n & 0xff) }
    else if (n >= -0x8000) { w.u8(0xd1); w.u16(n & 0xffff) }
    else if (n >= -0x80000000) { w.u8(0xd2); w.u32(n >>> 0) }
    else { w.u8(0xd3); w.i64(BigInt(n)) }
  }
}

function writeLength (w: Writer, n: number, fix: number | null, fixMax: number, b8: number | null, b16: number, b32: number): void {
  if (fix !== null && n <= fixMax) w.u8(fix | n)
  else if (b8 !== null && n <= 0xff) { w.u8(b8); w.u8(n) }
  else if (n <= 0xffff) { w.u8(b16); w.u16(n) }
  else { w.u8(b32); w.u32(n) }
}

/** Bytes of a str header for a string of `n` UTF-8 bytes. */
const strHead = (n: number): number => n <= 31 ? 1 : n <= 0xff ? 2 : n <= 0xffff ? 3 : 5

/**
 * A string, encoded straight into the writer: ASCII up to 31 chars byte by byte, the rest
 * with encodeInto after room for the longest header it could need, moved back when the
 * UTF-8 came out shorter.
 */
function writeString (w: Writer, s: string): void {
  const len = s.length
  if (len <= 31) {
    w.ensure(1 + len)
    const { buf } = w
    const start = w.pos
    let i = 0
    for (; i < len; i++) {
      const c = s.charCodeAt(i)
      if (c >= 0x80) break
      buf[start + 1 + i] = c
    }
    if (i === len) {
      buf[start] = 0xa0 | len
      w.pos = start + 1 + len
      return
    }
  }
  const max = len * 3 // UTF-8 bytes per UTF-16 unit, at most
  const head = strHead(max)
  w.ensure(head + max)
  const start = w.pos
  const { written } = textEncoder.encodeInto(s, w.buf.subarray(start + head, start + head + max))
  const need = strHead(written)
  if (need !== head) w.buf.copyWithin(start + need, start + head, start + head + written)
  writeLength(w, written, 0xa0, 31, 0xd9, 0xda, 0xdb)
  w.pos = start + need + written
}

function write (w: Writer, v: Value, depth: number): void {
  if (v === null) w.u8(0xc0)
  else if (v === false) w.u8(0xc2)
  else if (v === true) w.u8(0xc3)
  else if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) fail(ErrorCode.MALFORMED, 'only safe integers are encodable')
    writeNumber(w, v)
  } else if (typeof v === 'bigint') writeInt(w, v)
  else if (typeof v === 'string') writeString(w, v)
  else if (v instanceof Uint8Array) {
    writeLength(w, v.length, null, 0, 0xc4, 0xc5, 0xc6)
    w.bytes(v)
  } else if (Array.isArray(v)) {
    if (depth >= MAX_DEPTH) fail(ErrorCode.MALFORMED, `arrays nested deeper than ${MAX_DEPTH}`)
    writeLength(w, v.length, 0x90, 15, null, 0xdc, 0xdd)
    for (let i = 0; i < v.length; i++) write(w, v[i] as Value, depth + 1)
  } else {
    fail(ErrorCode.MALFORMED, `not encodable: ${Object.prototype.toString.call(v)}`)
  }
}

/**
 * Throws exactly what `encodeCanonical(v)` would throw, without encoding: for a write that
 * is encoded later (state/view.ts RecordWrite), so a value outside the canonical subset (an
 * amount past 2^64−1) still fails the tx that made it, with the same error.
 */
export function assertEncodable (v: Value, depth = 0): void {
  if (v === null || typeof v === 'boolean' || typeof v === 'string' || v instanceof Uint8Array) return
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) fail(ErrorCode.MALFORMED, 'only safe integers are encodable')
  } else if (typeof v === 'bigint') {
    if (v > MAX_U64) fail(ErrorCode.MALFORMED, 'integer above 2^64-1')
    if (v < MIN_I64) fail(ErrorCode.MALFORMED, 'integer below -2^63')
  } else if (Array.isArray(v)) {
    if (depth >= MAX_DEPTH) fail(ErrorCode.MALFORMED, `arrays nested deeper than ${MAX_DEPTH}`)
    for (let i = 0; i < v.length; i++) assertEncodable(v[i] as Value, depth + 1)
  } else {
    fail(ErrorCode.MALFORMED, `not encodable: ${Object.prototype.toString.call(v)}`)
  }
}

/** The canonical bytes of `v` (a fresh array the caller owns). */
export function encodeCanonical (v: Value): Uint8Array {
  const w = scratch
  w.pos = 0
  try {
    write(w, v, 0)
    return w.result()
  } finally {
    if (w.buf.length > KEEP_SCRATCH_BYTES) scratch = new Writer(4096)
  }
}

/**
 * Decodes canonical bytes, or throws ChorusError: TOO_LARGE over `maxBytes` (checked first),
 * MALFORMED when they are not one whole msgpack item, NON_CANONICAL when they are one but not
 * the one encoding of what it holds (see `refuse`).
 *
 * One strict pass accepts exactly the canonical encodings, and nothing else: the inputs the
 * former decoder (msgpackr's parse, then a re-encode compared byte for byte) accepted, read
 * as the same values (test/unit/codec/canonical-decode-reference.test.ts). Integers are
 * numbers, except the two 64-bit forms (0xcf, 0xd3), which are bigints whatever their value;
 * bin is a plain Uint8Array view into `bytes`, not a copy.
 */
export function decodeCanonical (bytes: Uint8Array, maxBytes: number): Value {
  if (bytes.length > maxBytes) fail(ErrorCode.TOO_LARGE, `${bytes.length} bytes exceeds ${maxBytes}`)
  const r = new CanonicalReader(bytes)
  let v: Value
  try {
    v = r.value(0)
  } catch {
    return refuse(bytes)
  }
  if (r.pos !== bytes.length) return refuse(bytes)
  return v
}

/** The strict reader's one failure, for anything but the one encoding; caught in decodeCanonical. */
const REFUSED = new Error('not the canonical encoding')

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** Strings up to this many bytes are tried as ASCII in JS before the (native) UTF-8 decoder. */
const ASCII_IN_JS = 32

/**
 * Reads the one encoding and nothing else (the rules are writeNumber's, writeInt's and
 * writeLength's): each integer and each length in its shortest form, strings as strict UTF-8
 * (a leading U+FEFF kept), arrays at most MAX_DEPTH deep, so this recursion stays shallow.
 */
class CanonicalReader {
  pos = 0

  /** `copyBin`: bin as a copy the caller owns, not a view of `b`. */
  constructor (private readonly b: Uint8Array, private readonly copyBin = false) {}

  value (depth: number): Value {
    const { b } = this
    const at = this.pos
    if (at >= b.length) throw REFUSED
    const t = b[at]!
    this.pos = at + 1
    if (t <= 0x7f) return t
    if (t >= 0xe0) return t - 0x100
    if (t >= 0xa0 && t <= 0xbf) return this.str(t & 0x1f)
    if (t >= 0x90 && t <= 0x9f) return this.array(t & 0x0f, depth)
    switch (t) {
      case 0xc0: return null
      case 0xc2: return false
      case 0xc3: return true
      case 0xcc: return atLeast(this.uint(1), 0x80)
      case 0xcd: return atLeast(this.uint(2), 0x100)
      case 0xce: return atLeast(this.uint(4), 0x10000)
      case 0xcf: {
        const v = this.u64()
        if (v <= 0xffffffffn) throw REFUSED
        return v
      }
      case 0xd0: return below(this.uint(1) << 24 >> 24, -32)
      case 0xd1: return below(this.uint(2) << 16 >> 16, -0x80)
      case 0xd2: return below(this.uint(4) | 0, -0x8000)
      case 0xd3: {
        const v = BigInt.asIntN(64, this.u64())
        if (v >= -0x80000000n) throw REFUSED
        return v
      }
      case 0xd9: return this.str(atLeast(this.uint(1), 32))
      case 0xda: return this.str(atLeast(this.uint(2), 0x100))
      case 0xdb: return this.str(atLeast(this.uint(4), 0x10000))
      case 0xc4: return this.bin(this.uint(1))
      case 0xc5: return this.bin(atLeast(this.uint(2), 0x100))
      case 0xc6: return this.bin(atLeast(this.uint(4), 0x10000))
      case 0xdc: return this.array(atLeast(this.uint(2), 16), depth)
      case 0xdd: return this.array(atLeast(this.uint(4), 0x10000), depth)
    }
    throw REFUSED
  }

  /** A big-endian unsigned integer of `n` bytes (1, 2 or 4). */
  private uint (n: number): number {
    const { b } = this
    const at = this.pos
    if (at + n > b.length) throw REFUSED
    this.pos = at + n
    if (n === 1) return b[at]!
    if (n === 2) return (b[at]! << 8) | b[at + 1]!
    return b[at]! * 0x1000000 + ((b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!)
  }

  private u64 (): bigint {
    const hi = this.uint(4)
    return (BigInt(hi) << 32n) | BigInt(this.uint(4))
  }

  private str (n: number): string {
    const { b } = this
    const at = this.pos
    const end = at + n
    if (end > b.length) throw REFUSED
    this.pos = end
    if (n <= ASCII_IN_JS) {
      let i = at
      while (i < end && b[i]! < 0x80) i++
      if (i === end) return String.fromCharCode.apply(null, b.subarray(at, end) as unknown as number[])
    }
    try {
      return strictUtf8.decode(b.subarray(at, end))
    } catch {
      throw REFUSED
    }
  }

  private bin (n: number): Uint8Array {
    const { b } = this
    const at = this.pos
    if (n > b.length - at) throw REFUSED
    this.pos = at + n
    // a plain Uint8Array (a Buffer's subarray is a Buffer): a view of `b`, or a copy of those bytes
    return this.copyBin ? new Uint8Array(b.subarray(at, at + n)) : new Uint8Array(b.buffer, b.byteOffset + at, n)
  }

  private array (n: number, depth: number): Value[] {
    // every item takes a byte at least: a count past the end is refused before anything is allocated
    if (depth >= MAX_DEPTH || n > this.b.length - this.pos) throw REFUSED
    const out: Value[] = []
    for (let i = 0; i < n; i++) out.push(this.value(depth + 1))
    return out
  }
}

function atLeast (n: number, min: number): number {
  if (n < min) throw REFUSED
  return n
}

function below (n: number, max: number): number {
  if (n >= max) throw REFUSED
  return n
}

/**
 * Decode for records this node's own store holds (it wrote them with encodeCanonical): the same
 * strict reader, with bin as a copy the caller owns (a LevelDB read's buffer is not kept alive
 * by the record), and every failure MALFORMED: a corrupt store is not read as something else.
 * Integers come back as decodeCanonical gives them (64-bit forms as bigint).
 */
export function decodeStored (bytes: Uint8Array): Value {
  const r = new CanonicalReader(bytes, true)
  let v: Value
  try {
    v = r.value(0)
  } catch {
    return fail(ErrorCode.MALFORMED, 'stored record: not a canonical encoding')
  }
  if (r.pos !== bytes.length) fail(ErrorCode.MALFORMED, 'stored record: trailing bytes')
  return v
}

/**
 * The error for bytes the strict reader refused, by their structure alone: MALFORMED when they
 * are not one whole msgpack item (cut short, the reserved byte 0xc1, bytes after the item, or
 * containers nested deeper than MAX_DEPTH); NON_CANONICAL when they are one, only not the one
 * encoding of what it holds (a non-minimal integer or length, a float, a map, an extension,
 * invalid UTF-8). A walk without recursion: no input can exhaust the stack.
 */
function refuse (b: Uint8Array): never {
  const view = new DataView(b.buffer, b.byteOffset, b.length)
  // open[i]: items still to read in the container at depth i
  const open: number[] = []
  let pos = 0
  do {
    const item = pos < b.length ? msgpackItem(b, view, pos) : null
    if (item === null) fail(ErrorCode.MALFORMED, pos < b.length ? `no msgpack item at byte ${pos}` : 'cut short')
    if ('size' in item) {
      pos += item.size
      if (pos > b.length) fail(ErrorCode.MALFORMED, 'cut short')
    } else {
      if (open.length >= MAX_DEPTH) fail(ErrorCode.MALFORMED, `arrays nested deeper than ${MAX_DEPTH}`)
      pos += item.head
      if (item.items > 0) {
        open.push(item.items)
        continue
      }
    }
    // an item ended: so did every container it was the last item of
    while (open.length > 0 && --open[open.length - 1]! === 0) open.pop()
  } while (open.length > 0)
  if (pos !== b.length) fail(ErrorCode.MALFORMED, `${b.length - pos} bytes after the value`)
  return fail(ErrorCode.NON_CANONICAL, 'not the canonical encoding of what it holds')
}

/**
 * What the msgpack item at `pos` is, from its first bytes alone: a container (arrays and
 * maps, with how many items follow its `head` bytes) or a scalar of `size` bytes in all.
 * Null for the reserved byte 0xc1 or a cut-off head.
 */
export function msgpackItem (b: Uint8Array, view: DataView, pos: number): { items: number, head: number } | { size: number } | null {
  const t = b[pos]!
  if (t <= 0x7f || t >= 0xe0 || t === 0xc0 || t === 0xc2 || t === 0xc3) return { size: 1 }
  if (t >= 0x90 && t <= 0x9f) return { items: t & 0x0f, head: 1 }
  if (t >= 0x80 && t <= 0x8f) return { items: (t & 0x0f) * 2, head: 1 }
  if (t >= 0xa0 && t <= 0xbf) return { size: 1 + (t & 0x1f) }
  // the rest carry a length or count after the type byte: 1, 2 or 4 bytes of it
  const lenBytes = t === 0xc4 || t === 0xd9 || t === 0xc7 ? 1 : t === 0xc5 || t === 0xda || t === 0xdc || t === 0xde || t === 0xc8 ? 2 : t === 0xc6 || t === 0xdb || t === 0xdd || t === 0xdf || t === 0xc9 ? 4 : 0
  if (lenBytes > 0) {
    if (pos + 1 + lenBytes > b.length) return null
    const n = lenBytes === 1 ? b[pos + 1]! : lenBytes === 2 ? view.getUint16(pos + 1) : view.getUint32(pos + 1)
    if (t === 0xdc || t === 0xdd) return { items: n, head: 1 + lenBytes }
    if (t === 0xde || t === 0xdf) return { items: n * 2, head: 1 + lenBytes }
    // an extension has its type byte between the length and the data
    return { size: 1 + lenBytes + (t >= 0xc7 && t <= 0xc9 ? 1 : 0) + n }
  }
  if (t === 0xcc || t === 0xd0) return { size: 2 }
  if (t === 0xcd || t === 0xd1) return { size: 3 }
  if (t === 0xce || t === 0xd2 || t === 0xca) return { size: 5 }
  if (t === 0xcf || t === 0xd3 || t === 0xcb) return { size: 9 }
  // fixext 1, 2, 4, 8, 16: the type byte and the data
  if (t >= 0xd4 && t <= 0xd8) return { size: 2 + (1 << (t - 0xd4)) }
  return null
}
