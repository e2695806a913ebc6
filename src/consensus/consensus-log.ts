/**
 * One file for the consensus WAL and the double-sign guard, so that one fsync per
 * signature makes both durable (issue #10): a vote used to cost a WAL fsync and a
 * sign-state rewrite (temp file, fsync, rename, directory fsync).
 *
 * Files:
 *   consensus.wal    frames as in wal.ts, appended and never rewritten in place
 *                    between compactions: each height starts with its marker
 *                    [0, height, round]; inputs follow; every signature is a
 *                    `signed` record [5, height, round, step, signBytes, signature]
 *                    appended after the inputs that led to it and fsynced before
 *                    the signature leaves the process.
 *   sign-state.json  a checkpoint of the guard (the format of sign-state.ts, so a
 *                    home from before this file loads unchanged): written at the
 *                    first signature of a home, and before each compaction.
 *
 * The guard on load is the later of the checkpoint and the `signed` records of the
 * log (by height; at one height, the union of their entries in (round, step) order).
 * Nothing a crash can leave makes it step back:
 *   - a save returns only after its frame, and every frame before it, is on the disk
 *     (one O_DSYNC write; write and fsync where the platform lacks O_DSYNC);
 *     a torn or unsynced tail is cut at the first bad frame on open (wal.ts), and
 *     what it held was never signed out nor needed to rebuild what was;
 *   - a compaction (at a height's start, once the log is past `compactBytes`) first
 *     writes the guard to the checkpoint, atomically (temp, fsync, rename, directory
 *     fsync), and only then empties the log: a crash between the two leaves the new
 *     checkpoint and the old log, after it an empty or torn log and the checkpoint.
 * A height's marker is not fsynced by itself: lost, the restarted driver finds no
 * marker for the height after the head and starts it afresh, as on a new home.
 * What a crash cannot explain stops the node instead of being cut away (never sign
 * blind): an intact `signed` record with bytes after it beyond a bad frame (damage:
 * a crash tears only the last write, which ends with its `signed` record), a damaged
 * checkpoint, or a missing log beside a checkpoint (the log is made before the first
 * signature and never deleted).
 */
import { constants } from 'node:fs'
import { open, readFile, truncate } from 'node:fs/promises'
import { dirname } from 'node:path'
import { parseHex, toHex } from '../crypto/bytes.ts'
import { ErrorCode, fail } from '../protocol/errors.ts'
import type { SignRecord, SignStore, SignedEntry } from './sign-state.ts'
import { fileSignStore } from './sign-state.ts'
import { type Wal, type WalRecord, encodeWalRecord, frame, unframe } from './wal.ts'

/** A log past this many bytes is compacted at the next height: about 3,000 heights of empty blocks, or every few heights of full ones. */
export const DEFAULT_COMPACT_BYTES = 8 << 20

/**
 * Appends are opened O_DSYNC where the platform has it: a write returns once its bytes (and the
 * file's new size) are on the disk, as a write followed by fdatasync would, in one call to the
 * thread pool instead of two. Elsewhere each write is followed by an fsync.
 */
const DSYNC: number | undefined = constants.O_DSYNC
const APPEND_DSYNC = constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | (DSYNC ?? 0)

export interface ConsensusLog {
  /** The WAL view: open() returns the records of the last height marker on, without the `signed` ones. */
  wal: Wal & { readonly syncedBySignStore: true }
  /** The guard's store: save() appends a `signed` record and fsyncs the log. */
  signStore: SignStore
}

/** The guard as the log's `signed` records leave it (null when it holds none). */
export function guardOfLog (records: readonly WalRecord[]): SignRecord | null {
  let g: SignRecord | null = null
  for (const r of records) {
    if (r.kind !== 'signed') continue
    const e: SignedEntry = { round: r.round, step: r.step, signBytes: toHex(r.signBytes), signature: toHex(r.signature) }
    if (g === null || r.height > g.height) g = { height: r.height, entries: [e] }
    else if (r.height === g.height && !g.entries.some((x) => x.round === e.round && x.step === e.step)) g.entries.push(e)
  }
  return g
}

async function syncDir (path: string): Promise<void> {
  const d = await open(path, 'r')
  try { await d.sync() } finally { await d.close() }
}

/**
 * Whether the bytes after the good prefix (which ends at `from`) hold an intact `signed` record
 * with more bytes after it. A crash tears only the last write, and a write carrying a `signed`
 * record ends with it; so bytes like these are not a torn write but damage, which may have taken
 * part of the guard with it.
 */
export function damagedBeforeEnd (bytes: Uint8Array, from: number): boolean {
  for (let q = from + 1; q + 8 <= bytes.length; q++) {
    const { records, goodLength } = unframe(bytes.subarray(q))
    if (records.length === 0) continue
    let end = q
    for (const r of records) {
      end += frame(encodeWalRecord(r)).length
      if (r.kind === 'signed' && end < bytes.length) return true
    }
    q = q + goodLength - 1
  }
  return false
}

/** The later of two guards; at one height, the entries of both in (round, step) order (each is a prefix of one signing sequence). */
export function laterGuard (a: SignRecord | null, b: SignRecord | null): SignRecord | null {
  if (a === null || b === null) return a ?? b
  if (a.height !== b.height) return a.height > b.height ? a : b
  const entries = [...a.entries]
  for (const e of b.entries) if (!entries.some((x) => x.round === e.round && x.step === e.step)) entries.push(e)
  entries.sort((x, y) => x.round - y.round || x.step - y.step)
  return { height: a.height, entries }
}

/**
 * The WAL and sign state of a validator in `walPath`, with the guard's checkpoint in
 * `signStatePath`. Appends are kept in memory until the next save (or sync), which writes
 * them and the `signed` record in one durable write. After a failed write or fsync,
 * nothing past the last good fsync is trusted: the next call cuts the file back and writes
 * the frames since then again (as fileWal does), so every method may be retried.
 */
export function fileConsensusLog (walPath: string, signStatePath: string, opts: { compactBytes?: number } = {}): ConsensusLog {
  const compactBytes = opts.compactBytes ?? DEFAULT_COMPACT_BYTES
  const checkpointStore = fileSignStore(signStatePath)
  let fh: Awaited<ReturnType<typeof open>> | null = null
  /** Bytes of the file known durable; frames appended after them (not yet durable), and how many of those are in the file. */
  let synced = 0
  let pending: Uint8Array[] = []
  let written = 0
  let broken = false
  /** Whether the file was read and its torn tail cut (and `synced` set): needed before the first write. */
  let ready = false
  /** The guard as saved (checkpoint and log), and whether the checkpoint file exists. */
  let guard: SignRecord | null = null
  let hasCheckpoint = false
  /** False from finding no log until the directory holding the one made is fsynced (a new file's name is durable only then). */
  let created = true

  /** The log's intact records (its torn tail cut away), and whether the file was there at all. */
  const readLog = async (): Promise<{ records: WalRecord[], missing: boolean }> => {
    let bytes: Uint8Array
    let missing = false
    try {
      bytes = await readFile(walPath)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
      bytes = new Uint8Array(0)
      missing = true
    }
    const { records, goodLength } = unframe(bytes)
    if (goodLength < bytes.length) {
      if (damagedBeforeEnd(bytes, goodLength)) fail(ErrorCode.UNAVAILABLE, `consensus log ${walPath} is corrupt before its end; restore it, or remove it and ${signStatePath} knowingly`)
      await truncate(walPath, goodLength)
    }
    synced = goodLength
    ready = true
    if (missing) created = false
    return { records, missing }
  }
  const ensureOpen = async (): Promise<void> => { if (!ready) await readLog() }
  const drop = async () => {
    const old = fh
    fh = null
    await old?.close().catch(() => {}) // its error is the one being recovered from, or a stale one
  }
  /** Writes what is pending, durably; on any failure the file is suspect until the next flush. */
  const flush = async (): Promise<void> => {
    await ensureOpen()
    if (pending.length === 0 && !broken) return
    try {
      if (broken) {
        await drop()
        fh = await open(walPath, APPEND_DSYNC, 0o600)
        await fh.truncate(synced)
        written = 0
        broken = false
      }
      const f = fh ??= await open(walPath, APPEND_DSYNC, 0o600)
      const rest = pending.slice(written)
      if (rest.length > 0) {
        // durable when it returns (O_DSYNC); writeFile loops over short writes
        await f.writeFile(rest.length === 1 ? rest[0]! : Buffer.concat(rest))
        written = pending.length
        if (DSYNC === undefined) await f.sync()
      } else {
        await f.sync() // after a cut with nothing to write again: make the new length durable
      }
      if (!created) {
        await syncDir(dirname(walPath))
        created = true
      }
      synced += pending.reduce((n, b) => n + b.length, 0)
      pending = []
      written = 0
    } catch (e) {
      broken = true
      throw e
    }
  }
  const pendingBytes = () => pending.reduce((n, b) => n + b.length, 0)

  const wal: ConsensusLog['wal'] = {
    syncedBySignStore: true,
    async open () {
      await drop()
      pending = []
      written = 0
      broken = false
      const { records } = await readLog()
      const at = records.findLastIndex((r) => r.kind === 'height')
      return at < 0 ? [] : records.slice(at).filter((r) => r.kind !== 'signed')
    },
    async append (r) {
      pending.push(frame(encodeWalRecord(r)))
    },
    sync: flush,
    async reset (first) {
      await ensureOpen()
      // the last height's unsynced inputs are worth nothing once its block is committed; what was signed is synced already
      if (broken) { await drop(); fh = await open(walPath, APPEND_DSYNC, 0o600); await fh.truncate(synced); broken = false }
      pending = [frame(encodeWalRecord(first))]
      written = 0
      if (synced + pendingBytes() <= compactBytes) return
      // compact: the guard to the checkpoint first, then an empty log (see the file comment for the crash points)
      if (guard !== null) {
        await checkpointStore.save(guard)
        hasCheckpoint = true
      }
      await drop()
      synced = 0
      broken = true // the next flush truncates to 0 and writes `first`
      await flush()
    },
    async close () { await drop() }
  }

  const signStore: SignStore = {
    async load () {
      const checkpoint = await checkpointStore.load()
      hasCheckpoint = checkpoint !== null
      const { records, missing } = await readLog()
      // the log is made before the first signature and never deleted: without it, what was signed since the checkpoint is unknown
      if (missing && checkpoint !== null) fail(ErrorCode.UNAVAILABLE, `consensus log ${walPath} is missing but ${signStatePath} exists: the log holds what was signed since that checkpoint; restore it, or remove ${signStatePath} knowingly`)
      guard = laterGuard(checkpoint, guardOfLog(records))
      return guard
    },
    async save (record) {
      const e = record.entries.at(-1)
      if (e !== undefined) {
        const last = pending.at(-1)
        const f = frame(encodeWalRecord({ kind: 'signed', height: record.height, round: e.round, step: e.step, signBytes: parseHex(e.signBytes)!, signature: parseHex(e.signature)! }))
        // a retry after a failed flush: the frame is already pending
        if (last === undefined || !Buffer.from(last).equals(f)) pending.push(f)
      }
      await flush()
      guard = record
      // a home's first signature also writes the checkpoint: a guard that cannot be written is found at once
      if (!hasCheckpoint) {
        await checkpointStore.save(record)
        hasCheckpoint = true
      }
    }
  }
  return { wal, signStore }
}
