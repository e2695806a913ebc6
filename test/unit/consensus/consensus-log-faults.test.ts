/**
 * The consensus log after a failed write: half a frame may be on the disk (ENOSPC), and the
 * retry must cut it away and write again, so that the log reads back whole and the guard holds.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { fileConsensusLog } from '../../../src/consensus/consensus-log.ts'
import { SignState } from '../../../src/consensus/sign-state.ts'
import { unframe } from '../../../src/consensus/wal.ts'
import { generateSecretKey } from '../../../src/crypto/keys.ts'

const faults = vi.hoisted(() => ({ path: '', tornWrites: 0 }))
vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs/promises')>()
  const open = async (...args: Parameters<typeof fs.open>) => {
    const fh = await fs.open(...args)
    if (faults.path === '' || String(args[0]) !== faults.path) return fh
    return new Proxy(fh, {
      get (target, prop) {
        if (prop === 'writeFile') {
          return async (data: Uint8Array) => {
            if (faults.tornWrites > 0) {
              faults.tornWrites--
              await target.write(data.subarray(0, data.length >> 1))
              throw Object.assign(new Error('ENOSPC: injected'), { code: 'ENOSPC' })
            }
            return await target.writeFile(data)
          }
        }
        const v = Reflect.get(target, prop) as unknown
        return typeof v === 'function' ? v.bind(target) : v
      }
    })
  }
  return { ...fs, default: { ...fs, open }, open }
})

let dir: string
beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'chorus-clog-faults-')) })
afterEach(async () => {
  faults.path = ''
  faults.tornWrites = 0
  await rm(dir, { recursive: true, force: true })
})

describe('consensus log after a torn write', () => {
  it('cuts the torn bytes and writes again on the retry: nothing doubled, nothing lost', async () => {
    const walPath = join(dir, 'consensus.wal')
    faults.path = walPath
    const secret = generateSecretKey()
    const log = fileConsensusLog(walPath, join(dir, 'sign-state.json'))
    const s = await SignState.load(log.signStore, secret)
    await log.wal.open()
    await log.wal.reset({ kind: 'height', height: 2, round: 0 })
    await log.wal.append({ kind: 'vote', vote: new Uint8Array(50).fill(1) })
    await s.sign('vote', 'prevote', 2, 0, Uint8Array.of(1))
    await log.wal.append({ kind: 'vote', vote: new Uint8Array(50).fill(2) })
    faults.tornWrites = 1
    await expect(s.sign('vote', 'precommit', 2, 0, Uint8Array.of(2))).rejects.toMatchObject({ code: 'ENOSPC' })
    expect(s.lastSigned).toEqual({ height: 2, round: 0, step: 2 }) // not remembered: nothing may leave
    const sig = await s.sign('vote', 'precommit', 2, 0, Uint8Array.of(2)) // the driver's retry
    await log.wal.close()

    const records = unframe(await readFile(walPath)).records
    expect(records.map((r) => r.kind)).toEqual(['height', 'vote', 'signed', 'vote', 'signed'])
    const again = fileConsensusLog(walPath, join(dir, 'sign-state.json'))
    const reloaded = await SignState.load(again.signStore, secret)
    expect(reloaded.lastSigned).toEqual({ height: 2, round: 0, step: 3 })
    expect(await reloaded.sign('vote', 'precommit', 2, 0, Uint8Array.of(2))).toEqual(sig)
    expect(await again.wal.open()).toHaveLength(3)
  })
})
