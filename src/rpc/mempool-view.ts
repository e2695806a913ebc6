/**
 * `mempool_status` and `mempool_list` read the pending txs through a snapshot:
 * the mempool's one way to list them (`ordered()`, a merge across senders) costs
 * O(n log senders), some 50 ms for a full pool of 20,000 senders, all of it on
 * the event loop. A snapshot is taken afresh for each call while the pool is
 * small (under LARGE txs: a tx just submitted shows at once); a larger one serves
 * the calls for RETAKE_FACTOR times what it took, so that callers polling a large
 * pool take at most ~1/RETAKE_FACTOR of the event loop, and see the pool as it
 * was at most that long ago (~1 s for a full pool).
 *
 * The list is in a fixed order of the txs themselves: highest fee per byte first,
 * then by id, so a cursor (the last item's fee rate and id) pages on from where it
 * was whatever came and went in between.
 */
import { base64urlnopad } from '@scure/base'
import type { Mempool } from '../chain/mempool.ts'
import { concatBytes, parseHex, toHex } from '../crypto/bytes.ts'
import { ErrorCode, fail } from '../protocol/errors.ts'
import type { SignedTx } from '../protocol/types.ts'

/** Fee per byte is kept as an integer of millionths. */
const SCALE = 1_000_000n
/** A snapshot of fewer txs than this (well under a millisecond) is taken afresh for every call. */
const LARGE = 1_000
/** A larger one serves the calls for this many times what it took. */
const RETAKE_FACTOR = 20

/** A pending tx as a snapshot keeps it: not the tx itself, which may leave the pool before the snapshot does. */
interface Entry { rate: bigint, id: string }

interface Snapshot {
  takenAt: number
  tookMs: number
  /** In list order: rate descending, then id ascending. */
  entries: Entry[]
  encodedBytes: number
}

const snapshots = new WeakMap<Mempool, Snapshot>()

const rateOf = (tx: SignedTx): bigint => (tx.unsigned.fee * SCALE) / BigInt(tx.bytes.length)

/** Whether a comes before b in the list. */
const before = (a: { rate: bigint, id: string }, b: { rate: bigint, id: string }): boolean =>
  a.rate > b.rate || (a.rate === b.rate && a.id < b.id)

function snapshot (pool: Mempool, now = performance.now()): Snapshot {
  const last = snapshots.get(pool)
  if (last !== undefined && last.entries.length >= LARGE && now - last.takenAt < RETAKE_FACTOR * last.tookMs) return last
  const entries: Entry[] = []
  let encodedBytes = 0
  for (const tx of pool.ordered()) {
    entries.push({ rate: rateOf(tx), id: toHex(tx.id) })
    encodedBytes += tx.bytes.length
  }
  entries.sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0))
  const taken: Snapshot = { takenAt: now, tookMs: performance.now() - now, entries, encodedBytes }
  snapshots.set(pool, taken)
  return taken
}

/** A fee per byte in millionths, as a decimal string ("1", "1.5"). */
export function formatRate (rate: bigint): string {
  const whole = rate / SCALE
  const frac = (rate % SCALE).toString().padStart(6, '0').replace(/0+$/, '')
  return frac === '' ? whole.toString() : `${whole}.${frac}`
}

export interface MempoolStatus {
  count: number
  bytes: number
  feePerByte: { min: string, median: string, max: string } | null
}

export function mempoolStatus (pool: Mempool): MempoolStatus {
  const s = snapshot(pool)
  const n = s.entries.length
  if (n === 0) return { count: 0, bytes: 0, feePerByte: null }
  // entries run from the highest rate down; the median of an even count is the lower middle
  return {
    count: n,
    bytes: s.encodedBytes,
    feePerByte: { min: formatRate(s.entries[n - 1]!.rate), median: formatRate(s.entries[Math.floor(n / 2)]!.rate), max: formatRate(s.entries[0]!.rate) }
  }
}

function encodeCursor (e: Entry): string {
  const rate = e.rate.toString(16)
  return base64urlnopad.encode(concatBytes(parseHex(e.id)!, parseHex(rate.length % 2 === 0 ? rate : `0${rate}`)!))
}

function decodeCursor (cursor: string): { rate: bigint, id: string } {
  let b: Uint8Array | undefined
  try {
    b = base64urlnopad.decode(cursor)
  } catch { /* below */ }
  if (b === undefined || b.length < 33 || b.length > 64) return fail(ErrorCode.INVALID_CURSOR, 'cursor is not one this list returned')
  return { id: toHex(b.subarray(0, 32)), rate: BigInt(`0x${toHex(b.subarray(32))}`) }
}

/**
 * A page of pending txs after `cursor`, in list order (see the header). A tx that
 * left the pool since the snapshot is passed over.
 */
export function mempoolPage (pool: Mempool, cursor: string | null, limit: number): { items: SignedTx[], cursor: string | null } {
  const { entries } = snapshot(pool)
  let start = 0
  if (cursor !== null) {
    const after = decodeCursor(cursor)
    // the first entry that comes after the cursor's
    let lo = 0
    let hi = entries.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (before(after, entries[mid]!)) hi = mid
      else lo = mid + 1
    }
    start = lo
  }
  const items: SignedTx[] = []
  let i = start
  for (; i < entries.length && items.length < limit; i++) {
    const tx = pool.get(parseHex(entries[i]!.id)!)
    if (tx !== undefined) items.push(tx)
  }
  return { items, cursor: i < entries.length ? encodeCursor(entries[i - 1]!) : null }
}
