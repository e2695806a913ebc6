/**
 * The consensus write-ahead log: every input of the current height, so that a
 * restarted validator rebuilds exactly the state (locks included) it had.
 *
 * Records are framed [length u32 BE][checksum u32 BE = first 4 bytes of
 * sha256(payload)][payload]. Reading stops at the first frame that is short or
 * fails its checksum: a torn or corrupted tail is dropped, never trusted, and
 * the file is cut back to the last good frame. The log is reset at each new
 * height, after the previous block is durably committed.
 *
 * Payload: canonical msgpack [kind, ...]:
 *   [0, height, round]                  a height starts (the first record)
 *   [1, signedProposalBytes, blockBytes] a proposal received (or our own)
 *   [2, signedVoteBytes]                a vote received
 *   [3, height, round, blockBytes]      our own proposal's block, as built
 *   [4, step, height, round]            a timeout fired
 *   [5, height, round, step, signBytes, signature]  what we signed (only in the
 *                                        combined log of consensus-log.ts, where
 *                                        it is the double-sign guard's record)
 */
import { open, readFile, truncate } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import { decodeCanonical, encodeCanonical } from '../codec/canonical.ts'
import { asArray, asBytes, asUint } from '../codec/schema.ts'
import { equalBytes } from '../crypto/bytes.ts'
import { ErrorCode, fail } from '../protocol/errors.ts'
import type { TimeoutStep } from './types.ts'

export type WalRecord =
  | { kind: 'height', height: number, round: number }
  | { kind: 'proposal', proposal: Uint8Array, block: Uint8Array }
  | { kind: 'vote', vote: Uint8Array }
  | { kind: 'built', height: number, round: number, block: Uint8Array }
  | { kind: 'timeout', step: TimeoutStep, height: number, round: number }
  /** A signature that left (or may leave) the process; `step` as in sign-state.ts (1 proposal, 2 prevote, 3 precommit). */
  | { kind: 'signed', height: number, round: number, step: number, signBytes: Uint8Array, signature: Uint8Array }

const STEPS: TimeoutStep[] = ['propose', 'prevote', 'precommit']
const MAX_RECORD = 64 * 1024 * 1024

export function encodeWalRecord (r: WalRecord): Uint8Array {
  switch (r.kind) {
    case 'height': return encodeCanonical([0, r.height, r.round])
    case 'proposal': return encodeCanonical([1, r.proposal, r.block])
    case 'vote': return encodeCanonical([2, r.vote])
    case 'built': return encodeCanonical([3, r.height, r.round, r.block])
    case 'timeout': return encodeCanonical([4, STEPS.indexOf(r.step), r.height, r.round])
    case 'signed': return encodeCanonical([5, r.height, r.round, r.step, r.signBytes, r.signature])
  }
}

export function decodeWalRecord (b: Uint8Array): WalRecord {
  const v = decodeCanonical(b, MAX_RECORD)
  if (!Array.isArray(v) || v.length === 0) fail(ErrorCode.MALFORMED, 'wal record')
  switch ((v as unknown[])[0]) {
    case 0: { const [, h, r] = asArray(v, 3, 'wal'); return { kind: 'height', height: asUint(h!, 'height'), round: asUint(r!, 'round') } }
    case 1: { const [, p, blk] = asArray(v, 3, 'wal'); return { kind: 'proposal', proposal: asBytes(p!, 'proposal'), block: asBytes(blk!, 'block') } }
    case 2: { const [, vote] = asArray(v, 2, 'wal'); return { kind: 'vote', vote: asBytes(vote!, 'vote') } }
    case 3: { const [, h, r, blk] = asArray(v, 4, 'wal'); return { kind: 'built', height: asUint(h!, 'height'), round: asUint(r!, 'round'), block: asBytes(blk!, 'block') } }
    case 4: {
      const [, s, h, r] = asArray(v, 4, 'wal')
      const step = STEPS[asUint(s!, 'step')] ?? fail(ErrorCode.MALFORMED, 'wal timeout step')
      return { kind: 'timeout', step, height: asUint(h!, 'height'), round: asUint(r!, 'round') }
    }
    case 5: {
      const [, h, r, s, sb, sig] = asArray(v, 6, 'wal')
      const step = asUint(s!, 'step')
      if (step < 1 || step > 3) fail(ErrorCode.MALFORMED, 'wal signed step')
      return { kind: 'signed', height: asUint(h!, 'height'), round: asUint(r!, 'round'), step, signBytes: asBytes(sb!, 'signBytes'), signature: asBytes(sig!, 'signature') }
    }
    default: return fail(ErrorCode.MALFORMED, 'wal record kind')
  }
}

const checksum = (payload: Uint8Array): Uint8Array => createHash('sha256').update(payload).digest().subarray(0, 4)

export function frame (payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + payload.length)
  new DataView(out.buffer).setUint32(0, payload.length)
  out.set(checksum(payload), 4)
  out.set(payload, 8)
  return out
}

/** The good records of `bytes`, and the length of the good prefix (a torn or corrupt tail stops the scan). */
export function unframe (bytes: Uint8Array): { records: WalRecord[], goodLength: number } {
  const records: WalRecord[] = []
  let pos = 0
  while (pos + 8 <= bytes.length) {
    const len = new DataView(bytes.buffer, bytes.byteOffset + pos, 4).getUint32(0)
    if (len > MAX_RECORD || pos + 8 + len > bytes.length) break
    const payload = bytes.subarray(pos + 8, pos + 8 + len)
    if (!equalBytes(checksum(payload), bytes.subarray(pos + 4, pos + 8))) break
    try {
      records.push(decodeWalRecord(payload))
    } catch {
      break
    }
    pos += 8 + len
  }
  return { records, goodLength: pos }
}

/**
 * Where the WAL's bytes live. Every method may be called again after it threw
 * (the driver retries transient I/O errors): a failed call leaves nothing that
 * a later successful one does not make whole.
 */
export interface Wal {
  /** The intact records, after cutting away any torn or corrupt tail. */
  open (): Promise<WalRecord[]>
  /**
   * True when the sign store writes its records into this log, after every record appended
   * before them (consensus-log.ts): each save's fsync then makes those inputs durable too, and
   * the driver needs no `sync` of its own before signing.
   */
  readonly syncedBySignStore?: boolean
  /** Appends (buffered: durable only after `sync`). */
  append (r: WalRecord): Promise<void>
  sync (): Promise<void>
  /** Empties the log and writes `first`, durably. */
  reset (first: WalRecord): Promise<void>
  close (): Promise<void>
}

/**
 * The WAL in a file. It remembers the frames appended since the last good sync:
 * after a failed write (a torn frame may be on disk) or a failed fsync (the
 * kernel may have dropped the dirty pages and marked them clean, so a second
 * fsync would succeed with the data lost), nothing past the synced length is
 * trusted. The next call cuts the file back to that length and writes those
 * frames again through a fresh handle before it does its own work.
 */
export function fileWal (path: string): Wal {
  let fh: Awaited<ReturnType<typeof open>> | null = null
  /** Bytes of the file known durable, and the frames written after them (not yet synced). */
  let synced = 0
  let unsynced: Uint8Array[] = []
  let broken = false
  const drop = async () => {
    const old = fh
    fh = null
    await old?.close().catch(() => {}) // its error is the one being recovered from, or a stale one
  }
  const handle = async () => {
    if (broken) {
      await drop()
      const f = fh = await open(path, 'a')
      await f.truncate(synced)
      for (const b of unsynced) await f.writeFile(b) // writeFile loops over short writes; write() may stop short
      broken = false
    }
    return (fh ??= await open(path, 'a'))
  }
  /** Runs `op`; if it throws, the file is suspect until the next call rewrites its unsynced tail. */
  const guarded = async <T>(op: () => Promise<T>): Promise<T> => {
    try {
      return await op()
    } catch (e) {
      broken = true
      throw e
    }
  }
  return {
    async open () {
      let bytes: Uint8Array
      try {
        bytes = await readFile(path)
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return []
        throw e
      }
      const { records, goodLength } = unframe(bytes)
      if (goodLength < bytes.length) await truncate(path, goodLength)
      await drop()
      synced = goodLength
      unsynced = []
      broken = false
      return records
    },
    append: async (r) => {
      const b = frame(encodeWalRecord(r))
      await guarded(async () => { await (await handle()).writeFile(b) })
      unsynced.push(b)
    },
    sync: async () => {
      if (fh === null && !broken) return
      await guarded(async () => {
        const f = await handle()
        await f.sync()
        synced += unsynced.reduce((n, b) => n + b.length, 0)
        unsynced = []
      })
    },
    reset: async (first) => {
      await drop()
      // from here the file's old content is worth nothing: a failed reset leaves an empty log to write `first` into
      synced = 0
      unsynced = [frame(encodeWalRecord(first))]
      broken = true
      await guarded(async () => {
        const f = await handle()
        await f.sync()
        synced = unsynced[0]!.length
        unsynced = []
      })
    },
    async close () { await drop() }
  }
}

/**
 * A WAL in memory for simulations. It survives a simulated crash; what was
 * appended after the last sync is lost in one, as an OS crash would lose it.
 */
export function memoryWal (): Wal & { crash: () => void, bytes: () => Uint8Array } {
  let frames: Uint8Array[] = []
  let synced = 0
  return {
    async open () { return unframe(concat(frames)).records },
    async append (r) { frames.push(frame(encodeWalRecord(r))) },
    async sync () { synced = frames.length },
    async reset (first) { frames = [frame(encodeWalRecord(first))]; synced = 1 },
    async close () {},
    crash () { frames = frames.slice(0, synced) },
    bytes: () => concat(frames)
  }
}

function concat (parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let o = 0
  for (const p of parts) { out.set(p, o); o += p.length }
  return out
}
