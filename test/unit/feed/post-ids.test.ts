import { afterEach, describe, expect, it } from 'vitest'
import * as b from '../../../src/client/transactions.ts'
import { toHex } from '../../../src/crypto/bytes.ts'
import { Feeds } from '../../../src/feed/feeds.ts'
import { PostIds } from '../../../src/feed/post-ids.ts'
import { TimelineIndexer } from '../../../src/feed/timeline-indexer.ts'
import { silentLogger } from '../../../src/logger.ts'
import type { PostRef } from '../../../src/state/queries.ts'
import { type Fixture, makeFixture } from '../../support/chain.ts'

const idOf = (n: number): Uint8Array => new Uint8Array(32).fill(n & 0xff).map((x, i) => i === 0 ? n >> 8 : x)

describe('PostIds', () => {
  it('keeps exactly the `max` most recently used positions, as a plain LRU model does', () => {
    const max = 5
    const ids = new PostIds(max)
    let model: number[] = [] // least recently used first
    let seed = 11
    const rand = (n: number): number => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n }
    for (let step = 0; step < 3000; step++) {
      const k = rand(12)
      const p = { height: 1 + (k >> 2), index: k & 3 }
      if (rand(3) === 0) {
        const got = ids.get(p)
        if (model.includes(k)) {
          expect(got).toEqual(idOf(k))
          model = [...model.filter((x) => x !== k), k]
        } else expect(got).toBeUndefined()
      } else {
        ids.set(p, idOf(k))
        if (!model.includes(k)) model.push(k) // a set of a held position changes nothing
        if (model.length > max) model.shift()
      }
      expect(ids.size).toBe(model.length)
    }
  })

  it('hands out copies: an eviction that reuses a slot leaves an id already given out as it was', () => {
    const ids = new PostIds(1)
    ids.set({ height: 1, index: 0 }, idOf(1))
    const held = ids.get({ height: 1, index: 0 })!
    ids.set({ height: 2, index: 0 }, idOf(2))
    expect(held).toEqual(idOf(1))
    expect(ids.get({ height: 1, index: 0 })).toBeUndefined()
    expect(ids.get({ height: 2, index: 0 })).toEqual(idOf(2))
  })

  it('tells positions apart by height and index, and leaves out positions it cannot number exactly', () => {
    const ids = new PostIds(8)
    ids.set({ height: 1, index: 2 ** 20 - 1 }, idOf(1))
    ids.set({ height: 2, index: 0 }, idOf(2))
    expect(ids.get({ height: 1, index: 2 ** 20 - 1 })).toEqual(idOf(1))
    expect(ids.get({ height: 2, index: 0 })).toEqual(idOf(2))
    ids.set({ height: 1, index: 2 ** 20 }, idOf(3))
    ids.set({ height: 2 ** 33, index: 0 }, idOf(4))
    expect(ids.size).toBe(2)
    expect(ids.get({ height: 1, index: 2 ** 20 })).toBeUndefined()
  })
})

describe('home feeds through PostIds', () => {
  let fx: Fixture
  let indexer: TimelineIndexer | null = null
  afterEach(async () => {
    await indexer?.close()
    indexer = null
    await fx.close()
  })

  async function walk (q: Feeds, reader: Uint8Array, limit: number): Promise<string[]> {
    const ids: string[] = []
    let cursor: string | null = null
    for (let pages = 0; pages < 1_000; pages++) {
      const page: { items: PostRef[], cursor: string | null } = await q.home(reader, cursor, limit)
      ids.push(...page.items.map((r) => toHex(r.id)))
      cursor = page.cursor
      if (cursor === null) return ids
    }
    throw new Error('the feed did not end')
  }

  it('reads the same feeds as reading every id from the store, with a cache large or small, as the chain grows', async () => {
    fx = await makeFixture({ users: 5 })
    indexer = await TimelineIndexer.open(fx.store, fx.chain, { celebrityFollowers: 1_000, backfill: 1_000 }, silentLogger)
    indexer.start()
    const uncached = new Feeds(fx.store, indexer, null)
    const large = new Feeds(fx.store, indexer)
    const small = new Feeds(fx.store, indexer, new PostIds(3)) // evicts within every walk
    const [reader, ...authors] = fx.users as [b.Signer, ...b.Signer[]]
    const submit = async (s: b.Signer, body: Parameters<Fixture['tx']>[1]): Promise<void> => { await fx.pool.submitDecoded(await fx.tx(s, body)) }
    for (const a of authors.slice(0, 3)) await submit(reader, b.follow(a.publicKey))
    await fx.block()
    let posts = 0
    for (let height = 0; height < 6; height++) {
      for (const a of authors) { await submit(a, b.post(`${height}`)); posts++ }
      if (height === 3) await submit(reader, b.unfollow(authors[0]!.publicKey))
      await fx.block()
      await indexer.caughtUp()
      const want = await walk(uncached, reader.publicKey, 2)
      expect(want.length).toBeGreaterThan(0)
      for (const q of [large, small]) {
        expect(await walk(q, reader.publicKey, 2)).toEqual(want)
        expect(await walk(q, reader.publicKey, 2)).toEqual(want) // again, through what the first walk cached
      }
    }
    expect(posts).toBe(24)
    expect(large.postIds!.hits).toBeGreaterThan(0)
    expect(large.postIds!.size).toBeLessThanOrEqual(posts)
    expect(small.postIds!.size).toBe(3)
  })
})
