/**
 * The store's batches on LevelDB carry keys with their bucket's prefix put on by the store, and
 * keys and values as views of one buffer: what a batch writes must land in its bucket and nowhere
 * else, exactly as abstract-level's sublevels put it (a memory-level store still writes that way),
 * and a batch after close must be refused, not crash the process.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MemoryLevel } from 'memory-level'
import { afterEach, describe, expect, it } from 'vitest'
import { Bucket } from '../../../src/state/buckets.ts'
import { Store } from '../../../src/state/store.ts'
import type { Write } from '../../../src/state/view.ts'

let dir: string | undefined
afterEach(async () => { if (dir !== undefined) await rm(dir, { recursive: true, force: true }); dir = undefined })

const b = (...x: number[]): Uint8Array => Uint8Array.from(x)
const hex = (u: Uint8Array): string => Buffer.from(u).toString('hex')

/** Every bucket's rows, as hex pairs. */
async function contents (store: Store): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {}
  for (const bucket of [Bucket.account, Bucket.post, Bucket.like, Bucket.timeline, Bucket.meta]) {
    out[bucket] = (await store.range(bucket, {})).map(([k, v]) => `${hex(k)}=${hex(v)}`)
  }
  return out
}

const batches: Write[][] = [
  [
    { bucket: Bucket.account, key: b(1), value: b(10) },
    { bucket: Bucket.account, key: b(2), value: b(20) },
    // a view into a larger buffer, as a block's values often are
    { bucket: Bucket.post, key: b(1, 2, 3), value: new Uint8Array([0, 0, 7, 8, 9, 0]).subarray(2, 5) },
    { bucket: Bucket.like, key: new Uint8Array(64).fill(5), value: new Uint8Array(0) },
    { bucket: Bucket.timeline, key: b(9, 9), value: b(1) }
  ],
  [
    { bucket: Bucket.account, key: b(1), value: null },
    { bucket: Bucket.account, key: b(3), value: b(30) },
    { bucket: Bucket.like, key: new Uint8Array(64).fill(5), value: null },
    { bucket: Bucket.meta, key: b(0), value: b(1, 2) }
  ]
]

describe('store batches', () => {
  it('land in their buckets on LevelDB as on memory-level, survive a reopen, and are read through the read cache', async () => {
    dir = await mkdtemp(join(tmpdir(), 'chorus-store-'))
    const level = await Store.open(join(dir, 'db'))
    const memory = await Store.wrap(new MemoryLevel<Uint8Array, Uint8Array>({ keyEncoding: 'view', valueEncoding: 'view' }) as never)
    for (const writes of batches) {
      await level.commit(writes, true)
      await memory.commit(writes)
    }
    const want = await contents(memory)
    expect(want[Bucket.account]).toEqual(['02=14', '03=1e'])
    expect(want[Bucket.post]).toEqual(['010203=070809'])
    expect(await contents(level)).toEqual(want)
    expect(await level.get(Bucket.account, b(1))).toBeUndefined()
    expect(hex((await level.get(Bucket.account, b(3)))!)).toBe('1e')
    await level.close()
    const reopened = await Store.open(join(dir, 'db'))
    try {
      expect(await contents(reopened)).toEqual(want)
    } finally {
      await reopened.close()
    }
  })

  it('refuses a batch once closed', async () => {
    dir = await mkdtemp(join(tmpdir(), 'chorus-store-'))
    const store = await Store.open(join(dir, 'db'))
    await store.close()
    await expect(store.commit(batches[0]!)).rejects.toThrow(/not open/)
  })
})
