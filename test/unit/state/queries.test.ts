import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import * as b from '../../../src/client/transactions.ts'
import { toHex } from '../../../src/crypto/bytes.ts'
import { ensureDerivedIndexes } from '../../../src/chain/derived-indexes.ts'
import { Bucket } from '../../../src/state/buckets.ts'
import { Feeds } from '../../../src/feed/feeds.ts'
import { Queries } from '../../../src/state/queries.ts'
import { readAccount, readPost } from '../../../src/state/transition.ts'
import { type Fixture, makeFixture } from '../../support/chain.ts'

let fx: Fixture
beforeEach(async () => { fx = await makeFixture({ users: 4 }) })
afterEach(async () => { await fx.close() })

async function pages<T> (get: (cursor: string | null) => Promise<{ items: T[], cursor: string | null }>): Promise<{ items: T[], pages: number }> {
  const items: T[] = []
  let cursor: string | null = null
  let n = 0
  do {
    const page = await get(cursor)
    items.push(...page.items)
    cursor = page.cursor
    n++
  } while (cursor !== null && n < 100)
  return { items, pages: n }
}

describe('queries', () => {
  it('pages a feed newest first across authors, and the graph and likes in address order', async () => {
    const [reader, x, y, z] = fx.users as [b.Signer, b.Signer, b.Signer, b.Signer]
    await fx.pool.submitDecoded(await fx.tx(reader, b.follow(x.publicKey)))
    await fx.pool.submitDecoded(await fx.tx(reader, b.follow(y.publicKey)))
    await fx.block()
    const expected: string[] = []
    for (let round = 0; round < 4; round++) {
      for (const author of [x, y, z]) {
        const tx = await fx.tx(author, b.post(`${round}`))
        await fx.pool.submitDecoded(tx)
        if (author !== z) expected.push(toHex(tx.id))
      }
      await fx.block()
    }
    const q = new Queries(fx.store)
    const order = async (ids: string[]) => {
      const posts = await Promise.all(ids.map(async (id) => (await q.post(Buffer.from(id, 'hex')))!))
      return posts.map((p) => p.height * 10_000 + p.index)
    }
    const feed = await pages((c) => new Feeds(fx.store, null).home(reader.publicKey, c, 3))
    expect(feed.pages).toBe(3)
    const got = feed.items.map((r) => toHex(r.id))
    expect(new Set(got)).toEqual(new Set(expected))
    const keys = await order(got)
    expect(keys).toEqual([...keys].sort((a, b) => b - a))

    const byAuthor = await pages((c) => q.postsByAuthor(x.publicKey, c, 3))
    expect(byAuthor.items).toHaveLength(4)
    expect(byAuthor.pages).toBe(2)

    await fx.pool.submitDecoded(await fx.tx(y, b.follow(x.publicKey)))
    await fx.pool.submitDecoded(await fx.tx(z, b.follow(x.publicKey)))
    for (const u of [reader, y, z]) await fx.pool.submitDecoded(await fx.tx(u, b.like(feed.items.find((r) => toHex(r.post.author) === toHex(x.publicKey))!.id)))
    await fx.block()
    const followers = await pages(async (c) => { const p = await q.pairs(Bucket.follower, x.publicKey, c, 1); return { ...p, items: p.items.map((r) => r.address) } })
    expect(followers.items.map(toHex).sort()).toEqual([reader, y, z].map((s) => toHex(s.publicKey)).sort())
    expect(followers.items.map(toHex)).toEqual(followers.items.map(toHex).sort())
    const liked = feed.items.find((r) => toHex(r.post.author) === toHex(x.publicKey))!.id
    expect((await pages((c) => q.pairs(Bucket.like, liked, c, 2))).items).toHaveLength(3)
  })
})

describe('recent posts, follows and likes', () => {
  it('pages every post chain-wide newest first, and answers who follows and likes what', async () => {
    const [a, x, y] = fx.users as [b.Signer, b.Signer, b.Signer]
    const ids: string[] = []
    for (let round = 0; round < 3; round++) {
      for (const author of [a, x, y]) {
        const tx = await fx.tx(author, round === 2 && author === y ? b.reply(Buffer.from(ids[0]!, 'hex'), 'a reply') : b.post(`${round}`))
        await fx.pool.submitDecoded(tx)
        ids.push(toHex(tx.id))
      }
      await fx.block()
    }
    const q = new Queries(fx.store)
    const recent = await pages((c) => q.recentPosts(c, 4))
    expect(recent.pages).toBe(3)
    const got = recent.items.map((r) => toHex(r.id))
    expect(new Set(got)).toEqual(new Set(ids))
    const order = recent.items.map((r) => r.post.height * 10_000 + r.post.index)
    expect(order).toEqual([...order].sort((m, n) => n - m))

    await fx.pool.submitDecoded(await fx.tx(a, b.follow(x.publicKey)))
    await fx.pool.submitDecoded(await fx.tx(x, b.like(Buffer.from(ids[0]!, 'hex'))))
    await fx.block()
    expect(await q.follows(a.publicKey, x.publicKey)).toBe(true)
    expect(await q.follows(x.publicKey, a.publicKey)).toBe(false)
    expect(await q.likes(x.publicKey, Buffer.from(ids[0]!, 'hex'))).toBe(true)
    expect(await q.likes(a.publicKey, Buffer.from(ids[0]!, 'hex'))).toBe(false)
    // a post made after the first page was read comes before it, never inside the pages that follow
    const first = await q.recentPosts(null, 4)
    const late = await fx.tx(a, b.post('late'))
    await fx.pool.submitDecoded(late)
    await fx.block()
    const rest = await pages((c) => c === null ? q.recentPosts(first.cursor, 4) : q.recentPosts(c, 4))
    expect([...first.items, ...rest.items].map((r) => toHex(r.id))).toEqual(got)
    expect(toHex((await q.recentPosts(null, 1)).items[0]!.id)).toBe(toHex(late.id))
  })

  it('a store from before the index gets it at the next open, from the state alone', async () => {
    const [a, x] = fx.users as [b.Signer, b.Signer]
    for (const author of [a, x, a]) await fx.pool.submitDecoded(await fx.tx(author, b.post('before the index')))
    await fx.block()
    const q = new Queries(fx.store)
    const before = (await q.recentPosts(null, 10)).items.map((r) => toHex(r.id))
    expect(before).toHaveLength(3)
    // as a node from before the index left it: no rows, no version marker
    const rows = await fx.store.range(Bucket.postOrder, {})
    await fx.store.commit([...rows.map(([key]) => ({ bucket: Bucket.postOrder, key, value: null })), { bucket: Bucket.meta, key: Buffer.from('derivedIndexVersion'), value: null }])
    expect((await q.recentPosts(null, 10)).items).toEqual([])
    expect(await ensureDerivedIndexes(fx.store)).toBe(3)
    expect((await q.recentPosts(null, 10)).items.map((r) => toHex(r.id))).toEqual(before)
    expect(await ensureDerivedIndexes(fx.store)).toBe(0) // up to date: nothing to do
  })
})

describe('one height per page', () => {
  it('reads a snapshot: a block committed while a page is read is not in it', async () => {
    const [a] = fx.users as [b.Signer]
    const first = await fx.tx(a, b.post('first'))
    await fx.pool.submitDecoded(first)
    await fx.block()
    const snap = fx.store.snapshot()
    try {
      await fx.pool.submitDecoded(await fx.tx(a, b.post('second')))
      await fx.pool.submitDecoded(await fx.tx(a, b.like(first.id)))
      await fx.block()
      // the snapshot still sees one post, unliked, and a's account as it was; the store sees the block
      expect(await snap.range(Bucket.postByAuthor, { gte: a.publicKey, lt: new Uint8Array(33).fill(0xff) })).toHaveLength(1)
      expect((await readPost(snap, first.id))!.likeCount).toBe(0)
      expect((await readPost(fx.store, first.id))!.likeCount).toBe(1)
      expect((await readAccount(snap, a.publicKey)).postCount).toBe(1)
      expect((await readAccount(fx.store, a.publicKey)).postCount).toBe(2)
    } finally {
      await snap.close()
    }
  })
})
