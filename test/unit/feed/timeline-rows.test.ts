import { describe, expect, it } from 'vitest'
import { FollowerLists, ReaderIds } from '../../../src/feed/follower-lists.ts'
import { FANOUT_TAG, backfillRows, packIndices, rowIndices, timelineKey } from '../../../src/feed/timeline-rows.ts'

describe('timeline rows', () => {
  it('pack a fan-out row\'s indices as varint gaps or a bitmap, whichever is smaller, and read them back; a backfill row as its tag', () => {
    const reader = new Uint8Array(32).fill(3)
    const dense = Array.from({ length: 1000 }, (_, i) => 70_000 + 2 * i)
    const sparse = [5, 127, 128, 300, 16_383, 16_384, 2_000_000, 4_294_967_295]
    for (const indices of [[], [0], [0, 1], [7, 8, 15, 16, 17], sparse, dense, [0, ...dense]]) {
      expect(rowIndices(timelineKey(reader, 9, FANOUT_TAG), packIndices(indices))).toEqual(indices)
    }
    expect(packIndices([1, 200]).length).toBe(1 + 1 + 2) // gaps: a byte and two
    expect(packIndices(sparse).length).toBe(1 + 1 + 1 + 1 + 2 + 2 + 1 + 3 + 5) // gaps 5, 122, 1, 172, 16,083, 1, 1,983,616, 4,292,967,295
    expect(packIndices(dense).length).toBe(1 + 3 + 250) // a bitmap from 70,000: a bit an index of 2,000
    expect(rowIndices(timelineKey(reader, 9, 42 + 1), new Uint8Array(0))).toEqual([42])
  })
})

describe('backfill rows', () => {
  it('are one a height, keyed by the first index + 1, read back as that height\'s indices; one post alone keeps the old empty value', () => {
    const reader = new Uint8Array(32).fill(3)
    const posts = [{ height: 9, index: 40 }, { height: 7, index: 5 }, { height: 9, index: 2 }, { height: 9, index: 300 }, { height: 8, index: 0 }]
    const rows = backfillRows(reader, posts)
    expect(rows.map((r) => [r.key, rowIndices(r.key, r.value)])).toEqual([
      [timelineKey(reader, 9, 3), [2, 40, 300]],
      [timelineKey(reader, 7, 6), [5]],
      [timelineKey(reader, 8, 1), [0]]
    ])
    expect(rows.filter((r) => r.value.length === 0).map((r) => rowIndices(r.key, r.value))).toEqual([[5], [0]])
    expect(backfillRows(reader, [])).toEqual([])
  })
})

describe('follower lists', () => {
  const author = (n: number): string => String.fromCharCode(n)

  it('apply the follows and unfollows of blocks after a list was read, and only those', () => {
    const lists = new FollowerLists(100)
    lists.set(author(1), { readers: Uint32Array.of(7, 8), since: Uint32Array.of(1, 2), length: 2, loadedAt: 10 })
    lists.apply(author(1), 9, 10, true) // already in the list as read at 10
    lists.apply(author(1), 9, 11, true)
    lists.apply(author(1), 7, 12, false)
    lists.apply(author(2), 9, 12, true) // not held: nothing
    const l = lists.get(author(1))!
    expect([...l.readers.subarray(0, l.length)].sort()).toEqual([8, 9])
    expect(l.since[[...l.readers.subarray(0, l.length)].indexOf(9)]).toBe(11)
    expect(lists.get(author(2))).toBeUndefined()
    expect(lists.entryCount).toBe(2)
  })

  it('stay within their entry bound, dropping the least recently used list', () => {
    const lists = new FollowerLists(5)
    const list = (n: number) => ({ readers: new Uint32Array(n), since: new Uint32Array(n), length: n, loadedAt: 0 })
    lists.set(author(1), list(2))
    lists.set(author(2), list(2))
    lists.get(author(1)) // 1 is now the most recent
    lists.set(author(3), list(2))
    expect(lists.get(author(2))).toBeUndefined()
    expect(lists.get(author(1))).toBeDefined()
    expect(lists.entryCount).toBe(4)
  })

  it('number readers once each', () => {
    const ids = new ReaderIds()
    const a = new Uint8Array(32).fill(1)
    const b = new Uint8Array(32).fill(2)
    expect([ids.idOf(a), ids.idOf(b), ids.idOf(Uint8Array.from(a))]).toEqual([0, 1, 0])
    expect(ids.address(1)).toEqual(b)
  })
})
