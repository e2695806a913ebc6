import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { SignState, fileSignStore } from '../../../src/consensus/sign-state.ts'
import { generateSecretKey } from '../../../src/crypto/keys.ts'

let dir: string
beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'chorus-sign-')) })
afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

describe('sign state (double-sign guard)', () => {
  it('refuses to step back or to sign something else at the same step, across restarts', async () => {
    const secret = generateSecretKey()
    const path = join(dir, 'sign-state.json')
    const s = await SignState.load(fileSignStore(path), secret)
    const a = Uint8Array.of(1, 2, 3)
    const sigA = await s.sign('vote', 'prevote', 5, 0, a)
    // the identical message again gets the identical signature
    expect(await s.sign('vote', 'prevote', 5, 0, a)).toEqual(sigA)
    await expect(s.sign('vote', 'prevote', 5, 0, Uint8Array.of(9))).rejects.toMatchObject({ code: 'UNAVAILABLE' })
    await s.sign('vote', 'precommit', 5, 0, a)
    expect(await s.sign('vote', 'prevote', 5, 0, a)).toEqual(sigA) // identical: the same signature
    await expect(s.sign('vote', 'prevote', 5, 0, Uint8Array.of(8))).rejects.toMatchObject({ code: 'UNAVAILABLE' })
    await expect(s.sign('proposal', 'proposal', 5, 0, a)).rejects.toMatchObject({ code: 'UNAVAILABLE' }) // a step back
    await expect(s.sign('vote', 'precommit', 4, 9, a)).rejects.toMatchObject({ code: 'UNAVAILABLE' })

    const reloaded = await SignState.load(fileSignStore(path), secret)
    expect(reloaded.lastSigned).toEqual({ height: 5, round: 0, step: 3 })
    await expect(reloaded.sign('vote', 'precommit', 5, 0, Uint8Array.of(7))).rejects.toMatchObject({ code: 'UNAVAILABLE' })
    // after a restart, the identical earlier message is re-signed identically (a WAL replay re-sends it)
    expect(await reloaded.sign('vote', 'prevote', 5, 0, a)).toEqual(sigA)
    await reloaded.sign('proposal', 'proposal', 5, 1, a)
    expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject({ height: 5, entries: [{ round: 0, step: 2 }, { round: 0, step: 3 }, { round: 1, step: 1 }] })
    await reloaded.sign('vote', 'prevote', 6, 0, a)
    expect(JSON.parse(await readFile(path, 'utf8')).entries).toHaveLength(1)
  })

  it('reports an unreadable state file instead of starting blind', async () => {
    const path = join(dir, 'sign-state.json')
    await (await import('node:fs/promises')).writeFile(path, '{torn')
    await expect(SignState.load(fileSignStore(path), generateSecretKey())).rejects.toMatchObject({ code: 'UNAVAILABLE' })
  })
})
