/**
 * The timeline indexer's fan-out of one block (src/feed/fan-out.ts), in process, beside the
 * plain fan-out it replaced (a list of index lists per reader, concatenated and sorted) run
 * on the same block: the reads.ts chain's shape, 2,000 readers each following 75 accounts
 * drawn from a Zipf law, and a block of ~3,700 posts (93% of 4,000 txs) by Zipf-drawn
 * authors, so the most followed post most.
 *
 *   npx tsx scripts/bench/fan-out.ts [--readers 2000] [--follows 75] [--txs 4000] [--rounds 20]
 *
 * Prints ms a block and the rows' bytes for each, alternating them twice.
 */
import { FanOut, type FannedPost } from '../../src/feed/fan-out.ts'
import type { FollowerList } from '../../src/feed/follower-lists.ts'
import { packIndices } from '../../src/feed/timeline-rows.ts'
import { prng } from '../../test/sim/sim-clock.ts'
import { flag } from './social-load.ts'

const READERS = Number(flag('--readers') ?? 2000)
const FOLLOWS = Number(flag('--follows') ?? 75)
const TXS = Number(flag('--txs') ?? 4000)
const ROUNDS = Number(flag('--rounds') ?? 20)

const rand = prng(7).next
const cdf: number[] = []
let total = 0
for (let i = 0; i < READERS; i++) cdf.push(total += 1 / (i + 1))
/** An account drawn with weight 1/rank. */
function zipf (): number {
  const r = rand() * total
  let lo = 0
  let hi = READERS - 1
  while (lo < hi) {
    const m = (lo + hi) >> 1
    if (cdf[m]! < r) lo = m + 1
    else hi = m
  }
  return lo
}

const followers: number[][] = Array.from({ length: READERS }, () => [])
for (let r = 0; r < READERS; r++) {
  const targets = new Set<number>()
  while (targets.size < Math.min(FOLLOWS, READERS - 1)) {
    const t = zipf()
    if (t !== r) targets.add(t)
  }
  for (const t of targets) followers[t]!.push(r)
}
const lists: FollowerList[] = followers.map((f) => ({ readers: Uint32Array.from(f), since: new Uint32Array(f.length), length: f.length, loadedAt: 0 }))
const posts: FannedPost[] = []
const byAuthor = new Map<number, number[]>()
for (let index = 0; index < TXS; index++) {
  if (rand() >= 0.93) continue
  const author = zipf()
  posts.push({ index, followers: lists[author]! })
  byAuthor.set(author, [...(byAuthor.get(author) ?? []), index])
}
const entries = posts.reduce((n, p) => n + p.followers.length, 0)
console.log(`a block of ${posts.length} posts by ${byAuthor.size} authors reaching ${entries.toLocaleString('en-US')} timeline entries (${READERS} readers following ${FOLLOWS} each)`)

/** The fan-out before fan-out.ts: per reader, the lists of its authors' indices, concatenated, sorted, packed. */
function plain (): number {
  const perReader: Array<Array<readonly number[]> | undefined> = []
  const reached: number[] = []
  for (const [author, indices] of byAuthor) {
    const list = lists[author]!
    for (let k = 0; k < list.length; k++) {
      const id = list.readers[k]!
      let l = perReader[id]
      if (l === undefined) {
        perReader[id] = l = []
        reached.push(id)
      }
      l.push(indices)
    }
  }
  let bytes = 0
  for (const id of reached) {
    const all = Uint32Array.from(perReader[id]!.flat()).sort()
    bytes += packIndices(all).length
  }
  return bytes
}

const fanOut = new FanOut()
const counted = (): number => fanOut.rows(1, posts, READERS).reduce((n, r) => n + r.value.length, 0)
for (const [name, run] of [['plain lists and sort (before)', plain], ['counting sort (fan-out.ts)', counted], ['plain lists and sort (before)', plain], ['counting sort (fan-out.ts)', counted]] as const) {
  const t0 = performance.now()
  let bytes = 0
  for (let i = 0; i < ROUNDS; i++) bytes = run()
  console.log(`${name}: ${((performance.now() - t0) / ROUNDS).toFixed(1)} ms a block, rows ${(bytes / 1e6).toFixed(2)} MB`)
}
