import v8 from 'node:v8'
import vm from 'node:vm'
import { describe, expect, it } from 'vitest'
import { binaryKey, parseHex, toHex } from '../../../src/crypto/bytes.ts'

describe('toHex', () => {
  it('is lowercase hex that parseHex reads back', () => {
    expect(toHex(new Uint8Array([0, 1, 0x0f, 0x10, 0xab, 0xff]))).toBe('00010f10abff')
    expect(toHex(new Uint8Array(0))).toBe('')
    const b = crypto.getRandomValues(new Uint8Array(257))
    expect(parseHex(toHex(b))).toEqual(b)
    expect(toHex(b.subarray(5, 9))).toBe(Buffer.from(b.subarray(5, 9)).toString('hex'))
  })

  it('gives every byte value the same digits as Buffer, at any offset into a larger buffer', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i)
    expect(toHex(all)).toBe(Buffer.from(all).toString('hex'))
    const big = crypto.getRandomValues(new Uint8Array(1000))
    for (const [s, e] of [[0, 0], [1, 33], [999, 1000], [17, 900]] as const) expect(toHex(big.subarray(s, e))).toBe(Buffer.from(big.subarray(s, e)).toString('hex'))
  })

  it('returns a flat string: a kept 32-byte key costs ~100 B of heap, not a 2 KiB chain of cons strings', () => {
    v8.setFlagsFromString('--expose-gc')
    const gc = vm.runInNewContext('gc') as () => void
    const keys = Array.from({ length: 20_000 }, () => crypto.getRandomValues(new Uint8Array(32)))
    const kept: string[] = new Array(keys.length)
    gc(); gc()
    const before = process.memoryUsage().heapUsed
    for (const [i, k] of keys.entries()) kept[i] = toHex(k)
    gc(); gc()
    const perKey = (process.memoryUsage().heapUsed - before) / keys.length
    expect(kept[0]).toHaveLength(64)
    // a flat 64-char string is ~80 B; built by += it is 63 cons strings of 32 B
    expect(perKey).toBeLessThan(400)
  })
})

describe('parseHex', () => {
  /** The rule, as a regex: what the native decoder must agree with. */
  const reference = (s: string): Uint8Array | null => {
    const h = s.startsWith('0x') ? s.slice(2) : s
    return /^([0-9a-fA-F]{2})*$/.test(h) ? Uint8Array.from(Buffer.from(h, 'hex')) : null
  }

  it('accepts exactly an even run of hex digits (either case, optional 0x), as the regex rule does', () => {
    const alphabet = '0123456789abcdefABCDEFgGxX \u00ff\u0100-'
    let seed = 7
    const next = (n: number): number => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n }
    const cases = ['', '0x', '00', '0x00', '0X00', 'ff', 'FF', 'fF0a', 'abc', '0g', 'g0', '0x0x00', ' 00', '00 ', '1\u00ff', '\u0130\u0130']
    for (let i = 0; i < 4000; i++) {
      // mostly valid hex with the odd stray character, so both answers are common
      const len = next(12)
      let s = next(4) === 0 ? '0x' : ''
      for (let j = 0; j < len; j++) s += next(10) === 0 ? alphabet[next(alphabet.length)] : '0123456789abcdefABCDEF'[next(22)]
      cases.push(s)
    }
    let valid = 0
    for (const s of cases) {
      const want = reference(s)
      expect(parseHex(s), JSON.stringify(s)).toEqual(want)
      if (want !== null) valid++
    }
    expect(valid).toBeGreaterThan(500)
    expect(valid).toBeLessThan(cases.length - 500)
  })

  it('returns a Uint8Array of its own, not a slice of a shared pool', () => {
    const b = parseHex('ab'.repeat(100))!
    expect(b.byteLength).toBe(100)
    expect(b.buffer.byteLength).toBe(100)
  })
})

describe('binaryKey', () => {
  it('is one char per byte, and equal only for equal bytes', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i)
    const k = binaryKey(all)
    expect(k).toHaveLength(256)
    for (let i = 0; i < 256; i++) expect(k.charCodeAt(i)).toBe(i)
    expect(binaryKey(all.subarray(3, 7))).toBe(binaryKey(Uint8Array.from([3, 4, 5, 6])))
    expect(binaryKey(Uint8Array.from([1, 0]))).not.toBe(binaryKey(Uint8Array.from([1])))
  })
})
