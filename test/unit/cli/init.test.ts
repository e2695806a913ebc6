import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { parseGenesis } from '../../../src/chain/genesis.ts'
import { initHome, initNetwork } from '../../../src/cli/home.ts'
import { loadKey } from '../../../src/cli/keystore.ts'
import { encodeAddress } from '../../../src/crypto/address.ts'

let dir: string
beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'chorus-init-')) })
afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

describe('chorus init', () => {
  it('--validators N writes N homes with one genesis listing each home\'s validator key', async () => {
    const r = await initNetwork(join(dir, 'net'), 4, { blockTimeMs: 500 })
    expect(r.homes).toHaveLength(4)
    const texts = await Promise.all(r.homes.map(async (h) => await readFile(join(h.home, 'genesis.json'), 'utf8')))
    expect(new Set(texts).size).toBe(1)
    const genesis = parseGenesis(JSON.parse(texts[0]!))
    expect(genesis.params.blockTimeMs).toBe(500)
    for (const [i, h] of r.homes.entries()) {
      const key = await loadKey(h.home, 'validator')
      expect(encodeAddress(genesis.validators[i]!.address)).toBe(key.address)
      expect((await stat(join(h.home, 'keys', 'validator.json'))).mode & 0o777).toBe(0o600)
    }
    expect(genesis.accounts.some((a) => encodeAddress(a.address) === r.dev.address)).toBe(true)
    await expect(initNetwork(join(dir, 'net'), 2)).rejects.toMatchObject({ code: 'INVALID_FIELD' })
    await expect(initNetwork(join(dir, 'zero'), 0)).rejects.toMatchObject({ code: 'INVALID_FIELD' })
  })

  it('encrypts keys at rest with a password, and needs it to load them', async () => {
    const r = await initHome(join(dir, 'h'), { dev: true, password: 'correct horse' })
    const file = JSON.parse(await readFile(join(r.paths.home, 'keys', 'dev.json'), 'utf8'))
    expect(file.secretKey).toBeUndefined()
    expect(file.encrypted.kdf).toBe('scrypt')
    await expect(loadKey(r.paths.home, 'dev')).rejects.toMatchObject({ code: 'INVALID_FIELD' })
    await expect(loadKey(r.paths.home, 'dev', 'wrong')).rejects.toMatchObject({ code: 'INVALID_FIELD', detail: expect.stringContaining('wrong password') })
    expect((await loadKey(r.paths.home, 'dev', 'correct horse')).address).toBe(r.dev!.address)
  })
})
