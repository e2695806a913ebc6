import { describe, expect, it } from 'vitest'
import { FanOut, type FannedPost } from '../../../src/feed/fan-out.ts'
import type { FollowerList } from '../../../src/feed/follower-lists.ts'
import { FANOUT_TAG, rowIndices, timelineKey } from '../../../src/feed/timeline-rows.ts'
import { prng } from '../../sim/sim-clock.ts'

/** The fan-out written plainly: reader → its posts' indices, ascending. */
function plainly (height: number, posts: readonly FannedPost[]): Map<number, number[]> {
  const out = new Map<number, number[]>()
  for (const { index, followers } of posts) {
    for (let k = 0; k < followers.length; k++) {
      if (followers.since[k]! > height) continue
      const id = followers.readers[k]!
      out.set(id, [...(out.get(id) ?? []), index].sort((a, b) => a - b))
    }
  }
  return out
}

const unpack = (value: Uint8Array): number[] => rowIndices(timelineKey(new Uint8Array(32), 1, FANOUT_TAG), value)

describe('fan-out', () => {
  it('gives each reader the indices of its followed authors\' posts, ascending, as the plain fan-out does, block after block', () => {
    const rand = prng(11).next // seeded: a failure is the same every run
    const fanOut = new FanOut() // one for every block, as the indexer keeps it: its buffers grow and are reused
    for (let block = 0; block < 40; block++) {
      const readerCount = 1 + Math.floor(rand() * 3000)
      const authors: FollowerList[] = Array.from({ length: 1 + Math.floor(rand() * 50) }, () => {
        const n = Math.floor(rand() * Math.min(readerCount, 400))
        const readers = new Uint32Array(n + 3) // room past `length`, as a grown list has
        const picked = new Set<number>()
        while (picked.size < n) picked.add(Math.floor(rand() * readerCount))
        readers.set([...picked])
        return { readers, since: Uint32Array.from({ length: n + 3 }, () => Math.floor(rand() * 120)), length: n, loadedAt: 0 }
      })
      const posts: FannedPost[] = []
      for (let index = 0; index < 2000; index += 1 + Math.floor(rand() * 300)) posts.push({ index, followers: authors[Math.floor(rand() * authors.length)]! })
      const height = 100
      const rows = fanOut.rows(height, posts, readerCount)
      const got = new Map(rows.map((r) => [r.reader, unpack(r.value)]))
      expect(rows.length).toBe(got.size) // a row per reader
      expect(got).toEqual(plainly(height, posts))
    }
  })

  it('gives back an outsized block\'s array once blocks are much smaller', () => {
    const many: FollowerList = { readers: Uint32Array.from({ length: 50_000 }, (_, i) => i), since: new Uint32Array(50_000), length: 50_000, loadedAt: 0 }
    const few: FollowerList = { readers: Uint32Array.of(1, 2), since: new Uint32Array(2), length: 2, loadedAt: 0 }
    const fanOut = new FanOut()
    const big = fanOut.rows(5, Array.from({ length: 100 }, (_, index) => ({ index, followers: many })), 50_000) // 5M entries
    expect(big.length).toBe(50_000)
    expect(unpack(big[7]!.value)).toHaveLength(100)
    expect(fanOut.capacity).toBeGreaterThanOrEqual(5_000_000)
    expect(fanOut.rows(6, [{ index: 0, followers: few }], 50_000).map((r) => unpack(r.value))).toEqual([[0], [0]])
    expect(fanOut.capacity).toBeLessThanOrEqual(1 << 22)
  })

  it('skips a follower whose follow is newer than the block, and a block without posts reaches no one', () => {
    const followers: FollowerList = { readers: Uint32Array.of(4, 5), since: Uint32Array.of(9, 11), length: 2, loadedAt: 0 }
    const fanOut = new FanOut()
    expect(fanOut.rows(10, [{ index: 3, followers }, { index: 7, followers }], 6).map((r) => [r.reader, unpack(r.value)])).toEqual([[4, [3, 7]]])
    expect(fanOut.rows(10, [], 6)).toEqual([])
  })
})
