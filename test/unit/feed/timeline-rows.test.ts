import { describe, expect, it } from 'vitest'
import { FollowerLists, ReaderIds } from '../../../src/feed/follower-lists.ts'
import { FANOUT_TAG, packIndices, rowIndices, timelineKey } from '../../../src/feed/timeline-rows.ts'

describe('timeline rows', () => {
  it('pack a fan-out row\'s indices as varint gaps and read them back, and a backfill row as its tag', () => {
    const reader = new Uint8Array(32).fill(3)
    for (const indices of [[], [0], [0, 0, 1], [5, 127, 128, 300, 16_383, 16_384, 2_000_000, 4_294_967_295]]) {
      const packed = packIndices(indices)
      expect(rowIndices(timelineKey(reader, 9, FANOUT_TAG), packed)).toEqual(indices)
    }
    expect(packIndices([1, 2, 3, 4]).length).toBe(4) // a byte each
    expect(rowIndices(timelineKey(reader, 9, 42 + 1), new Uint8Array(0))).toEqual([42])
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
