/**
 * The state read cache (read-cache.ts) in front of LevelDB: always what the store holds.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MemoryLevel } from 'memory-level'
import { afterEach, describe, expect, it } from 'vitest'
import { Chain } from '../../../src/chain/chain.ts'
import { parseGenesis } from '../../../src/chain/genesis.ts'
import { Mempool } from '../../../src/chain/mempool.ts'
import { TxPool } from '../../../src/chain/tx-pool.ts'
import * as b from '../../../src/client/transactions.ts'
import { encodeAddress } from '../../../src/crypto/address.ts'
import { verifySignature } from '../../../src/crypto/verify.ts'
import type { Commit } from '../../../src/protocol/types.ts'
import { Bucket } from '../../../src/state/buckets.ts'
import { ReadCache } from '../../../src/state/read-cache.ts'
import { Store, type StoreOptions } from '../../../src/state/store.ts'
import { commitFor, validatorKey } from '../../support/chain.ts'

const key = (n: number): Uint8Array => new Uint8Array(32).fill(n)
const val = (n: number, len = 8): Uint8Array => new Uint8Array(len).fill(n)
/** The bytes, whatever array type holds them (LevelDB's reads are Buffers, the cache holds what was written). */
const bytes = (v: Uint8Array | undefined): Buffer | undefined => v === undefined ? undefined : Buffer.from(v)

const open: Store[] = []
async function memStore (opts: StoreOptions = {}, patch?: (db: MemoryLevel<Uint8Array, Uint8Array>) => void): Promise<Store> {
  const db = new MemoryLevel<Uint8Array, Uint8Array>({ keyEncoding: 'view', valueEncoding: 'view' })
  patch?.(db)
  const store = await Store.wrap(db as never, opts)
  open.push(store)
  return store
}
afterEach(async () => { for (const s of open.splice(0)) await s.close() })

describe('the store\'s read cache', () => {
  it('a value a committed batch writes is what the next read sees, from the cache when it held the key; a delete reads as absent', async () => {
    const store = await memStore()
    expect(await store.get(Bucket.account, key(1))).toBeUndefined() // a miss: absent, now cached as absent
    await store.commit([{ bucket: Bucket.account, key: key(1), value: val(7) }])
    const hits = store.readCacheStats!.hits
    expect(bytes(await store.get(Bucket.account, key(1)))).toEqual(bytes(val(7)))
    expect(store.readCacheStats!.hits).toBe(hits + 1)
    await store.commit([{ bucket: Bucket.account, key: key(1), value: val(8) }, { bucket: Bucket.post, key: key(2), value: val(9) }])
    expect(bytes(await store.get(Bucket.account, key(1)))).toEqual(bytes(val(8)))
    // a key the cache did not hold is not added by the write: read from LevelDB, then cached
    const misses = store.readCacheStats!.misses
    expect(bytes(await store.get(Bucket.post, key(2)))).toEqual(bytes(val(9)))
    expect(bytes(await store.get(Bucket.post, key(2)))).toEqual(bytes(val(9)))
    expect(store.readCacheStats!.misses).toBe(misses + 1)
    await store.commit([{ bucket: Bucket.account, key: key(1), value: null }])
    expect(await store.get(Bucket.account, key(1))).toBeUndefined()
    // the same key in two buckets, and the last write of a key in one batch, as LevelDB keeps it
    await store.commit([{ bucket: Bucket.like, key: key(3), value: val(1) }, { bucket: Bucket.likedBy, key: key(3), value: val(2) }, { bucket: Bucket.like, key: key(3), value: val(4) }])
    expect(bytes(await store.get(Bucket.like, key(3)))).toEqual(bytes(val(4)))
    expect(bytes(await store.get(Bucket.likedBy, key(3)))).toEqual(bytes(val(2)))
  })

  it('a failed batch leaves the cache (and the store) as it was', async () => {
    let failNext = false
    const store = await memStore({}, (db) => {
      // the database's write of a batch (chained or not) fails
      const write = (db as unknown as { _batch: (...a: unknown[]) => Promise<void> })._batch.bind(db)
      ;(db as unknown as { _batch: unknown })._batch = async (...a: unknown[]) => {
        if (failNext) throw new Error('disk full')
        return await write(...a)
      }
    })
    await store.commit([{ bucket: Bucket.account, key: key(1), value: val(1) }])
    expect(bytes(await store.get(Bucket.account, key(1)))).toEqual(bytes(val(1)))
    expect(await store.get(Bucket.account, key(2))).toBeUndefined()
    const before = store.readCacheStats!
    failNext = true
    await expect(store.commit([{ bucket: Bucket.account, key: key(1), value: val(5) }, { bucket: Bucket.account, key: key(2), value: val(6) }])).rejects.toThrow('disk full')
    failNext = false
    expect(store.readCacheStats!.entries).toBe(before.entries)
    expect(store.readCacheStats!.bytes).toBe(before.bytes)
    expect(bytes(await store.get(Bucket.account, key(1)))).toEqual(bytes(val(1)))
    expect(await store.get(Bucket.account, key(2))).toBeUndefined()
  })

  it('a read that waited on LevelDB across a commit does not put the older value in the cache', async () => {
    // LevelDB reads the older value, and answers only once the commit is done
    let release = (): void => {}
    const gate = new Promise<void>((resolve) => { release = resolve })
    let hold = false
    let readDone = (): void => {}
    const readHasOlder = new Promise<void>((resolve) => { readDone = resolve })
    const db = new MemoryLevel<Uint8Array, Uint8Array>({ keyEncoding: 'view', valueEncoding: 'view' })
    const get = (db as unknown as { _get: (...a: unknown[]) => Promise<unknown> })._get.bind(db)
    ;(db as unknown as { _get: unknown })._get = async (...a: unknown[]) => {
      const v = await get(...a)
      if (hold) { readDone(); await gate }
      return v
    }
    const writer = await Store.wrap(db as never, { syncStateReads: false })
    await writer.commit([{ bucket: Bucket.post, key: key(9), value: val(1) }])
    const store = await Store.wrap(db as never, { syncStateReads: false }) // the same LevelDB, an empty cache; async reads
    open.push(store)
    hold = true
    const reading = store.get(Bucket.post, key(9))
    await readHasOlder
    await store.commit([{ bucket: Bucket.post, key: key(9), value: val(2) }])
    release()
    expect(Buffer.from((await reading)!)).toEqual(Buffer.from(val(1)))
    hold = false
    expect(store.readCacheStats!.misses).toBe(1)
    expect(bytes(await store.get(Bucket.post, key(9)))).toEqual(bytes(val(2)))
    expect(bytes(await store.get(Bucket.post, key(9)))).toEqual(bytes(val(2)))
  })

  it('with synchronous reads too: a read while a batch is in flight, then the batch\'s value once it is done', async () => {
    const other = await memStore({ syncStateReads: true })
    expect(await other.get(Bucket.account, key(4))).toBeUndefined()
    const committing = other.commit([{ bucket: Bucket.account, key: key(4), value: val(2) }, { bucket: Bucket.account, key: key(5), value: val(3) }])
    const during = other.lookup(Bucket.account, key(5)) // answered at once, whichever side of the batch it sees
    expect(during instanceof Promise).toBe(false)
    await committing
    expect(bytes(await other.get(Bucket.account, key(4)))).toEqual(bytes(val(2)))
    expect(bytes(await other.get(Bucket.account, key(5)))).toEqual(bytes(val(3)))
  })

  it('keeps caching reads while a batch of derived indexes only (the timeline indexer\'s) is in flight: it changes no cached value', async () => {
    const other = await memStore({ syncStateReads: true })
    await other.commit([{ bucket: Bucket.account, key: key(6), value: val(6) }])
    const indexing = other.commit([{ bucket: Bucket.timeline, key: key(1), value: val(1) }])
    expect(bytes(await other.lookup(Bucket.account, key(6)))).toEqual(bytes(val(6))) // a miss, cached although a batch is in flight
    await indexing
    const misses = other.readCacheStats!.misses
    expect(bytes(await other.lookup(Bucket.account, key(6)))).toEqual(bytes(val(6)))
    expect(other.readCacheStats!.misses).toBe(misses)
    expect(other.readCacheStats!.hits).toBeGreaterThan(0)
  })

  it('stays within its byte bound, dropping the least recently used first', () => {
    const cache = new ReadCache(10 * (4 + 1 + 32 + 100 + 140 + 200))
    for (let i = 0; i < 10; i++) cache.set(Bucket.post, key(i), val(i, 100))
    expect(cache.stats.entries).toBe(10)
    expect(cache.get(Bucket.post, key(0))).toEqual(val(0, 100)) // 0 is now the most recent
    cache.set(Bucket.post, key(10), val(10, 100))
    expect(cache.stats.bytes).toBeLessThanOrEqual(cache.maxBytes)
    expect(cache.get(Bucket.post, key(1))).toBeUndefined() // the least recent went
    expect(cache.get(Bucket.post, key(0))).toEqual(val(0, 100))
    for (let i = 20; i < 200; i++) cache.set(Bucket.post, key(i), val(i, 100))
    expect(cache.stats.bytes).toBeLessThanOrEqual(cache.maxBytes)
    expect(cache.stats.entries).toBe(10)
    cache.set(Bucket.post, key(250), new Uint8Array(cache.maxBytes)) // larger than the whole bound: not kept
    expect(cache.get(Bucket.post, key(250))).toBeUndefined()
    expect(cache.stats.entries).toBe(10)
  })

  it('evicts second chance through long runs of hits, peeks, sets and evictions (a plain model alongside)', () => {
    const per = 4 + 1 + 32 + 8 + 140 + 200 // bucket, ':', key, value, the entry's and the value's overhead
    const cache = new ReadCache(6 * per)
    // oldest first; `used`: hit since eviction last passed it
    let model: Array<{ k: number, used: boolean }> = []
    let seed = 11
    const rand = (n: number): number => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n }
    for (let step = 0; step < 5000; step++) {
      const k = rand(16)
      const held = model.find((e) => e.k === k)
      const op = rand(4)
      if (op <= 1) {
        const hit = op === 0 ? cache.get(Bucket.post, key(k)) : cache.peek(Bucket.post, key(k))
        expect(hit === undefined ? undefined : hit![0]).toBe(held?.k)
        if (held !== undefined && op === 0) held.used = true
      } else {
        cache.set(Bucket.post, key(k), val(k))
        model = [...model.filter((e) => e.k !== k), { k, used: false }]
        while (model.length > 6) {
          const oldest = model.shift()!
          if (oldest.used) model.push({ k: oldest.k, used: false })
        }
      }
      expect(cache.stats.entries).toBe(model.length)
    }
    for (const { k } of model) expect(cache.peek(Bucket.post, key(k))![0]).toBe(k)
  })

  for (const syncStateReads of [true, false]) {
    it(`a snapshot reads through the cache only while no batch has started since it was taken (${syncStateReads ? 'sync' : 'async'} reads)`, async () => {
      const store = await memStore({ syncStateReads })
      await store.commit([{ bucket: Bucket.account, key: key(1), value: val(1) }, { bucket: Bucket.post, key: key(2), value: val(2) }])
      const older = store.snapshot()
      try {
        // read from LevelDB into the cache, then from the cache
        expect(bytes(await older.get(Bucket.account, key(1)))).toEqual(bytes(val(1)))
        const hits = store.readCacheStats!.hits
        expect(bytes(await older.get(Bucket.account, key(1)))).toEqual(bytes(val(1)))
        expect(store.readCacheStats!.hits).toBe(hits + 1)
        expect(await older.get(Bucket.account, key(3))).toBeUndefined() // absent, cached as absent
        // a block commits: the older snapshot reads what it held, neither the cache's newer values nor into the cache
        await store.commit([{ bucket: Bucket.account, key: key(1), value: val(5) }, { bucket: Bucket.post, key: key(2), value: val(6) }, { bucket: Bucket.account, key: key(3), value: val(7) }])
        const after = store.readCacheStats!
        expect(bytes(await older.get(Bucket.account, key(1)))).toEqual(bytes(val(1)))
        expect(bytes(await older.get(Bucket.post, key(2)))).toEqual(bytes(val(2)))
        expect(await older.get(Bucket.account, key(3))).toBeUndefined()
        expect(store.readCacheStats!.hits).toBe(after.hits)
        expect(store.readCacheStats!.entries).toBe(after.entries)
        expect(bytes(await store.get(Bucket.post, key(2)))).toEqual(bytes(val(6)))
      } finally {
        await older.close()
      }
      // a snapshot taken after it reads the new values, from the cache
      const newer = store.snapshot()
      try {
        const hits = store.readCacheStats!.hits
        expect(bytes(await newer.get(Bucket.account, key(1)))).toEqual(bytes(val(5)))
        expect(bytes(await newer.get(Bucket.account, key(3)))).toEqual(bytes(val(7)))
        expect(store.readCacheStats!.hits).toBe(hits + 2)
      } finally {
        await newer.close()
      }
    })
  }

  it('a snapshot\'s hits do not mark their entries used (peek), a store read\'s do: eviction passes it over once', () => {
    const c = new ReadCache(3 * (`${Bucket.post}:`.length + 32 + 140 + 8 + 200))
    for (const n of [1, 2, 3]) c.set(Bucket.post, key(n), val(n))
    expect(c.peek(Bucket.post, key(1))).toEqual(val(1))
    expect(c.peek(Bucket.post, key(9))).toBeUndefined()
    c.set(Bucket.post, key(4), val(4)) // evicts 1, the oldest still
    expect(c.peek(Bucket.post, key(1))).toBeUndefined()
    expect(c.get(Bucket.post, key(2))).toEqual(val(2))
    c.set(Bucket.post, key(5), val(5)) // evicts 3: 2, read, was moved to the end
    expect(c.peek(Bucket.post, key(3))).toBeUndefined()
    expect(c.peek(Bucket.post, key(2))).toEqual(val(2))
    expect(c.stats.entries).toBe(3)
  })

  it('a snapshot taken while a batch is in flight never reads the cache', async () => {
    const store = await memStore()
    await store.commit([{ bucket: Bucket.account, key: key(1), value: val(1) }])
    expect(bytes(await store.get(Bucket.account, key(1)))).toEqual(bytes(val(1))) // cached
    const committing = store.commit([{ bucket: Bucket.account, key: key(1), value: val(2) }])
    const during = store.snapshot() // either side of the batch, as LevelDB has it
    await committing
    try {
      const seen = bytes(await during.get(Bucket.account, key(1)))
      const before = store.readCacheStats!
      expect(bytes(await during.get(Bucket.account, key(1)))).toEqual(seen)
      expect(store.readCacheStats!.hits).toBe(before.hits)
      expect(bytes(await store.get(Bucket.account, key(1)))).toEqual(bytes(val(2)))
    } finally {
      await during.close()
    }
  })

  it('caches only the state buckets', async () => {
    const store = await memStore()
    await store.commit([{ bucket: Bucket.meta, key: key(1), value: val(1) }])
    expect(store.readCacheStats!.entries).toBe(0)
    expect(Buffer.from((await store.get(Bucket.meta, key(1)))!)).toEqual(Buffer.from(val(1)))
    expect(store.readCacheStats!.entries).toBe(0)
  })
})

describe('a chain with the read cache', () => {
  const dirs: string[] = []
  afterEach(async () => { for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true }) })

  it('reaches the same state roots with the cache off, tiny (evicting all the time) and at its default, with sync or async reads', async () => {
    const validator = validatorKey()
    const users = Array.from({ length: 12 }, () => b.Signer.generate())
    const genesis = parseGenesis({
      chainId: 'cache-test', genesisTimeMs: 1,
      accounts: users.map((u) => ({ address: u.address(), balance: '1000000000000' })),
      validators: [{ address: encodeAddress(validator.publicKey), power: '1' }]
    })
    const roots: string[][] = []
    for (const [readCacheBytes, syncStateReads] of [[0, false], [2_000, true], [undefined, false], [undefined, true]] as const) {
      const dir = await mkdtemp(join(tmpdir(), 'chorus-cache-'))
      dirs.push(dir)
      const store = await Store.open(join(dir, 'db'), { syncStateReads, ...(readCacheBytes === undefined ? {} : { readCacheBytes }) })
      const chain = await Chain.open(store, genesis, verifySignature)
      const pool = new TxPool(chain, new Mempool())
      const nonces = users.map(() => 0)
      const posts: Uint8Array[] = []
      const mine: string[] = []
      let lastCommit: Commit | null = null
      for (let round = 0; round < 6; round++) {
        for (const [i, u] of users.entries()) {
          const other = users[(i + 1 + round) % users.length]!
          const body = round % 3 === 0 ? b.post(`post ${round} by ${i}`)
            : round % 3 === 1 ? b.follow(other.publicKey)
              : posts.length > 0 ? b.like(posts[(i * 7 + round) % posts.length]!) : b.transfer(other.publicKey, 5n)
          const tx = u.sign({ chainId: 'cache-test', nonce: nonces[i]!, body }, genesis.params).tx
          try { await pool.submitDecoded(tx); nonces[i]!++ } catch { /* e.g. already liked: left out */ }
          if (body.kind === 'post') posts.push(tx.id)
        }
        const built = await chain.buildBlock(pool.mempool.ordered(), validator.publicKey, chain.head.timeMs + 1000, lastCommit)
        lastCommit = commitFor(built, validator)
        await chain.commitBlock(built, lastCommit)
        mine.push(Buffer.from(built.block.header.stateRoot).toString('hex'))
      }
      if (readCacheBytes === 2_000) expect(store.readCacheStats!.bytes).toBeLessThanOrEqual(2_000)
      if (readCacheBytes === 0) expect(store.readCacheStats).toBeNull()
      roots.push(mine)
      await store.close()
    }
    for (const r of roots.slice(1)) expect(r).toEqual(roots[0])
  })
})
