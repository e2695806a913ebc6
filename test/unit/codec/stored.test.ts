/**
 * The trusted decode of the node's own records (`decodeStored`) against the wire's
 * (`decodeCanonical`): it refuses nothing the checked one accepts, and reads it as the same
 * value, number or bigint alike.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeCanonical, decodeStored, encodeCanonical } from '../../../src/codec/canonical.ts'
import { ChorusError, ErrorCode } from '../../../src/protocol/errors.ts'
import { value } from '../../support/arbitraries.ts'

const LIMIT = 1 << 20

describe('decodeStored (trusted: the node\'s own store)', () => {
  it('reads every canonical encoding as decodeCanonical does', () => {
    fc.assert(fc.property(value, (v) => {
      const b = encodeCanonical(v)
      expect(decodeStored(b)).toEqual(decodeCanonical(b, LIMIT))
    }), { numRuns: 3000 })
  })

  it('keeps a leading U+FEFF, short and long (TextDecoder drops it by default: a stored post re-encoded on a like lost it)', () => {
    for (const s of ['\ufeff', '\ufeffhi', '\ufeff' + 'x'.repeat(100), ['\ufeffé', 'z']]) {
      const b = encodeCanonical(s)
      expect(decodeStored(b)).toEqual(s)
      expect(encodeCanonical(decodeStored(b))).toEqual(b)
    }
  })

  it('accepts whatever decodeCanonical accepts among random bytes, as the same value', () => {
    let accepted = 0
    fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 40 }), (b) => {
      let checked
      try { checked = decodeCanonical(b, LIMIT) } catch { return }
      accepted++
      expect(decodeStored(b)).toEqual(checked)
    }), { numRuns: 20_000 })
    expect(accepted).toBeGreaterThan(100)
  })

  it('reads bytes inside a larger buffer, and hands back bin the caller owns (a plain copy, from a Buffer too)', () => {
    const fromBuffer = decodeStored(Buffer.from(encodeCanonical([new Uint8Array([7])]))) as [Uint8Array]
    expect(fromBuffer[0].constructor).toBe(Uint8Array)
    const inner = encodeCanonical([new Uint8Array([1, 2, 3]), 'hé', 300, 1n << 60n])
    const outer = new Uint8Array(inner.length + 10)
    outer.set(inner, 5)
    const v = decodeStored(outer.subarray(5, 5 + inner.length)) as [Uint8Array, string, number, bigint]
    expect(v).toEqual(decodeCanonical(inner, LIMIT))
    v[0][0] = 99
    expect(outer[5 + 3]).toBe(1)
  })

  it('still fails MALFORMED on a corrupt record: cut short, trailing bytes, maps, floats', () => {
    const code = (b: Uint8Array): string | undefined => { try { decodeStored(b) } catch (e) { return (e as ChorusError).code } }
    const ok = encodeCanonical([1, 'abc', new Uint8Array(4)])
    for (let n = 0; n < ok.length; n++) expect(code(ok.subarray(0, n))).toBe(ErrorCode.MALFORMED)
    expect(code(Uint8Array.from([...ok, 0]))).toBe(ErrorCode.MALFORMED)
    expect(code(Uint8Array.from([0x81, 0x01, 0x02]))).toBe(ErrorCode.MALFORMED)
    expect(code(Uint8Array.from([0xcb, 0, 0, 0, 0, 0, 0, 0, 0]))).toBe(ErrorCode.MALFORMED)
    expect(code(Uint8Array.from([0xdd, 0xff, 0xff, 0xff, 0xff]))).toBe(ErrorCode.MALFORMED)
    expect(() => decodeStored(new Uint8Array(0))).toThrow(ChorusError)
  })
})
