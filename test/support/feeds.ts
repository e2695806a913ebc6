import { toHex } from '../../src/crypto/bytes.ts'
import type { Feeds } from '../../src/feed/feeds.ts'
import type { PostRef } from '../../src/state/queries.ts'

/** A reader's whole home feed, page by page (`limit` a page), as post ids newest first. */
export async function walkHome (q: Feeds, reader: Uint8Array, limit: number): Promise<string[]> {
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
