import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type WalRecord, encodeWalRecord, fileWal, frame, unframe } from '../../../src/consensus/wal.ts'

let dir: string
beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'chorus-wal-')) })
afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

const records: WalRecord[] = [
  { kind: 'height', height: 7, round: 0 },
  { kind: 'vote', vote: Uint8Array.from([1, 2, 3]) },
  { kind: 'proposal', proposal: new Uint8Array(80).fill(4), block: new Uint8Array(300).fill(5) },
  { kind: 'built', height: 7, round: 1, block: new Uint8Array(40).fill(6) },
  { kind: 'timeout', step: 'prevote', height: 7, round: 1 }
]
const bytesOf = (rs: WalRecord[]) => Buffer.concat(rs.map((r) => frame(encodeWalRecord(r))))

describe('consensus WAL', () => {
  it('reads back what was written, and drops a torn or corrupt tail at any point', () => {
    const all = bytesOf(records)
    expect(unframe(all).records).toEqual(records)
    const ends: number[] = []
    let pos = 0
    for (const r of records) { pos += frame(encodeWalRecord(r)).length; ends.push(pos) }
    fc.assert(fc.property(fc.integer({ min: 0, max: all.length }), (cut) => {
      const { records: got, goodLength } = unframe(all.subarray(0, cut))
      const whole = ends.filter((e) => e <= cut).length
      expect(got).toEqual(records.slice(0, whole))
      expect(goodLength).toBe(whole === 0 ? 0 : ends[whole - 1])
    }))
    fc.assert(fc.property(fc.integer({ min: 0, max: all.length - 1 }), fc.integer({ min: 1, max: 255 }), (at, flip) => {
      const bad = Buffer.from(all)
      bad[at]! ^= flip
      const { records: got } = unframe(bad)
      // never a record that was not written: only an intact prefix survives
      expect(records.slice(0, got.length)).toEqual(got)
      expect(got.length).toBeLessThan(records.length)
    }))
  })

  it('cuts the file back to its last good record on open, and carries on appending', async () => {
    const path = join(dir, 'consensus.wal')
    const wal = fileWal(path)
    await wal.reset(records[0]!)
    for (const r of records.slice(1)) await wal.append(r)
    await wal.sync()
    await wal.close()
    const full = await readFile(path)
    await writeFile(path, Buffer.concat([full.subarray(0, full.length - 7)])) // a torn last write
    const again = fileWal(path)
    expect(await again.open()).toEqual(records.slice(0, -1))
    expect((await stat(path)).size).toBe(full.length - frame(encodeWalRecord(records.at(-1)!)).length)
    await again.append(records.at(-1)!)
    await again.sync()
    await again.close()
    expect(await fileWal(path).open()).toEqual(records)
  })
})
