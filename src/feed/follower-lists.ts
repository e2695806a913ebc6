/**
 * Authors' followers, held in memory for the timeline indexer's fan-out: a popular author
 * posts in most blocks, and reading its follower rows each time cost more than the
 * fan-out itself. Readers are small numbers (ReaderIds), a list is two typed arrays, and
 * the lists together hold at most `maxEntries` followers (least recently used go first).
 *
 * A list loaded from the store is the state at the head then (`loadedAt`); the indexer
 * applies each later block's follows and unfollows to it (`apply`), so it stays the
 * state as of the block being indexed or later. Each entry keeps the follow's height:
 * a block's fan-out skips followers who followed after it (the index catching up).
 */
import { binaryKey } from '../crypto/bytes.ts'
import type { PublicKey } from '../protocol/types.ts'

/** Readers as numbers, for typed arrays and array-indexed grouping. Grows with the accounts that follow anyone. */
export class ReaderIds {
  private readonly ids = new Map<string, number>()
  private readonly addresses: PublicKey[] = []

  idOf (address: PublicKey): number {
    const key = binaryKey(address)
    let id = this.ids.get(key)
    if (id === undefined) {
      id = this.addresses.length
      this.ids.set(key, id)
      this.addresses.push(address.slice())
    }
    return id
  }

  address (id: number): PublicKey { return this.addresses[id]! }
  get size (): number { return this.addresses.length }
}

export interface FollowerList {
  /** Reader ids, the first `length` valid. */
  readers: Uint32Array
  /** The height each follow was made at. */
  since: Uint32Array
  length: number
  /** The head height the list was read at: blocks up to it are in it already. */
  loadedAt: number
}

export const DEFAULT_MAX_FOLLOWER_ENTRIES = 2_000_000

export class FollowerLists {
  /** author (binaryKey) → its followers; Map order is recency (a use moves it last) */
  private readonly lists = new Map<string, FollowerList>()
  private entries = 0

  constructor (private readonly maxEntries = DEFAULT_MAX_FOLLOWER_ENTRIES) {}

  get entryCount (): number { return this.entries }

  /** The author's list if held (and marks it used). */
  get (author: string): FollowerList | undefined {
    const list = this.lists.get(author)
    if (list !== undefined) {
      this.lists.delete(author)
      this.lists.set(author, list)
    }
    return list
  }

  /** Holds a list read from the store, evicting the least recently used past the bound. */
  set (author: string, list: FollowerList): void {
    const old = this.lists.get(author)
    if (old !== undefined) this.entries -= old.length
    this.lists.delete(author)
    this.lists.set(author, list)
    this.entries += list.length
    for (const [key, l] of this.lists) {
      if (this.entries <= this.maxEntries || key === author) break
      this.lists.delete(key)
      this.entries -= l.length
    }
  }

  /** Block `height`'s follow or unfollow of `author` by reader `id`, on a list that does not hold it yet. */
  apply (author: string, id: number, height: number, follows: boolean): void {
    const list = this.lists.get(author)
    if (list === undefined || height <= list.loadedAt) return
    if (follows) {
      if (list.length === list.readers.length) grow(list)
      list.readers[list.length] = id
      list.since[list.length] = height
      list.length++
      this.entries++
    } else {
      const i = list.readers.subarray(0, list.length).indexOf(id)
      if (i < 0) return
      list.length--
      list.readers[i] = list.readers[list.length]!
      list.since[i] = list.since[list.length]!
      this.entries--
    }
  }
}

function grow (list: FollowerList): void {
  const size = Math.max(8, list.readers.length * 2)
  const readers = new Uint32Array(size)
  readers.set(list.readers)
  const since = new Uint32Array(size)
  since.set(list.since)
  list.readers = readers
  list.since = since
}
