/**
 * Double-sign protection (the role of CometBFT's priv_validator_state.json).
 * Before any proposal or vote leaves the process, the validator durably records
 * what it signs at the current height: (round, step, sign bytes, signature).
 * It refuses to sign at an earlier (height, round, step) than the last, and at
 * any recorded (height, round, step) it returns the recorded signature for the
 * identical bytes and refuses anything else — so after a crash a validator can
 * only ever re-send the very messages it signed before.
 */
import { open, readFile, rename } from 'node:fs/promises'
import { dirname } from 'node:path'
import { equalBytes, parseHex, toHex } from '../crypto/bytes.ts'
import { type Domain, signingBytes } from '../crypto/hash.ts'
import { opensslSigner } from '../crypto/verify.ts'
import { ErrorCode, fail } from '../protocol/errors.ts'

const STEP_ORDER = { proposal: 1, prevote: 2, precommit: 3 } as const
export type SignStep = keyof typeof STEP_ORDER

export interface SignedEntry { round: number, step: number, signBytes: string, signature: string }
/** Everything signed at `height`, in signing order; the last entry is the high-water mark. */
export interface SignRecord { height: number, entries: SignedEntry[] }

/** Where the record lives: a file for a node, memory (that survives simulated crashes) for the simulator. */
export interface SignStore {
  load (): Promise<SignRecord | null>
  /** Must be durable when it resolves; may be called again with the same record after it threw. */
  save (record: SignRecord): Promise<void>
}

export class SignState {
  private readonly signRaw: (message: Uint8Array) => Uint8Array

  private constructor (
    private readonly store: SignStore,
    secretKey: Uint8Array,
    private record: SignRecord | null
  ) {
    this.signRaw = opensslSigner(secretKey)
  }

  static async load (store: SignStore, secretKey: Uint8Array): Promise<SignState> {
    return new SignState(store, secretKey, await store.load())
  }

  /** The last (height, round, step) signed, or null. */
  get lastSigned (): { height: number, round: number, step: number } | null {
    const last = this.record?.entries[this.record.entries.length - 1]
    return last === undefined ? null : { height: this.record!.height, round: last.round, step: last.step }
  }

  /**
   * Signs `bytes` at (height, round, step) unless that could conflict with anything signed before.
   * The signature is returned, and remembered, only once the store has saved it: a failed save
   * leaves this guard as it was, so the same call may be made again (the driver retries it).
   */
  async sign (domain: Domain, step: SignStep, height: number, round: number, bytes: Uint8Array): Promise<Uint8Array> {
    const s = STEP_ORDER[step]
    const rec = this.record
    if (rec !== null && height <= rec.height) {
      if (height < rec.height) fail(ErrorCode.UNAVAILABLE, `refusing to sign at height ${height}: already signed at ${rec.height}`)
      const same = rec.entries.find((e) => e.round === round && e.step === s)
      if (same !== undefined) {
        if (equalBytes(parseHex(same.signBytes)!, bytes)) return parseHex(same.signature)!
        fail(ErrorCode.UNAVAILABLE, `refusing to sign a different ${step} at ${height}/${round}`)
      }
      const last = rec.entries[rec.entries.length - 1]!
      if (round < last.round || (round === last.round && s < last.step)) {
        fail(ErrorCode.UNAVAILABLE, `refusing to sign ${step} at ${height}/${round}: already signed ${height}/${last.round}/${last.step}`)
      }
    }
    const signature = this.signRaw(signingBytes(domain, bytes))
    const entry: SignedEntry = { round, step: s, signBytes: toHex(bytes), signature: toHex(signature) }
    const next: SignRecord = rec !== null && rec.height === height ? { height, entries: [...rec.entries, entry] } : { height, entries: [entry] }
    await this.store.save(next)
    this.record = next
    return signature
  }
}

/** The sign record in a JSON file, replaced atomically and durably. */
export function fileSignStore (path: string): SignStore {
  return {
    async load () {
      let text: string
      try {
        text = await readFile(path, 'utf8')
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null
        return fail(ErrorCode.UNAVAILABLE, `sign state ${path} is unreadable: ${(e as Error).message}`)
      }
      try {
        const r = JSON.parse(text) as SignRecord
        if (!Number.isSafeInteger(r.height) || !Array.isArray(r.entries)) throw new Error('bad shape')
        return r
      } catch {
        // never sign blind: a validator whose guard is damaged must be looked at by its operator
        return fail(ErrorCode.UNAVAILABLE, `sign state ${path} is corrupt; restore it or remove it knowingly`)
      }
    },
    save: async (record) => { await writeDurably(path, JSON.stringify(record)) }
  }
}

/** A sign record in memory: for simulations, where it outlives the simulated process. */
export function memorySignStore (): SignStore & { record: SignRecord | null } {
  const store = {
    record: null as SignRecord | null,
    load: async () => store.record,
    save: async (r: SignRecord) => { store.record = r }
  }
  return store
}

/** write-temp, fsync, rename, fsync the directory: the file is old or new after a crash, never torn. */
export async function writeDurably (path: string, text: string, mode = 0o600): Promise<void> {
  const tmp = `${path}.tmp`
  const f = await open(tmp, 'w', mode)
  try {
    await f.writeFile(text)
    await f.sync()
  } finally {
    await f.close()
  }
  await rename(tmp, path)
  const d = await open(dirname(path), 'r')
  try { await d.sync() } finally { await d.close() }
}
