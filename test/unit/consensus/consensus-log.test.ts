import { copyFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { fileConsensusLog, guardOfLog, damagedBeforeEnd, laterGuard } from '../../../src/consensus/consensus-log.ts'
import { SignState, fileSignStore } from '../../../src/consensus/sign-state.ts'
import { type WalRecord, encodeWalRecord, fileWal, frame, unframe } from '../../../src/consensus/wal.ts'
import { generateSecretKey } from '../../../src/crypto/keys.ts'

let dir: string
let walPath: string
let signPath: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chorus-clog-'))
  walPath = join(dir, 'consensus.wal')
  signPath = join(dir, 'sign-state.json')
})
afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

const secret = generateSecretKey()
const vote = (n: number) => new Uint8Array(40).fill(n)
const inputs: WalRecord[] = [
  { kind: 'proposal', proposal: new Uint8Array(80).fill(4), block: new Uint8Array(300).fill(5) },
  { kind: 'vote', vote: vote(1) },
  { kind: 'timeout', step: 'prevote', height: 7, round: 0 }
]

async function openLog (opts: { compactBytes?: number } = {}) {
  const log = fileConsensusLog(walPath, signPath, opts)
  const signState = await SignState.load(log.signStore, secret)
  const records = await log.wal.open()
  return { log, signState, records }
}

describe('consensus log (WAL and sign state in one file)', () => {
  it('brings back the guard and the height\'s inputs after a restart, with one file for both', async () => {
    const { log, signState } = await openLog()
    await log.wal.reset({ kind: 'height', height: 7, round: 0 })
    for (const r of inputs) await log.wal.append(r)
    const pv = await signState.sign('vote', 'prevote', 7, 0, vote(10))
    await log.wal.append({ kind: 'vote', vote: vote(2) })
    await signState.sign('vote', 'precommit', 7, 0, vote(11))
    await log.wal.close()

    const again = await openLog()
    expect(again.records).toEqual([{ kind: 'height', height: 7, round: 0 }, ...inputs, { kind: 'vote', vote: vote(2) }])
    expect(again.signState.lastSigned).toEqual({ height: 7, round: 0, step: 3 })
    expect(await again.signState.sign('vote', 'prevote', 7, 0, vote(10))).toEqual(pv) // identical: the same signature
    await expect(again.signState.sign('vote', 'prevote', 7, 0, vote(12))).rejects.toMatchObject({ code: 'UNAVAILABLE' })
    await expect(again.signState.sign('vote', 'precommit', 6, 3, vote(12))).rejects.toMatchObject({ code: 'UNAVAILABLE' })
    // the first signature of a home wrote the checkpoint too, in the format sign-state.ts has always used
    expect(JSON.parse(await readFile(signPath, 'utf8'))).toMatchObject({ height: 7, entries: [{ round: 0, step: 2 }] })
  })

  it('keeps every returned signature in the guard whatever tail a crash tears off after it', async () => {
    const { log, signState } = await openLog()
    await log.wal.reset({ kind: 'height', height: 3, round: 0 })
    const marks: Array<{ bytes: number, last: { height: number, round: number, step: number } }> = []
    for (let h = 3; h < 6; h++) {
      if (h > 3) await log.wal.reset({ kind: 'height', height: h, round: 0 })
      for (const r of inputs) await log.wal.append(r)
      await signState.sign('proposal', 'proposal', h, 0, vote(h))
      marks.push({ bytes: (await stat(walPath)).size, last: signState.lastSigned! })
      await log.wal.append({ kind: 'vote', vote: vote(h) })
      await signState.sign('vote', 'prevote', h, 0, vote(h + 20))
      marks.push({ bytes: (await stat(walPath)).size, last: signState.lastSigned! })
    }
    await log.wal.close()
    const full = await readFile(walPath)
    const checkpoint = await fileSignStore(signPath).load()
    await fc.assert(fc.asyncProperty(fc.integer({ min: 0, max: full.length }), fc.integer({ min: 0, max: 255 }), async (cut, junk) => {
      // what reached the disk: any prefix, then perhaps garbage where a write was torn
      const torn = Buffer.concat([full.subarray(0, cut), Buffer.alloc(cut < full.length ? 3 : 0, junk)])
      const records = unframe(torn).records
      const guard = laterGuard(checkpoint, guardOfLog(records))!
      const owed = marks.filter((m) => m.bytes <= cut).at(-1)?.last
      if (owed === undefined) return
      // the guard is at or past the last signature whose save had returned
      expect(guard.height > owed.height || (guard.height === owed.height && guard.entries.some((e) => e.round === owed.round && e.step === owed.step))).toBe(true)
    }), { numRuns: 200 })
    // and the file itself reopens at every cut: the torn tail is cut away, never trusted
    for (const cut of [full.length - 1, full.length - 9, marks[2]!.bytes + 5]) {
      await writeFile(walPath, full.subarray(0, cut))
      const reopened = await openLog()
      expect(reopened.signState.lastSigned!.height).toBeGreaterThanOrEqual(4)
      expect((await stat(walPath)).size).toBeLessThanOrEqual(cut)
      await reopened.log.wal.close()
    }
  })

  it('compacts past its size: the checkpoint first, then an empty log; a crash between the two loses nothing', async () => {
    const { log, signState } = await openLog({ compactBytes: 600 })
    await log.wal.reset({ kind: 'height', height: 1, round: 0 })
    for (const r of inputs) await log.wal.append(r)
    await signState.sign('vote', 'prevote', 1, 0, vote(1))
    await signState.sign('vote', 'precommit', 1, 0, vote(2))
    expect((await stat(walPath)).size).toBeGreaterThan(600)
    // the state of the disk had the process died after the checkpoint, before the log was emptied
    const oldLog = await readFile(walPath)
    await log.wal.reset({ kind: 'height', height: 2, round: 0 })
    expect(unframe(await readFile(walPath)).records).toEqual([{ kind: 'height', height: 2, round: 0 }])
    expect(JSON.parse(await readFile(signPath, 'utf8'))).toMatchObject({ height: 1, entries: [{ step: 2 }, { step: 3 }] })
    await log.wal.close()

    for (const walBytes of [oldLog, new Uint8Array(0), oldLog.subarray(0, 5)]) {
      await writeFile(walPath, walBytes)
      const again = await openLog()
      expect(again.signState.lastSigned).toEqual({ height: 1, round: 0, step: 3 })
      await expect(again.signState.sign('vote', 'precommit', 1, 0, vote(3))).rejects.toMatchObject({ code: 'UNAVAILABLE' })
      await again.log.wal.close()
    }
  })

  it('loads a home from before it (sign-state.json and a WAL of the current height) and carries on in it', async () => {
    // the old scheme: a two-file validator, stopped at height 9 after its prevote
    const old = await SignState.load(fileSignStore(signPath), secret)
    const oldWal = fileWal(walPath)
    await oldWal.reset({ kind: 'height', height: 9, round: 0 })
    for (const r of inputs) await oldWal.append(r)
    await oldWal.sync()
    const pv = await old.sign('vote', 'prevote', 9, 0, vote(9))
    await oldWal.close()

    const { log, signState, records } = await openLog()
    expect(records).toEqual([{ kind: 'height', height: 9, round: 0 }, ...inputs])
    expect(signState.lastSigned).toEqual({ height: 9, round: 0, step: 2 })
    expect(await signState.sign('vote', 'prevote', 9, 0, vote(9))).toEqual(pv)
    await expect(signState.sign('vote', 'prevote', 9, 0, vote(8))).rejects.toMatchObject({ code: 'UNAVAILABLE' })
    await signState.sign('vote', 'precommit', 9, 0, vote(9))
    await log.wal.close()
    const again = await openLog()
    expect(again.signState.lastSigned).toEqual({ height: 9, round: 0, step: 3 })
    expect(again.records).toEqual([{ kind: 'height', height: 9, round: 0 }, ...inputs])
    await again.log.wal.close()
  })

  it('refuses to start blind on a damaged checkpoint, and drops only a height\'s unsigned inputs when its marker is lost', async () => {
    const { log, signState } = await openLog()
    await log.wal.reset({ kind: 'height', height: 4, round: 0 })
    await signState.sign('vote', 'prevote', 4, 0, vote(4))
    // the next height's marker and inputs, never synced: a crash loses them, and the guard is the one of height 4
    await log.wal.reset({ kind: 'height', height: 5, round: 0 })
    await log.wal.append({ kind: 'vote', vote: vote(5) })
    await log.wal.close()
    const again = await openLog()
    expect(again.records).toEqual([{ kind: 'height', height: 4, round: 0 }])
    expect(again.signState.lastSigned).toEqual({ height: 4, round: 0, step: 2 })
    await again.log.wal.close()
    await copyFile(signPath, `${signPath}.bak`)
    await writeFile(signPath, '{torn')
    await expect(openLog()).rejects.toMatchObject({ code: 'UNAVAILABLE' })
  })

  it('refuses to start when the log is damaged before its end or gone while a checkpoint says something was signed', async () => {
    const { log, signState } = await openLog()
    await log.wal.reset({ kind: 'height', height: 4, round: 0 })
    for (const r of inputs) await log.wal.append(r)
    await signState.sign('vote', 'prevote', 4, 0, vote(4))
    await log.wal.append({ kind: 'vote', vote: vote(5) })
    await signState.sign('vote', 'precommit', 4, 0, vote(5))
    await log.wal.close()
    const full = await readFile(walPath)
    // a flipped byte in the first record: the frames after it are intact, so this is damage, not a torn last write
    const bad = Buffer.from(full)
    bad[12]! ^= 0xff
    await writeFile(walPath, bad)
    await expect(openLog()).rejects.toMatchObject({ code: 'UNAVAILABLE' })
    // a torn last write whose later bytes reached the disk and earlier ones did not: a crash, not damage
    const lastVote = frame(encodeWalRecord({ kind: 'vote', vote: vote(5) })).length
    const lastSigned = full.length - unframe(full).records.filter((r) => r.kind === 'signed').map((r) => frame(encodeWalRecord(r)).length).at(-1)!
    const torn = Buffer.from(full)
    torn[lastSigned - lastVote + 10]! ^= 0xff
    expect(damagedBeforeEnd(torn, lastSigned - lastVote)).toBe(false)
    await writeFile(walPath, torn)
    const after = await openLog()
    expect(after.signState.lastSigned).toEqual({ height: 4, round: 0, step: 2 }) // that write never returned: its signature never left
    await after.log.wal.close()
    await rm(walPath)
    await expect(openLog()).rejects.toMatchObject({ code: 'UNAVAILABLE' })
  })

  it('encodes the signed record canonically, and a log of one is read by the frame reader', () => {
    const r: WalRecord = { kind: 'signed', height: 2, round: 1, step: 3, signBytes: vote(1), signature: new Uint8Array(64).fill(9) }
    expect(unframe(frame(encodeWalRecord(r))).records).toEqual([r])
  })
})
