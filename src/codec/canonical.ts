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
 * decoder that parsed with msgpackr, re-encoded and compared the bytes; it
 * accepts exactly what that one accepted, and a refused input gets the same
 * error code that one gave (`refuse`, below).
 */
import { binaryKey } from '../crypto/bytes.ts'
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
 * MALFORMED when msgpack cannot parse them (cut short, bytes after the value, an unknown
 * extension type, arrays nested deeper than MAX_DEPTH), NON_CANONICAL when it can but they are
 * not the one encoding of what they hold (a non-minimal integer or length, a float, a map,
 * invalid UTF-8). The exact line between the two is the former decoder's: see `refuse`.
 *
 * One strict pass accepts exactly the canonical encodings, and nothing else: the inputs the
 * former decoder (msgpackr's parse, then a re-encode compared byte for byte) accepted, read
 * as the same values. Integers are numbers, except the two 64-bit forms (0xcf, 0xd3), which
 * are bigints whatever their value; bin is a plain Uint8Array view into `bytes`, not a copy.
 * Bytes it refuses are classified by `refuse`, which gives the former decoder's code.
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

  constructor (private readonly b: Uint8Array) {}

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
    // a plain Uint8Array view from a Buffer too (whose subarray is a Buffer)
    return new Uint8Array(b.buffer, b.byteOffset + at, n)
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
 * TRUSTED decode, for records this node's own store holds (it wrote them with
 * encodeCanonical): a direct parse of the canonical subset, with no re-encoding to check
 * the form and no depth walk first. Never for bytes from the wire, a peer, a client or a
 * file; those go through `decodeCanonical`. Anything outside the canonical subset, or cut
 * short, or followed by more bytes, still fails MALFORMED (a corrupt store is not read as
 * something else). Integers come back as decodeCanonical gives them (64-bit forms as bigint),
 * bin as a copy the caller owns.
 */
export function decodeStored (bytes: Uint8Array): Value {
  const r = new StoredReader(bytes)
  const v = r.value(0)
  if (r.pos !== bytes.length) fail(ErrorCode.MALFORMED, 'stored record: trailing bytes')
  return v
}

const utf8Decoder = new TextDecoder()

class StoredReader {
  pos = 0
  private readonly view: DataView

  constructor (private readonly b: Uint8Array) {
    this.view = new DataView(b.buffer, b.byteOffset, b.length)
  }

  private need (n: number): number {
    const at = this.pos
    if (at + n > this.b.length) fail(ErrorCode.MALFORMED, 'stored record: cut short')
    this.pos = at + n
    return at
  }

  value (depth: number): Value {
    const t = this.b[this.need(1)]!
    if (t <= 0x7f) return t
    if (t >= 0xe0) return t - 0x100
    if (t >= 0xa0 && t <= 0xbf) return this.str(t & 0x1f)
    if (t >= 0x90 && t <= 0x9f) return this.array(t & 0x0f, depth)
    const { view } = this
    switch (t) {
      case 0xc0: return null
      case 0xc2: return false
      case 0xc3: return true
      case 0xcc: return this.b[this.need(1)]!
      case 0xcd: return view.getUint16(this.need(2))
      case 0xce: return view.getUint32(this.need(4))
      case 0xcf: return view.getBigUint64(this.need(8))
      case 0xd0: return view.getInt8(this.need(1))
      case 0xd1: return view.getInt16(this.need(2))
      case 0xd2: return view.getInt32(this.need(4))
      case 0xd3: return view.getBigInt64(this.need(8))
      case 0xd9: return this.str(this.b[this.need(1)]!)
      case 0xda: return this.str(view.getUint16(this.need(2)))
      case 0xdb: return this.str(view.getUint32(this.need(4)))
      case 0xc4: return this.bin(this.b[this.need(1)]!)
      case 0xc5: return this.bin(view.getUint16(this.need(2)))
      case 0xc6: return this.bin(view.getUint32(this.need(4)))
      case 0xdc: return this.array(view.getUint16(this.need(2)), depth)
      case 0xdd: return this.array(view.getUint32(this.need(4)), depth)
    }
    return fail(ErrorCode.MALFORMED, `stored record: type 0x${t.toString(16)} is not canonical`)
  }

  private array (n: number, depth: number): Value[] {
    if (depth >= MAX_DEPTH) fail(ErrorCode.MALFORMED, `arrays nested deeper than ${MAX_DEPTH}`)
    if (n > this.b.length - this.pos) fail(ErrorCode.MALFORMED, 'stored record: cut short')
    const out = new Array<Value>(n)
    for (let i = 0; i < n; i++) out[i] = this.value(depth + 1)
    return out
  }

  private str (n: number): string {
    const at = this.need(n)
    const { b } = this
    if (n <= 64) {
      // short ASCII (usernames, bucket names) is latin1, which has a native slicer; the rest is UTF-8
      let i = at
      while (i < at + n && b[i]! < 0x80) i++
      if (i === at + n) return binaryKey(b.subarray(at, at + n))
    }
    return utf8Decoder.decode(b.subarray(at, at + n))
  }

  private bin (n: number): Uint8Array {
    const at = this.need(n)
    // a plain Uint8Array copy, from a Buffer too (whose slice() is a view, and species a Buffer)
    return new Uint8Array(this.b.subarray(at, at + n))
  }
}

/*
 * What the former decoder answered for bytes that are not a canonical encoding. It ran a depth
 * walk (checkDepth), msgpackr 2.1.4's parse (useRecords false, maps as Map, 64-bit ints as
 * bigint), a pass that failed arrays nested deeper than MAX_DEPTH or any value outside the
 * canonical kinds, then a re-encode. Which of its steps failed first decided the code, and every
 * node must still report the same one (it goes back to clients and peers), so `refuse` runs the
 * same steps: checkDepth itself, then `MsgpackrReplay`, which parses as msgpackr's parse did
 * (what it throws on, where it leaves its position, and what its built-in extensions return),
 * then `checkTree`. None of it decides what is accepted: the strict reader alone does that.
 *
 * Quirks of the former decoder that this keeps (see canonical-decode-reference.test.ts):
 * - trailing bytes after a whole value are MALFORMED (msgpackr's "end of buffer not reached"),
 *   not NON_CANONICAL; so is a value cut short, a truncated map included;
 * - 0xc1 is a value to msgpackr (its C1 marker): alone it is NON_CANONICAL, followed by more it is
 *   trailing bytes (MALFORMED); an unknown extension type is MALFORMED, a known one (0x00
 *   undefined, 0x42 bigint, 0x65 error, 0x69/0x70 references, 0x73 set, 0x74 typed array, 0x78
 *   regexp, 0xff date, 0x62 string bundle, 0x72 record definition in fixext 1 and 2) is whatever
 *   msgpackr's own reader made of it: NON_CANONICAL, or MALFORMED where that reader threw;
 * - the depth walk stops at the first 0xc1 or extension: what follows may nest as deep as
 *   msgpackr's recursion went before the stack overflowed (MALFORMED), at no fixed depth (2,500 to
 *   10,500 levels when measured, by shape and from run to run); the replay stops, MALFORMED, at
 *   REPLAY_MAX_NESTING nested values, below all of those.
 * String contents are decoded as msgpackr's native extractor did (UTF-8, U+FFFD for invalid
 * bytes, U+FEFF kept); they only matter where an extension reads them (a regexp's pattern, an
 * error's name), and there msgpackr's fallbacks (a JS decoder on bytes past the end, a BOM
 * dropped past 64 bytes) are not copied.
 */

/** MALFORMED past this many values nested in the replay (a level of arrays is one, a set of an array two). */
const REPLAY_MAX_NESTING = 2000

/**
 * Throws the ChorusError the former decoder threw for `bytes` (which are not a canonical encoding
 * within MAX_DEPTH): MALFORMED where its depth walk or msgpackr's parse failed, or where arrays nest
 * too deep before anything else is wrong; NON_CANONICAL otherwise.
 */
function refuse (bytes: Uint8Array): never {
  checkDepth(bytes)
  let tree: unknown
  try {
    tree = new MsgpackrReplay(bytes).run()
  } catch (e) {
    fail(ErrorCode.MALFORMED, `not msgpack: ${e instanceof Error ? e.message.slice(0, 80) : String(e)}`)
  }
  checkTree(tree, 0)
  return fail(ErrorCode.NON_CANONICAL, 'not the canonical encoding of what it holds')
}

/** The former decoder's pass over msgpackr's result, in the same order: first failure wins. */
function checkTree (v: unknown, depth: number): void {
  if (Array.isArray(v)) {
    if (depth >= MAX_DEPTH) fail(ErrorCode.MALFORMED, `arrays nested deeper than ${MAX_DEPTH}`)
    v.forEach((x) => { checkTree(x, depth + 1) }) // skips holes, as the map it replaces did
    return
  }
  if (v === null || typeof v === 'boolean' || typeof v === 'number' || typeof v === 'bigint' ||
    typeof v === 'string' || v instanceof Uint8Array) return
  fail(ErrorCode.NON_CANONICAL, 'maps, extensions and undefined are not canonical')
}

/** msgpackr's value for 0xc1 outside a string bundle. */
class C1Type { name = 'MessagePack 0xC1' }
const C1 = new C1Type()
const ERRORS = { Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError, AggregateError }
const TYPED_ARRAYS = ['Int8', 'Uint8', 'Uint8Clamped', 'Int16', 'Uint16', 'Int32', 'Uint32', 'Float32', 'Float64', 'BigInt64', 'BigUint64'].map((t) => `${t}Array`)
/** msgpackr's built-in extension types (0x72, record definitions, only in fixext 1 and 2). */
const EXTENSIONS = new Set([0x00, 0x42, 0x62, 0x65, 0x69, 0x70, 0x73, 0x74, 0x78, 0xff])
const lenientUtf8 = new TextDecoder('utf-8', { ignoreBOM: true })
const bomDroppingUtf8 = new TextDecoder()
const endOfData = (): Error => new Error('Unexpected end of MessagePack data')

/**
 * msgpackr's `unpack` of its own reading, for classifying only: it builds the values msgpackr
 * built (Map, Set, Date, Error, RegExp, typed arrays, record objects, undefined) and throws where
 * msgpackr threw, on the same JS operations, so the code that follows is the same.
 */
class MsgpackrReplay {
  private pos = 0
  private depth = 0
  /** msgpackr's per-decode allowance for array16/32 lengths, against a small header making a large array. */
  private budget: number
  private readonly view: DataView
  private readonly structures: any[] = []
  private refs: Map<number, any> | null = null
  private bundle: any = null

  constructor (private readonly src: Uint8Array) {
    this.view = new DataView(src.buffer, src.byteOffset, src.length)
    this.budget = src.length
  }

  run (): unknown {
    const v = this.read()
    if (this.bundle !== null) this.pos = this.bundle.after
    if (this.pos !== this.src.length) throw new Error(this.pos > this.src.length ? 'Unexpected end of MessagePack data' : 'Data read, but end of buffer not reached')
    return v
  }

  private read (): any {
    if (++this.depth > REPLAY_MAX_NESTING) throw new RangeError('nested deeper than the replay follows')
    const v = this.item()
    this.depth--
    return v
  }

  private item (): any {
    const { src, view } = this
    const token = src[this.pos++]
    if (token === undefined) throw endOfData()
    if (token < 0x80) {
      if (token < 0x40) return token
      const structure = this.structures[token & 0x3f]
      return structure ? structure.read() : token
    }
    if (token < 0x90) return this.map(token - 0x80)
    if (token < 0xa0) {
      const a = new Array<unknown>(token - 0x90)
      for (let i = 0; i < a.length; i++) a[i] = this.read()
      return a
    }
    if (token < 0xc0) return this.string(token - 0xa0)
    let n: any
    switch (token) {
      case 0xc0: return null
      case 0xc1: return this.c1()
      case 0xc2: return false
      case 0xc3: return true
      case 0xc4:
        n = src[this.pos++]
        if (n === undefined) throw new Error('Unexpected end of buffer')
        return this.bin(n)
      case 0xc5:
        n = view.getUint16(this.pos)
        this.pos += 2
        if (n > src.length - this.pos) throw endOfData()
        return this.bin(n)
      case 0xc6:
        n = view.getUint32(this.pos)
        this.pos += 4
        if (n > src.length - this.pos) throw endOfData()
        return this.bin(n)
      case 0xc7: return this.ext(src[this.pos++])
      case 0xc8: n = view.getUint16(this.pos); this.pos += 2; return this.ext(n)
      case 0xc9: n = view.getUint32(this.pos); this.pos += 4; return this.ext(n)
      case 0xca: n = view.getFloat32(this.pos); this.pos += 4; return n
      case 0xcb: n = view.getFloat64(this.pos); this.pos += 8; return n
      case 0xcc: return src[this.pos++]
      case 0xcd: n = view.getUint16(this.pos); this.pos += 2; return n
      case 0xce: n = view.getUint32(this.pos); this.pos += 4; return n
      case 0xcf: n = view.getBigUint64(this.pos); this.pos += 8; return n
      case 0xd0: return view.getInt8(this.pos++)
      case 0xd1: n = view.getInt16(this.pos); this.pos += 2; return n
      case 0xd2: n = view.getInt32(this.pos); this.pos += 4; return n
      case 0xd3: n = view.getBigInt64(this.pos); this.pos += 8; return n
      case 0xd4: return this.fixext1()
      case 0xd5:
        if (src[this.pos] === 0x72) {
          this.pos++
          return this.record(src[this.pos++]! & 0x3f, src[this.pos++])
        }
        return this.ext(2)
      case 0xd6: return this.ext(4)
      case 0xd7: return this.ext(8)
      case 0xd8: return this.ext(16)
      case 0xd9: return this.string(src[this.pos++])
      case 0xda:
        n = view.getUint16(this.pos)
        this.pos += 2
        if (n > src.length - this.pos) throw endOfData()
        return this.string(n)
      case 0xdb:
        n = view.getUint32(this.pos)
        this.pos += 4
        if (n > src.length - this.pos) throw endOfData()
        return this.string(n)
      case 0xdc: n = view.getUint16(this.pos); this.pos += 2; return this.array(n)
      case 0xdd: n = view.getUint32(this.pos); this.pos += 4; return this.array(n)
      case 0xde: n = view.getUint16(this.pos); this.pos += 2; return this.map(n, true)
      case 0xdf: n = view.getUint32(this.pos); this.pos += 4; return this.map(n, true)
    }
    return token - 0x100 // 0xe0..0xff, negative fixint
  }

  /** Any string read outside a bundle: msgpackr moved on by its length, whatever the bytes. */
  private string (length: number | undefined): string {
    if (length === undefined) return '' // a str8 header at the end: msgpackr's reader stays put
    const at = this.pos
    this.pos = at + length
    return lenientUtf8.decode(this.src.subarray(at, at + length))
  }

  private bin (n: number): Uint8Array {
    const at = this.pos
    this.pos = at + n
    return this.src.subarray(at, at + n)
  }

  private array (n: number): unknown[] {
    if (n > this.src.length - this.pos || (this.budget -= n) < 0) throw endOfData()
    const a = new Array<unknown>(n)
    for (let i = 0; i < n; i++) a[i] = this.read()
    return a
  }

  private map (n: number, checked = false): Map<unknown, unknown> {
    if (checked && n > (this.src.length - this.pos) / 2) throw endOfData()
    const m = new Map()
    for (let i = 0; i < n; i++) m.set(this.read(), this.read())
    return m
  }

  private c1 (): unknown {
    if (this.bundle === null) return C1
    const value = this.read()
    const b = this.bundle
    if (value > 0) return b[1].slice(b.position1, b.position1 += value)
    return b[0].slice(b.position0, b.position0 -= value)
  }

  private fixext1 (): unknown {
    const { src } = this
    const type = src[this.pos++]
    if (type === 0x72) return this.record(src[this.pos++]! & 0x3f, undefined)
    if (type === undefined || !EXTENSIONS.has(type)) throw new Error(`Unknown extension ${type}`)
    if (type === 0) { this.pos++; return undefined } // msgpackr skips the data byte unread
    if (this.pos >= src.length) throw endOfData()
    const at = this.pos++
    return this.extension(type, src.subarray(at, this.pos))
  }

  private ext (length: any): unknown {
    if (length >= this.src.length - this.pos) throw endOfData()
    const type = this.src[this.pos++]
    if (type === undefined || !EXTENSIONS.has(type)) throw new Error(`Unknown extension type ${type}`)
    const at = this.pos
    this.pos = at + length
    return this.extension(type, this.src.subarray(at, this.pos))
  }

  /** msgpackr's built-in extensions, called as it called them: after the data, `pos` past it. */
  private extension (type: number, data: any): unknown {
    switch (type) {
      case 0x00: return undefined
      case 0x42: return bigIntExtension(data)
      case 0x62: return this.bundleExtension(data)
      case 0x65: return errorExtension(this.read())
      case 0x69: return this.idExtension()
      case 0x70: {
        const entry = (this.refs as any).get(this.view.getUint32(this.pos - 4))
        entry.used = true
        return entry.target
      }
      case 0x73: return new Set(this.read())
      case 0x74: return typedArrayExtension(data)
      case 0x78: {
        const d = this.read()
        return new RegExp(d[0], d[1])
      }
      default: return dateExtension(data) // 0xff
    }
  }

  /** 0x69, the structured-clone id: the value that follows, which 0x70 pointers inside it may refer back to. */
  private idExtension (): unknown {
    const { src } = this
    const id = this.view.getUint32(this.pos - 4)
    this.refs ??= new Map()
    const token: any = src[this.pos]
    let target: any
    if ((token >= 0x90 && token < 0xa0) || token === 0xdc || token === 0xdd) target = []
    else if ((token >= 0x80 && token < 0x90) || token === 0xde || token === 0xdf) target = new Map()
    else if (((token >= 0xc7 && token <= 0xc9) || (token >= 0xd4 && token <= 0xd8)) && src[this.pos + 1] === 0x73) target = new Set()
    else target = {}
    const entry: any = { target }
    this.refs.set(id, entry)
    const props = this.read()
    if (!entry.used) return (entry.target = props)
    Object.assign(target, props)
    if (target instanceof Map) for (const [k, v] of props.entries()) target.set(k, v)
    if (target instanceof Set) for (const i of Array.from(props)) target.add(i)
    return target
  }

  /** 0x62, a string bundle: two strings `dataSize` on, taken by later 0xc1s; the decode ends where they end. */
  private bundleExtension (data: any): unknown {
    const dataSize = (data[0] << 24) + (data[1] << 16) + (data[2] << 8) + data[3]
    const at = this.pos
    this.pos += dataSize - data.length
    const bundle: any = [this.stringInJS(), this.stringInJS()]
    bundle.position0 = 0
    bundle.position1 = 0
    bundle.after = this.pos
    this.bundle = bundle
    this.pos = at
    return this.read()
  }

  /** msgpackr's readOnlyJSString: any token below 0xc0 taken as a fixstr, its length negative if need be. */
  private stringInJS (): string {
    const { src } = this
    const token: any = src[this.pos++]
    let length: any
    if (token < 0xc0) length = token - 0xa0
    else if (token === 0xd9) length = src[this.pos++]
    else if (token === 0xda) { length = this.view.getUint16(this.pos); this.pos += 2 } else if (token === 0xdb) { length = this.view.getUint32(this.pos); this.pos += 4 } else throw new Error('Expected string')
    if (length < 16) {
      // msgpackr's shortStringInJS: ASCII, bytes past the end read as NUL; a negative length reads one byte
      if (length === 0) return ''
      const n = length < 2 ? 1 : length
      let s = ''
      for (let i = 0; i < n; i++) {
        const c = src[this.pos + i]
        if (c !== undefined && c >= 0x80) { s = ''; break }
        s += String.fromCharCode(c ?? 0)
      }
      if (s !== '') { this.pos += n; return s }
    }
    const at = this.pos
    if (length > 64) { this.pos += length; return bomDroppingUtf8.decode(src.subarray(at, this.pos)) }
    const end = at + length
    if (!(at < end)) return ''
    this.pos = end
    const have = src.subarray(at, end)
    return lenientUtf8.decode(have) + '\0'.repeat(end - at - have.length)
  }

  /** 0x72 in fixext 1 or 2: a record's keys (an array read next), then one record; later 0x40|id bytes read more. */
  private record (id: number, highByte: number | undefined): unknown {
    const structure: any = this.read().map(asSafeString)
    const firstId = id
    if (highByte !== undefined) {
      id = id < 32 ? -((highByte << 5) + id) : ((highByte << 5) + id)
      structure.highByte = highByte
    }
    this.structures[id] = structure
    const readObject = (): unknown => {
      const object: any = {}
      for (let i = 0, l = structure.length; i < l; i++) {
        const key = structure[i]
        object[key === '__proto__' ? '__proto_' : key] = this.read()
      }
      return object
    }
    structure.read = structure.highByte === 0 ? this.secondByteReader(firstId, readObject) : readObject
    return readObject()
  }

  /** A record whose id has a second byte: 0 for itself, else another record's id (or msgpackr's missing getStructures). */
  private secondByteReader (firstId: number, readObject: () => unknown): () => unknown {
    return () => {
      if (++this.depth > REPLAY_MAX_NESTING) throw new RangeError('nested deeper than the replay follows')
      const highByte: any = this.src[this.pos++]
      let v: unknown
      if (highByte === 0) v = readObject()
      else {
        const structure = this.structures[firstId < 32 ? -(firstId + (highByte << 5)) : firstId + (highByte << 5)]
        if (!structure) throw new TypeError('currentUnpackr.getStructures is not a function')
        v = structure.read()
      }
      this.depth--
      return v
    }
  }
}

function asSafeString (property: unknown): unknown {
  if (typeof property === 'string') return property
  if (typeof property === 'number' || typeof property === 'boolean' || typeof property === 'bigint') return property.toString()
  if (property === null || property === undefined) return `${property}`
  throw new Error(`Invalid property type for record: ${typeof property}`)
}

function errorExtension (data: any): unknown {
  if (data[0] === 'AggregateError') return new AggregateError(data[3] || [], data[1], { cause: data[2] })
  const errors: any = ERRORS
  if (!errors[data[0]]) {
    const error: any = Error(data[1], { cause: data[2] })
    error.name = data[0]
    return error
  }
  return errors[data[0]](data[1], { cause: data[2] })
}

function bigIntExtension (data: any): bigint {
  const headLength = (data.byteLength % 8) || 8
  let head = BigInt(data[0] & 0x80 ? data[0] - 0x100 : data[0])
  for (let i = 1; i < headLength; i++) {
    head <<= 8n
    head += BigInt(data[i])
  }
  if (data.byteLength !== headLength) {
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength)
    const decode = (start: number, end: number): bigint => {
      const length = end - start
      if (length <= 40) {
        let out = view.getBigUint64(start)
        for (let i = start + 8; i < end; i += 8) {
          out <<= 64n
          out |= view.getBigUint64(i)
        }
        return out
      }
      const middle = start + (length >> 4 << 3)
      const left = decode(start, middle)
      const right = decode(middle, end)
      return (left << BigInt((end - middle) * 8)) | right
    }
    head = (head << BigInt((view.byteLength - headLength) * 8)) | decode(headLength, view.byteLength)
  }
  return head
}

function typedArrayExtension (data: any): unknown {
  const typeCode = data[0]
  const buffer = Uint8Array.prototype.slice.call(data, 1).buffer
  const name = TYPED_ARRAYS[typeCode]
  if (name === undefined) {
    if (typeCode === 16) return buffer
    if (typeCode === 17) return new DataView(buffer)
    throw new Error(`Could not find typed array for code ${typeCode}`)
  }
  return new (globalThis as any)[name](buffer)
}

function dateExtension (data: any): Date {
  if (data.length === 4) return new Date((data[0] * 0x1000000 + (data[1] << 16) + (data[2] << 8) + data[3]) * 1000)
  if (data.length === 8) {
    return new Date(((data[0] << 22) + (data[1] << 14) + (data[2] << 6) + (data[3] >> 2)) / 1000000 +
      ((data[3] & 0x3) * 0x100000000 + data[4] * 0x1000000 + (data[5] << 16) + (data[6] << 8) + data[7]) * 1000)
  }
  if (data.length === 12) {
    return new Date(((data[0] << 24) + (data[1] << 16) + (data[2] << 8) + data[3]) / 1000000 +
      (((data[4] & 0x80) ? -0x1000000000000 : 0) + data[6] * 0x10000000000 + data[7] * 0x100000000 + data[8] * 0x1000000 + (data[9] << 16) + (data[10] << 8) + data[11]) * 1000)
  }
  return new Date('invalid')
}

/**
 * What the msgpack item at `pos` is, from its first bytes alone: a container (arrays and
 * maps, with how many items follow its `head` bytes) or a scalar of `size` bytes in all.
 * Null for what canonical bytes never hold (extensions, reserved) or a cut-off head.
 */
export function msgpackItem (b: Uint8Array, view: DataView, pos: number): { items: number, head: number } | { size: number } | null {
  const t = b[pos]!
  if (t <= 0x7f || t >= 0xe0 || t === 0xc0 || t === 0xc2 || t === 0xc3) return { size: 1 }
  if (t >= 0x90 && t <= 0x9f) return { items: t & 0x0f, head: 1 }
  if (t >= 0x80 && t <= 0x8f) return { items: (t & 0x0f) * 2, head: 1 }
  if (t >= 0xa0 && t <= 0xbf) return { size: 1 + (t & 0x1f) }
  // the rest carry a length or count after the type byte: 1, 2 or 4 bytes of it
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

/**
 * Walks the msgpack bytes without recursion and fails MALFORMED once arrays (or maps) nest
 * deeper than MAX_DEPTH: the parser never sees a structure that could exhaust the stack.
 * Anything it cannot step over is left for the parser to refuse.
 */
function checkDepth (b: Uint8Array): void {
  // remaining[i]: items still to read in the container at depth i
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
    if (item === null) return // the parser or the canonical check refuses it
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
