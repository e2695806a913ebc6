import { afterEach, describe, expect, it } from 'vitest'
import * as b from '../../../src/client/transactions.ts'
import { toHex, utf8 } from '../../../src/crypto/bytes.ts'
import { Feeds } from '../../../src/feed/feeds.ts'
import { PostIds } from '../../../src/feed/post-ids.ts'
import { TimelineIndexer, type TimelineOptions } from '../../../src/feed/timeline-indexer.ts'
import { rowIndices } from '../../../src/feed/timeline-rows.ts'
import { silentLogger } from '../../../src/logger.ts'
import { Bucket } from '../../../src/state/buckets.ts'
import { Queries } from '../../../src/state/queries.ts'
import { prefixRange } from '../../../src/state/store.ts'
import { type Fixture, makeFixture } from '../../support/chain.ts'
import { walkHome as walk } from '../../support/feeds.ts'
import { prng } from '../../sim/sim-clock.ts'

let fx: Fixture
let indexer: TimelineIndexer | null = null
afterEach(async () => {
  await indexer?.close()
  indexer = null
  await fx.close()
})

async function setUp (users: number, opts: Partial<TimelineOptions> = {}): Promise<{ indexed: Feeds, merged: Feeds }> {
  fx = await makeFixture({ users })
  indexer = await TimelineIndexer.open(fx.store, fx.chain, { celebrityFollowers: 1_000, backfill: 1_000, ...opts }, silentLogger)
  indexer.start()
  return { indexed: new Feeds(fx.store, indexer), merged: new Feeds(fx.store, null) }
}

/** Commits the mempool as a block and waits for the index to hold it. */
async function block (): Promise<void> {
  await fx.block()
  await indexer!.caughtUp()
}

async function submit (signer: b.Signer, body: Parameters<Fixture['tx']>[1]): Promise<string> {
  const tx = await fx.tx(signer, body)
  await fx.pool.submitDecoded(tx)
  return toHex(tx.id)
}

describe('home timeline index', () => {
  it('gives the same feed as merging every followed account, through posts, follows, unfollows, refollows and celebrities', async () => {
    // backfill covers every post, so the index must agree with the merge exactly
    const { indexed, merged } = await setUp(8, { celebrityFollowers: 3 })
    const users = fx.users
    const rand = prng(7).next
    const following = users.map(() => new Set<number>())
    for (let height = 0; height < 24; height++) {
      const ops = 3 + Math.floor(rand() * 6)
      for (let k = 0; k < ops; k++) {
        const u = Math.floor(rand() * users.length)
        const t = Math.floor(rand() * users.length)
        const roll = rand()
        if (roll < 0.55 || t === u) await submit(users[u]!, b.post(`h${height} k${k}`))
        else if (!following[u]!.has(t) && roll < 0.85) { following[u]!.add(t); await submit(users[u]!, b.follow(users[t]!.publicKey)) } else if (following[u]!.has(t)) { following[u]!.delete(t); await submit(users[u]!, b.unfollow(users[t]!.publicKey)) }
      }
      await block()
      if (height % 6 === 5) {
        for (const reader of users) {
          const want = await walk(merged, reader.publicKey, 4)
          expect(await walk(indexed, reader.publicKey, 4)).toEqual(want)
          expect(await walk(indexed, reader.publicKey, 1)).toEqual(want)
        }
      }
    }
    // the chain made some celebrities, whose posts feeds merged on read
    expect(indexer!.celebrities.size).toBeGreaterThan(0)
    expect(users.some((r) => following[users.indexOf(r)]!.size > 0)).toBe(true)
  })

  it('pages exactly while posts, follows and unfollows land between pages', async () => {
    const { indexed } = await setUp(5)
    const [reader, x, y, z, w] = fx.users as [b.Signer, b.Signer, b.Signer, b.Signer, b.Signer]
    for (const a of [x, y, z]) await submit(reader, b.follow(a.publicKey))
    await block()
    const before: string[] = []
    for (let round = 0; round < 6; round++) {
      for (const a of [x, y, z]) before.push(await submit(a, b.post(`${round}`)))
      await block()
    }
    const seen: string[] = []
    let cursor: string | null = null
    let round = 0
    do {
      const page = await indexed.home(reader.publicKey, cursor, 2)
      seen.push(...page.items.map((r) => toHex(r.id)))
      cursor = page.cursor
      // between pages: new posts by followed accounts, a follow of w (with posts), an unfollow of z
      await submit(x, b.post(`late ${round}`))
      await submit(w, b.post(`w ${round}`))
      if (round === 2) await submit(reader, b.follow(w.publicKey))
      if (round === 4) await submit(reader, b.unfollow(z.publicKey))
      await block()
      round++
    } while (cursor !== null)
    expect(new Set(seen).size).toBe(seen.length)
    // every post that was there at the first page is shown once, unless its author was unfollowed before its page
    const zPosts = new Set((await fx.store.range(Bucket.postByAuthor, prefixRange(z.publicKey))).map(([, id]) => toHex(id)))
    for (const id of before) if (!zPosts.has(id)) expect(seen).toContain(id)
    // w's posts from before the first page came in once the reader followed w (backfill), in order
    const fresh = await walk(indexed, reader.publicKey, 3)
    const wPosts = (await fx.store.range(Bucket.postByAuthor, prefixRange(w.publicKey))).map(([, id]) => toHex(id))
    for (const id of wPosts) expect(fresh).toContain(id)
    for (const id of zPosts) expect(fresh).not.toContain(id)
    const positions = await Promise.all(fresh.map(async (id) => { const p = (await new Queries(fx.store).post(Buffer.from(id, 'hex')))!; return p.height * 100_000 + p.index }))
    expect(positions).toEqual([...positions].sort((a, b) => b - a))
  })

  it('merges a followed account\'s newest posts when followed, up to the backfill', async () => {
    const { indexed } = await setUp(2, { backfill: 3 })
    const [reader, x] = fx.users as [b.Signer, b.Signer]
    const posts: string[] = []
    for (let i = 0; i < 5; i++) { posts.push(await submit(x, b.post(`${i}`))); await block() }
    await submit(reader, b.follow(x.publicKey))
    await block()
    const later = await submit(x, b.post('after the follow'))
    await block()
    expect(await walk(indexed, reader.publicKey, 2)).toEqual([later, ...posts.slice(2).reverse()])
  })

  it('backfills an author\'s several posts in a block as one row, cut at the backfill from the oldest end, and again on a refollow', async () => {
    const { indexed } = await setUp(2, { backfill: 5 })
    const [reader, x] = fx.users as [b.Signer, b.Signer]
    const first: string[] = []
    for (let i = 0; i < 4; i++) first.push(await submit(x, b.post(`first ${i}`)))
    await block()
    const second: string[] = []
    for (let i = 0; i < 3; i++) second.push(await submit(x, b.post(`second ${i}`)))
    await block()
    await submit(reader, b.follow(x.publicKey))
    await block()
    // the 5 newest: all 3 of the second block and the 2 newest of the first
    const taken = [...second.reverse(), first[3]!, first[2]!]
    expect(await walk(indexed, reader.publicKey, 2)).toEqual(taken)
    const rows = await fx.store.range(Bucket.timeline, prefixRange(reader.publicKey))
    expect(rows).toHaveLength(2) // one a height, not one a post
    // unfollowed, x posts twice more, followed again: the new window (5) ends before the first block,
    // whose rows from the first follow still stand (the feed shows what the rows hold of authors followed)
    await submit(reader, b.unfollow(x.publicKey))
    await block()
    expect(await walk(indexed, reader.publicKey, 2)).toEqual([])
    const third = [await submit(x, b.post('third 0')), await submit(x, b.post('third 1'))]
    await block()
    await submit(reader, b.follow(x.publicKey))
    await block()
    expect(await walk(indexed, reader.publicKey, 2)).toEqual([third[1]!, third[0]!, ...taken])
  })

  it('does not fan out a celebrity\'s posts, and still shows them to every follower', async () => {
    const { indexed } = await setUp(5, { celebrityFollowers: 2 })
    const [star, ...fans] = fx.users as [b.Signer, ...b.Signer[]]
    for (const f of fans) await submit(f, b.follow(star.publicKey))
    await block()
    const post = await submit(star, b.post('to everyone'))
    await block()
    expect([...indexer!.celebrities.values()].map(toHex)).toEqual([toHex(star.publicKey)])
    for (const f of fans) {
      const rows = await fx.store.range(Bucket.timeline, prefixRange(f.publicKey))
      expect(rows).toEqual([]) // nothing fanned out
      expect(await walk(indexed, f.publicKey, 5)).toEqual([post])
    }
  })

  it('pages past a long run of posts by an author no longer followed, in bounded steps', async () => {
    const { indexed, merged } = await setUp(3)
    const [reader, x, y] = fx.users as [b.Signer, b.Signer, b.Signer]
    await submit(reader, b.follow(x.publicKey))
    await submit(reader, b.follow(y.publicKey))
    await block()
    const old = await submit(y, b.post('old'))
    await block()
    for (let blk = 0; blk < 4; blk++) {
      for (let i = 0; i < 250; i++) await submit(x, b.post(`x ${blk} ${i}`))
      await block()
    }
    await submit(reader, b.unfollow(x.publicKey))
    const newest = await submit(y, b.post('new'))
    await block()
    // 1,000 entries of x to step over, 500 a page at most: two pages come back short
    let cursor: string | null = null
    const seen: string[] = []
    let pages = 0
    do {
      const page = await indexed.home(reader.publicKey, cursor, 1)
      seen.push(...page.items.map((r) => toHex(r.id)))
      cursor = page.cursor
      pages++
    } while (cursor !== null)
    expect(seen).toEqual([newest, old])
    expect(seen).toEqual(await walk(merged, reader.publicKey, 1))
    expect(pages).toBe(3)
  })

  it('is rebuilt from the blocks when its version changes, and catches up after running without it', async () => {
    const { indexed } = await setUp(4)
    const [reader, x, y, z] = fx.users as [b.Signer, b.Signer, b.Signer, b.Signer]
    await submit(reader, b.follow(x.publicKey))
    await submit(reader, b.follow(y.publicKey))
    await block()
    for (let i = 0; i < 4; i++) { for (const a of [x, y, z]) await submit(a, b.post(`${i}`)); await block() }
    const want = await walk(indexed, reader.publicKey, 3)
    expect(want).toHaveLength(8)
    const rows = await fx.store.range(Bucket.timeline, {})
    await indexer!.close()

    // blocks committed with no indexer running: the next one catches up from them
    await submit(x, b.post('while off'))
    await fx.block()
    indexer = await TimelineIndexer.open(fx.store, fx.chain, { celebrityFollowers: 1_000, backfill: 1_000 }, silentLogger)
    expect(indexer.lag).toBe(1)
    indexer.start()
    await indexer.caughtUp()
    const q = new Feeds(fx.store, indexer)
    const caughtUp = await walk(q, reader.publicKey, 3)
    expect(caughtUp.slice(1)).toEqual(want)
    await indexer.close()

    // another version's index is cleared and rebuilt from the blocks, row for row
    await fx.store.commit([{ bucket: Bucket.meta, key: utf8.encode('timelineVersion'), value: Uint8Array.of(0) }])
    await fx.store.commit([{ bucket: Bucket.timeline, key: new Uint8Array(44).fill(7), value: new Uint8Array(0) }])
    indexer = await TimelineIndexer.open(fx.store, fx.chain, { celebrityFollowers: 1_000, backfill: 1_000 }, silentLogger)
    expect(indexer.indexedHeight).toBe(0)
    expect(await fx.store.range(Bucket.timeline, {})).toEqual([])
    indexer.start()
    await indexer.caughtUp()
    expect(await walk(new Feeds(fx.store, indexer), reader.publicKey, 3)).toEqual(caughtUp)
    const rebuilt = await fx.store.range(Bucket.timeline, {})
    expect(rebuilt.length).toBeGreaterThan(rows.length) // the block made while off is in it too
    for (const [k, v] of rows) expect(rebuilt.some(([k2, v2]) => toHex(k2) === toHex(k) && toHex(v2) === toHex(v))).toBe(true)
    expect(rowIndices(rebuilt[0]![0], rebuilt[0]![1]).length).toBeGreaterThan(0)
  })

  it('reads the same feeds as reading every id from the store, with a cache large or small, as the chain grows', async () => {
    await setUp(5)
    const uncached = new Feeds(fx.store, indexer, null)
    const large = new Feeds(fx.store, indexer)
    const small = new Feeds(fx.store, indexer, new PostIds(3)) // evicts within every walk
    const [reader, ...authors] = fx.users as [b.Signer, ...b.Signer[]]
    for (const a of authors.slice(0, 3)) await submit(reader, b.follow(a.publicKey))
    await block()
    let posts = 0
    for (let height = 0; height < 6; height++) {
      for (const a of authors) { await submit(a, b.post(`${height}`)); posts++ }
      if (height === 3) await submit(reader, b.unfollow(authors[0]!.publicKey))
      await block()
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
