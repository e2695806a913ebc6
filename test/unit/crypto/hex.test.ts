import v8 from 'node:v8'
import vm from 'node:vm'
import { describe, expect, it } from 'vitest'
import { parseHex, toHex } from '../../../src/crypto/bytes.ts'

describe('toHex', () => {
  it('is lowercase hex that parseHex reads back', () => {
    expect(toHex(new Uint8Array([0, 1, 0x0f, 0x10, 0xab, 0xff]))).toBe('00010f10abff')
    expect(toHex(new Uint8Array(0))).toBe('')
    const b = crypto.getRandomValues(new Uint8Array(257))
    expect(parseHex(toHex(b))).toEqual(b)
    expect(toHex(b.subarray(5, 9))).toBe(Buffer.from(b.subarray(5, 9)).toString('hex'))
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
