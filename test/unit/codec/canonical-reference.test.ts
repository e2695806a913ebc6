/**
 * The canonical writer against a reference: the plain encoder it replaced (a fresh buffer
 * per encode, every integer through a bigint, strings through TextEncoder.encode). Hashed
 * and signed bytes, and so the state root, must not change by one bit.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { encodeCanonical, type Value } from '../../../src/codec/canonical.ts'
import { value } from '../../support/arbitraries.ts'

function reference (v: Value): Uint8Array {
  const out: number[] = []
  const be = (n: bigint, bytes: number): void => { for (let i = bytes - 1; i >= 0; i--) out.push(Number((n >> BigInt(8 * i)) & 0xffn)) }
  const int = (n: bigint): void => {
    if (n >= 0n) {
      if (n < 0x80n) out.push(Number(n))
      else if (n <= 0xffn) { out.push(0xcc); be(n, 1) } else if (n <= 0xffffn) { out.push(0xcd); be(n, 2) } else if (n <= 0xffffffffn) { out.push(0xce); be(n, 4) } else { out.push(0xcf); be(n, 8) }
    } else {
      const u = (bits: number): bigint => BigInt.asUintN(bits, n)
      if (n >= -32n) out.push(Number(u(8)))
      else if (n >= -0x80n) { out.push(0xd0); be(u(8), 1) } else if (n >= -0x8000n) { out.push(0xd1); be(u(16), 2) } else if (n >= -0x80000000n) { out.push(0xd2); be(u(32), 4) } else { out.push(0xd3); be(u(64), 8) }
    }
  }
  const len = (n: number, fix: number | null, fixMax: number, b8: number | null, b16: number, b32: number): void => {
    if (fix !== null && n <= fixMax) out.push(fix | n)
    else if (b8 !== null && n <= 0xff) out.push(b8, n)
    else if (n <= 0xffff) { out.push(b16); be(BigInt(n), 2) } else { out.push(b32); be(BigInt(n), 4) }
  }
  const w = (x: Value): void => {
    if (x === null) out.push(0xc0)
    else if (x === false) out.push(0xc2)
    else if (x === true) out.push(0xc3)
    else if (typeof x === 'number' || typeof x === 'bigint') int(BigInt(x))
    else if (typeof x === 'string') { const b = new TextEncoder().encode(x); len(b.length, 0xa0, 31, 0xd9, 0xda, 0xdb); for (const c of b) out.push(c) } else if (x instanceof Uint8Array) { len(x.length, null, 0, 0xc4, 0xc5, 0xc6); for (const b of x) out.push(b) } else { len(x.length, 0x90, 15, null, 0xdc, 0xdd); for (const y of x) w(y) }
  }
  w(v)
  return Uint8Array.from(out)
}

const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(Buffer.from(b))

const edgeInts = [0, 1, 31, 32, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0xffffffff, 2 ** 32, Number.MAX_SAFE_INTEGER]
  .flatMap((n) => [n, -n, n - 1, -n - 1, n + 1]).filter((n) => Number.isSafeInteger(n))

describe('canonical writer = the reference encoder', () => {
  it('for any value', () => {
    fc.assert(fc.property(value, (v) => { expect(encodeCanonical(v)).toEqual(reference(v)) }), { numRuns: 3000 })
  })

  it('for integers at every length boundary, as number and as bigint', () => {
    for (const n of edgeInts) {
      expect(encodeCanonical(n)).toEqual(reference(n))
      expect(encodeCanonical(BigInt(n))).toEqual(reference(BigInt(n)))
    }
    for (const n of [(1n << 64n) - 1n, -(1n << 63n), (1n << 53n) + 1n, -(1n << 53n) - 1n]) expect(encodeCanonical(n)).toEqual(reference(n))
  })

  it('for strings at every header boundary, ASCII, multi-byte and lone surrogates', () => {
    const units = ['a', 'é', '€', '😀', '\ud800', '\udc00', '\u0000', '\u007f', '\u0080']
    for (const n of [0, 1, 10, 11, 30, 31, 32, 33, 85, 86, 254, 255, 256, 257, 21845, 21846, 65535, 65536, 70000]) {
      for (const u of units) {
        const s = u.repeat(Math.ceil(n / u.length)).slice(0, n)
        expect(same(encodeCanonical(s), reference(s))).toBe(true)
        expect(same(encodeCanonical(['x' + s, s + 'y', [s]]), reference(['x' + s, s + 'y', [s]]))).toBe(true)
      }
    }
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (s) => { expect(encodeCanonical(s)).toEqual(reference(s)) }), { numRuns: 2000 })
    fc.assert(fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), (s) => { expect(encodeCanonical(s)).toEqual(reference(s)) }), { numRuns: 2000 })
  })

  it('after a large encode and after a failed one: each encode starts clean', () => {
    const big = new Uint8Array(3 << 20).fill(7)
    expect(same(encodeCanonical([big, 'tail']), reference([big, 'tail']))).toBe(true)
    expect(() => encodeCanonical(['abc', 1.5 as unknown as Value])).toThrow()
    expect(encodeCanonical(['ok', 5n])).toEqual(reference(['ok', 5n]))
    const first = encodeCanonical(['kept'])
    encodeCanonical(['overwrites the scratch'])
    expect(first).toEqual(reference(['kept']))
  })
})
