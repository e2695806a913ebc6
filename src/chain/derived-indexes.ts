/**
 * Node-local indexes derived from committed state: they answer reads the state
 * buckets cannot answer cheaply, are not consensus state (never in the state
 * root), are written in each block's own batch (so they never lag the head),
 * and are rebuilt when their version in meta differs from the code's — a data
 * directory made before an index existed gets it at its next start.
 *
 *   postOrder: height(u64) ‖ index(u32) -> postId(32): every post, chain-wide, in
 *   chain order (post_listRecent), from the state's postByAuthor rows.
 */
import { utf8 } from '../crypto/bytes.ts'
import { Bucket } from '../state/buckets.ts'
import type { Store } from '../state/store.ts'
import type { Write } from '../state/view.ts'

/** Bumped when an index's layout or meaning changes: the store's indexes are then rebuilt. */
export const DERIVED_INDEX_VERSION = 1
const META_VERSION = utf8.encode('derivedIndexVersion')
/** Rows read and written per batch while rebuilding: memory stays flat however large the chain. */
const REBUILD_BATCH = 10_000
const AUTHOR_BYTES = 32

/** The index rows a block's state writes imply, to go in the same batch. */
export function derivedWrites (stateWrites: readonly Write[]): Write[] {
  const out: Write[] = []
  for (const w of stateWrites) {
    // posts are never deleted, so only puts matter: author ‖ height ‖ index -> id
    if (w.bucket === Bucket.postByAuthor && w.value !== null) out.push({ bucket: Bucket.postOrder, key: w.key.subarray(AUTHOR_BYTES), value: w.value })
  }
  return out
}

/** Writes the version marker for a store made with the indexes from its genesis on. */
export function derivedIndexMeta (): Write {
  return { bucket: Bucket.meta, key: META_VERSION, value: Uint8Array.of(DERIVED_INDEX_VERSION) }
}

/**
 * Rebuilds the indexes from the state when the store's version is not this code's;
 * call before anything commits. Returns the rows written (0 when up to date).
 */
export async function ensureDerivedIndexes (store: Store): Promise<number> {
  const stored = await store.get(Bucket.meta, META_VERSION)
  if (stored !== undefined && stored.length === 1 && stored[0] === DERIVED_INDEX_VERSION) return 0
  await clearBucket(store, Bucket.postOrder)
  let rows = 0
  let after: Uint8Array | undefined
  for (;;) {
    const page = await store.range(Bucket.postByAuthor, { ...(after === undefined ? {} : { gt: after }), limit: REBUILD_BATCH })
    if (page.length === 0) break
    await store.commit(derivedWrites(page.map(([key, value]) => ({ bucket: Bucket.postByAuthor, key, value }))))
    rows += page.length
    after = page[page.length - 1]![0]
  }
  await store.commit([derivedIndexMeta()], true)
  return rows
}

/** Deletes every row of a derived index, a batch at a time. */
export async function clearBucket (store: Store, bucket: Bucket): Promise<void> {
  for (;;) {
    const page = await store.range(bucket, { limit: REBUILD_BATCH })
    if (page.length === 0) return
    await store.commit(page.map(([key]) => ({ bucket, key, value: null })))
  }
}
