import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MAX_DEPTH, decodeCanonical, encodeCanonical, type Value } from '../../../src/codec/canonical.ts'
import { ChorusError, ErrorCode } from '../../../src/protocol/errors.ts'
import { value } from '../../support/arbitraries.ts'

const LIMIT = 1 << 20
const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s/g, ''), 'hex'))

/** Integers compare by value whether they came back as number or bigint. */
function same (a: Value, b: Value): boolean {
  if ((typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint')) return BigInt(a) === BigInt(b)
  if (a instanceof Uint8Array && b instanceof Uint8Array) return Buffer.from(a).equals(Buffer.from(b))
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => same(x, b[i]!))
  return a === b
}

function codeOf (f: () => unknown): string | undefined {
  try { f() } catch (e) {
    if (e instanceof ChorusError) return e.code
    throw e // anything but a typed error is a bug
  }
  return undefined
}

describe('canonical msgpack', () => {
  it('decode(encode(x)) = x for any value', () => {
    fc.assert(fc.property(value, (v) => {
      expect(same(decodeCanonical(encodeCanonical(v), LIMIT), v)).toBe(true)
    }), { numRuns: 2000 })
  })

  it('encodes integers minimally whether number or bigint', () => {
    expect(encodeCanonical(5)).toEqual(encodeCanonical(5n))
    expect(encodeCanonical(2n ** 40n)).toEqual(encodeCanonical(2 ** 40))
    expect(encodeCanonical(200)).toEqual(hex('cc c8'))
    expect(encodeCanonical(-1)).toEqual(hex('ff'))
    expect(encodeCanonical(-33)).toEqual(hex('d0 df'))
    expect(encodeCanonical((1n << 64n) - 1n)).toEqual(hex('cf ffffffffffffffff'))
  })

  it.each([
    ['non-minimal uint8', 'cc 05'],
    ['non-minimal uint16', 'cd 0005'],
    ['non-minimal uint64', 'cf 0000000000000005'],
    ['non-minimal int8', 'd0 05'],
    ['float64', 'cb 3ff0000000000000'],
    ['float32', 'ca 3f800000'],
    ['map', '81 01 02'],
    ['str8 for a short string', 'd9 01 61'],
    ['bin16 for short bytes', 'c5 0001 61'],
    ['array16 for a short array', 'dc 0001 01'],
    ['ext', 'd4 01 00'],
    ['trailing bytes', '01 02'],
    ['invalid utf-8', 'a2 c3 28']
  ])('rejects %s', (_name, input) => {
    const code = codeOf(() => decodeCanonical(hex(input), LIMIT))
    expect([ErrorCode.NON_CANONICAL, ErrorCode.MALFORMED]).toContain(code)
  })

  it('rejects every truncation of a valid encoding with a typed error', () => {
    fc.assert(fc.property(value, fc.nat(), (v, cut) => {
      const bytes = encodeCanonical(v)
      if (bytes.length < 2) return
      const n = cut % (bytes.length - 1) + 1
      const code = codeOf(() => decodeCanonical(bytes.subarray(0, bytes.length - n), LIMIT))
      // a strict prefix can only be a valid encoding of something else if the tail was a whole value: never, for one root
      expect(code).toBeDefined()
    }), { numRuns: 1000 })
  })

  it('rejects oversized input before parsing it', () => {
    expect(codeOf(() => decodeCanonical(new Uint8Array(101), 100))).toBe(ErrorCode.TOO_LARGE)
  })

  it('never crashes on random bytes: a typed error, or a value that re-encodes to the input', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
      try {
        const v = decodeCanonical(b, LIMIT)
        expect(Buffer.from(encodeCanonical(v)).equals(Buffer.from(b))).toBe(true)
      } catch (e) {
        expect(e).toBeInstanceOf(ChorusError)
      }
    }), { numRuns: 5000 })
  })
})

describe('nesting', () => {
  const nested = (depth: number, inner: Value = 1): Value => {
    let v: Value = inner
    for (let i = 0; i < depth; i++) v = [v]
    return v
  }
  // depth n as bytes: n fixarray-of-one headers, then the innermost value (built directly: the encoder refuses it too)
  const nestedBytes = (depth: number, header = 0x91): Uint8Array => Uint8Array.from([...Array<number>(depth).fill(header), 0x01])

  it('decodes arrays nested as deep as the limit allows', () => {
    expect(same(decodeCanonical(encodeCanonical(nested(MAX_DEPTH)), LIMIT), nested(MAX_DEPTH))).toBe(true)
  })

  it('refuses deeper nesting with MALFORMED, before any parser recurses: arrays, maps, and a few KB holding thousands of levels', () => {
    expect(codeOf(() => decodeCanonical(nestedBytes(MAX_DEPTH + 1), LIMIT))).toBe(ErrorCode.MALFORMED)
    expect(codeOf(() => decodeCanonical(nestedBytes(8_000), LIMIT))).toBe(ErrorCode.MALFORMED)
    expect(codeOf(() => decodeCanonical(nestedBytes(100_000, 0xdc), LIMIT))).not.toBeUndefined()
    const maps = Uint8Array.from([...Array<number>(5_000).fill(0x81).flatMap((m) => [m, 0x01]), 0x01])
    expect(codeOf(() => decodeCanonical(maps, LIMIT))).toBe(ErrorCode.MALFORMED)
    expect(codeOf(() => encodeCanonical(nested(MAX_DEPTH + 1)))).toBe(ErrorCode.MALFORMED)
  })
})
