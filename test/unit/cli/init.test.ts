import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { parseGenesis } from '../../../src/chain/genesis.ts'
import { readConfig } from '../../../src/cli/config.ts'
import { initHome, initNetwork, joinNetwork } from '../../../src/cli/home.ts'
import { listKeys, loadKey } from '../../../src/cli/keystore.ts'
import { encodeAddress } from '../../../src/crypto/address.ts'
import { readNodeKey } from '../../../src/p2p/identity.ts'

/** An Ed25519 libp2p peer id in its usual base58btc form. */
const PEER_ID = /^12D3KooW[1-9A-HJ-NP-Za-km-z]{44}$/

async function mode (path: string): Promise<number> {
  return (await stat(path)).mode & 0o777
}

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

  it('--validators N --full-nodes M gives every home a node key and a config.json naming the others as bootstrap peers', async () => {
    const r = await initNetwork(join(dir, 'net'), 3, { fullNodes: 2, rpcPort: 41000, p2pPort: 42000 })
    expect(r.homes.map((h) => h.name)).toEqual(['node0', 'node1', 'node2', 'node3', 'node4'])
    const peerIds: string[] = []
    for (const h of r.homes) {
      expect(await mode(join(h.home, 'node-key.json'))).toBe(0o600)
      const key = await readNodeKey(join(h.home, 'node-key.json'))
      expect(key!.peerId).toMatch(PEER_ID)
      expect(h.peerId).toBe(key!.peerId)
      peerIds.push(key!.peerId)
    }
    expect(new Set(peerIds).size).toBe(5)
    const addr = (j: number) => `/ip4/127.0.0.1/tcp/${42000 + j}/p2p/${peerIds[j]}`
    for (const [i, h] of r.homes.entries()) {
      const config = JSON.parse(await readFile(join(h.home, 'config.json'), 'utf8'))
      expect(config).toEqual({
        rpc: { host: '127.0.0.1', port: 41000 + i },
        p2p: { host: '127.0.0.1', port: 42000 + i, announce: [], bootstrap: [0, 1, 2, 3, 4].filter((j) => j !== i).map(addr) }
      })
      expect(await readConfig(h.home)).toEqual(config) // what start will accept
      expect(h.rpc).toBe(`http://127.0.0.1:${41000 + i}`)
      expect(h.p2p).toBe(addr(i))
    }
    const texts = await Promise.all(r.homes.map(async (h) => await readFile(join(h.home, 'genesis.json'), 'utf8')))
    expect(new Set(texts).size).toBe(1)
    const genesis = parseGenesis(JSON.parse(texts[0]!))
    expect(genesis.validators).toHaveLength(3)
    // validators: node0-2 with keys; full nodes: node3-4 with none; the dev key in node0 only
    expect((await listKeys(r.homes[0]!.home)).map((k) => k.name)).toEqual(['dev', 'validator'])
    for (const h of r.homes.slice(1, 3)) expect((await listKeys(h.home)).map((k) => k.name)).toEqual(['validator'])
    for (const h of r.homes.slice(3)) {
      expect(h.validator).toBeNull()
      expect(await listKeys(h.home)).toEqual([])
    }
    expect(r.homes.slice(0, 3).map((h) => h.validator)).toEqual(genesis.validators.map((v) => encodeAddress(v.address)))
  })

  it('--validators defaults to RPC ports from 26657 and P2P ports from 36656, and refuses ports that do not fit', async () => {
    const r = await initNetwork(join(dir, 'net'), 2)
    expect(await readConfig(r.homes[1]!.home)).toMatchObject({ rpc: { port: 26658 }, p2p: { port: 36657, bootstrap: [`/ip4/127.0.0.1/tcp/36656/p2p/${r.homes[0]!.peerId}`] } })
    await expect(initNetwork(join(dir, 'a'), 2, { rpcPort: 65535 })).rejects.toMatchObject({ code: 'INVALID_FIELD', detail: expect.stringContaining('--rpc-port') })
    await expect(initNetwork(join(dir, 'b'), 2, { p2pPort: 0 })).rejects.toMatchObject({ code: 'INVALID_FIELD', detail: expect.stringContaining('--p2p-port') })
    await expect(initNetwork(join(dir, 'c'), 3, { rpcPort: 5000, p2pPort: 5002 })).rejects.toMatchObject({ code: 'INVALID_FIELD', detail: expect.stringContaining('overlap') })
    await expect(initNetwork(join(dir, 'd'), 2, { fullNodes: -1 })).rejects.toMatchObject({ code: 'INVALID_FIELD', detail: expect.stringContaining('--full-nodes') })
  })

  it('a one-validator home gets a node key too', async () => {
    const r = await initHome(join(dir, 'h'), { dev: true })
    expect(await mode(join(r.paths.home, 'node-key.json'))).toBe(0o600)
    expect((await readNodeKey(join(r.paths.home, 'node-key.json')))!.peerId).toBe(r.peerId)
    expect(r.peerId).toMatch(PEER_ID)
  })

  it('--home DIR --genesis FILE makes a full-node home that joins the chain', async () => {
    const net = await initNetwork(join(dir, 'net'), 2, { rpcPort: 41000, p2pPort: 42000 })
    const genesisFile = join(net.homes[0]!.home, 'genesis.json')
    const r = await joinNetwork(join(dir, 'joiner'), genesisFile)
    expect(r.chainId).toBe(net.chainId)
    expect(await readFile(r.paths.genesis, 'utf8')).toBe(await readFile(genesisFile, 'utf8'))
    expect(await mode(r.paths.nodeKey)).toBe(0o600)
    expect((await readNodeKey(r.paths.nodeKey))!.peerId).toBe(r.peerId)
    expect(await listKeys(r.paths.home)).toEqual([])
    expect(await readConfig(r.paths.home)).toEqual({ rpc: { host: '127.0.0.1', port: 26657 }, p2p: { host: '127.0.0.1', port: 36656, announce: [], bootstrap: [] } })
    await expect(joinNetwork(r.paths.home, genesisFile)).rejects.toMatchObject({ code: 'INVALID_FIELD', detail: expect.stringContaining('already exists') })

    const withPeers = await joinNetwork(join(dir, 'joiner2'), genesisFile, { rpcPort: 5000, p2pPort: 6000, bootstrap: [net.homes[1]!.p2p] })
    expect(await readConfig(withPeers.paths.home)).toEqual({ rpc: { host: '127.0.0.1', port: 5000 }, p2p: { host: '127.0.0.1', port: 6000, announce: [], bootstrap: [net.homes[1]!.p2p] } })

    await expect(joinNetwork(join(dir, 'x'), join(dir, 'missing.json'))).rejects.toMatchObject({ code: 'NOT_FOUND' })
    await mkdir(join(dir, 'files'))
    await writeFile(join(dir, 'files', 'notjson.json'), 'nope')
    await expect(joinNetwork(join(dir, 'x'), join(dir, 'files', 'notjson.json'))).rejects.toMatchObject({ code: 'MALFORMED' })
    await writeFile(join(dir, 'files', 'bad.json'), JSON.stringify({ ...JSON.parse(await readFile(genesisFile, 'utf8')), validators: [] }))
    await expect(joinNetwork(join(dir, 'x'), join(dir, 'files', 'bad.json'))).rejects.toMatchObject({ code: 'INVALID_FIELD', detail: expect.stringContaining('bad.json') })
    expect(await readConfig(join(dir, 'x'))).toBeNull() // nothing written for a refused genesis
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
