import { describe, expect, it } from 'vitest'
import { concatBytes, heightIndexKey, readU32be, readU64be, u32be, u64be } from '../../../src/crypto/bytes.ts'

/** What DataView writes and reads: the reference the byte-by-byte versions must match. */
const viaDataView = {
  u64be: (n: number | bigint): Uint8Array => { const o = new Uint8Array(8); new DataView(o.buffer).setBigUint64(0, BigInt(n)); return o },
  u32be: (n: number): Uint8Array => { const o = new Uint8Array(4); new DataView(o.buffer).setUint32(0, n); return o },
  readU64be: (b: Uint8Array, at: number): number => Number(new DataView(b.buffer, b.byteOffset + at, 8).getBigUint64(0))
}

describe('big-endian integers', () => {
  const u64s = [0, 1, 255, 256, 0xffff_ffff, 0x1_0000_0000, 2 ** 40 + 7, Number.MAX_SAFE_INTEGER, 2n ** 64n - 1n, 2n ** 63n + 12345n]
  const u32s = [0, 1, 0x7f, 0x80, 0xff_ff, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff]

  it('write and read as DataView does, at any offset', () => {
    for (const n of u64s) {
      expect(u64be(n)).toEqual(viaDataView.u64be(n))
      const padded = new Uint8Array([9, 9, 9, ...u64be(n)])
      expect(readU64be(padded, 3)).toBe(viaDataView.readU64be(padded, 3))
      expect(readU64be(padded.subarray(1), 2)).toBe(viaDataView.readU64be(padded.subarray(1), 2))
    }
    for (const n of u32s) {
      expect(u32be(n)).toEqual(viaDataView.u32be(n))
      expect(readU32be(new Uint8Array([7, ...u32be(n)]), 1)).toBe(n)
    }
    for (let i = 0; i < 2000; i++) {
      const n = Math.floor(Math.random() * Number.MAX_SAFE_INTEGER)
      expect(readU64be(u64be(n))).toBe(n)
      expect(u64be(n)).toEqual(viaDataView.u64be(n))
    }
  })

  it('keep DataView\'s answers off the fast path: wrap-around, and range errors for reads past the end', () => {
    expect(u32be(2 ** 32 + 5)).toEqual(viaDataView.u32be(2 ** 32 + 5))
    expect(u32be(-1)).toEqual(viaDataView.u32be(-1))
    expect(() => u64be(1.5)).toThrow(RangeError)
    expect(() => readU64be(new Uint8Array(7))).toThrow(RangeError)
    expect(() => readU32be(new Uint8Array(8), 5)).toThrow(RangeError)
  })
})

describe('heightIndexKey', () => {
  it('is prefix ‖ u64be(height) ‖ u32be(index), in range and out of it (where u64be and u32be decide)', () => {
    const prefixes = [new Uint8Array(0), Uint8Array.of(7), new Uint8Array(32).fill(0xab)]
    const heights = [0, 1, 255, 0xffff_ffff, 0x1_0000_0000, 2 ** 40 + 3, Number.MAX_SAFE_INTEGER]
    const indices = [0, 1, 0x7f, 0xffff, 0xffff_ffff]
    for (const p of prefixes) for (const h of heights) for (const i of indices) expect(heightIndexKey(p, h, i)).toEqual(concatBytes(p, u64be(h), u32be(i)))
    for (const [h, i] of [[-1, 0], [1.5, 0], [0, -1], [0, 2 ** 32], [0, 0.5]] as const) {
      let want: unknown
      try { want = concatBytes(Uint8Array.of(1), u64be(h), u32be(i)) } catch (e) { want = (e as Error).constructor }
      let got: unknown
      try { got = heightIndexKey(Uint8Array.of(1), h, i) } catch (e) { got = (e as Error).constructor }
      expect(got).toEqual(want)
    }
  })
})
