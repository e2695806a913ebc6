/**
 * The node's largest caches sized from the process's memory target (node.ts cacheSizesFor;
 * `chorus start --memory-target` passes it as NodeOptions.memoryTargetBytes).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_RECENT_BLOCK_BYTES } from '../../src/chain/chain.ts'
import { parseGenesis } from '../../src/chain/genesis.ts'
import { encodeAddress } from '../../src/crypto/address.ts'
import { generateSecretKey, publicKeyOf } from '../../src/crypto/keys.ts'
import { silentLogger } from '../../src/logger.ts'
import { ChorusNode, cacheSizesFor } from '../../src/node.ts'
import { DEFAULT_READ_CACHE_BYTES } from '../../src/state/read-cache.ts'

const MiB = 2 ** 20
let dir: string

beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'chorus-caches-')) })
afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

describe('cacheSizesFor', () => {
  it('gives the read cache a 32nd of the target and recent blocks a 128th, never above their defaults; the defaults with no target', () => {
    expect(cacheSizesFor(0)).toEqual({ readCacheBytes: DEFAULT_READ_CACHE_BYTES, recentBlockBytes: DEFAULT_RECENT_BLOCK_BYTES })
    expect(cacheSizesFor(512 * MiB)).toEqual({ readCacheBytes: 16 * MiB, recentBlockBytes: 4 * MiB })
    expect(cacheSizesFor(1024 * MiB)).toEqual({ readCacheBytes: 32 * MiB, recentBlockBytes: 8 * MiB })
    expect(cacheSizesFor(6144 * MiB)).toEqual({ readCacheBytes: DEFAULT_READ_CACHE_BYTES, recentBlockBytes: DEFAULT_RECENT_BLOCK_BYTES })
    expect(DEFAULT_READ_CACHE_BYTES).toBe(32 * MiB)
    expect(DEFAULT_RECENT_BLOCK_BYTES).toBe(16 * MiB)
  })

  it('is what a node started with a memory target runs with', async () => {
    const validator = publicKeyOf(generateSecretKey())
    const genesis = parseGenesis({ chainId: 'caches-test', genesisTimeMs: Date.now(), accounts: [], validators: [{ address: encodeAddress(validator), power: '10' }] })
    const start = async (name: string, memoryTargetBytes?: number): Promise<ChorusNode> =>
      await ChorusNode.start({ dataDir: join(dir, name), genesis, validator: null, rpc: null, p2p: null, verifyThreads: 0, ...(memoryTargetBytes === undefined ? {} : { memoryTargetBytes }) }, { logger: silentLogger })
    const small = await start('small', 512 * MiB)
    const plain = await start('plain')
    try {
      expect(small.store.readCacheStats?.maxBytes).toBe(16 * MiB)
      expect(small.chain.recentBlockBytes).toBe(4 * MiB)
      expect(plain.store.readCacheStats?.maxBytes).toBe(DEFAULT_READ_CACHE_BYTES)
      expect(plain.chain.recentBlockBytes).toBe(DEFAULT_RECENT_BLOCK_BYTES)
    } finally {
      await small.stop()
      await plain.stop()
    }
  })
})
