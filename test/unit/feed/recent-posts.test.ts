import { describe, expect, it } from 'vitest'
import { RecentPosts } from '../../../src/feed/recent-posts.ts'

const at = (height: number, index: number): { height: number, index: number } => ({ height, index })

describe('recent posts', () => {
  it('hold an author\'s newest posts as read at a block, kept up by each later block, newest first', () => {
    const recent = new RecentPosts(3)
    expect(recent.before('a', 10)).toBeUndefined()
    recent.set('a', 10, [at(2, 0), at(9, 4), at(5, 1), at(1, 0)]) // read from the store: any order, more than kept
    expect(recent.before('a', 10)).toEqual([at(9, 4), at(5, 1), at(2, 0)])
    expect(recent.before('a', 9)).toBeUndefined() // not held as of an earlier block
    recent.append('a', 10, [3, 7])
    recent.append('a', 10, [3, 7]) // the same block again (its batch failed and it is indexed again): once
    expect(recent.before('a', 11)).toEqual([at(10, 7), at(10, 3), at(9, 4)])
    recent.append('b', 10, [1]) // not held: nothing
    expect(recent.before('b', 11)).toBeUndefined()
  })

  it('hold at most maxAuthors lists, the least recently used going first', () => {
    const recent = new RecentPosts(2, 2)
    recent.set('a', 5, [at(1, 0)])
    recent.set('b', 5, [at(2, 0)])
    expect(recent.before('a', 5)).toEqual([at(1, 0)]) // a is used: b is the oldest now
    recent.set('c', 5, [at(3, 0)])
    expect(recent.before('b', 5)).toBeUndefined()
    expect(recent.before('a', 5)).toEqual([at(1, 0)])
    expect(recent.before('c', 5)).toEqual([at(3, 0)])
  })
})
