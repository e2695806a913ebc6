/**
 * Double-sign protection (the role of CometBFT's priv_validator_state.json).
 * Before any proposal or vote leaves the process, the validator durably records
 * (height, round, step, sign bytes, signature): written to a temp file, fsynced,
 * renamed over the old one, directory fsynced. A request to sign at an earlier
 * (height, round, step) is refused; at the same one it is refused unless the bytes
 * are identical, in which case the recorded signature is returned — so after a
 * crash the validator can only ever re-send the very message it signed before.
 */
import { open, readFile, rename } from 'node:fs/promises'
import { dirname } from 'node:path'
import { parseHex, toHex, equalBytes } from '../crypto/bytes.ts'
import { type Domain } from '../crypto/hash.ts'
import { signDomain } from '../crypto/keys.ts'
import { ErrorCode, fail } from '../protocol/errors.ts'

const STEP_ORDER = { proposal: 1, prevote: 2, precommit: 3 } as const
export type SignStep = keyof typeof STEP_ORDER

interface Record { height: number, round: number, step: number, signBytes: string, signature: string }

export class SignState {
  private constructor (
    private readonly path: string,
    private readonly secretKey: Uint8Array,
    private last: Record | null
  ) {}

  static async load (path: string, secretKey: Uint8Array): Promise<SignState> {
    let last: Record | null = null
    try {
      last = JSON.parse(await readFile(path, 'utf8')) as Record
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') fail(ErrorCode.UNAVAILABLE, `sign state ${path} is unreadable: ${(e as Error).message}`)
    }
    return new SignState(path, secretKey, last)
  }

  get lastSigned (): { height: number, round: number, step: number } | null {
    return this.last === null ? null : { height: this.last.height, round: this.last.round, step: this.last.step }
  }

  /** Signs `bytes` for (height, round, step) if that never conflicts with what was signed before. */
  async sign (domain: Domain, step: SignStep, height: number, round: number, bytes: Uint8Array): Promise<Uint8Array> {
    const s = STEP_ORDER[step]
    const last = this.last
    if (last !== null) {
      const cmp = height - last.height || round - last.round || s - last.step
      if (cmp < 0) fail(ErrorCode.UNAVAILABLE, `refusing to sign ${step} at ${height}/${round}: already signed ${last.height}/${last.round}/${last.step}`)
      if (cmp === 0) {
        if (equalBytes(parseHex(last.signBytes)!, bytes)) return parseHex(last.signature)!
        fail(ErrorCode.UNAVAILABLE, `refusing to sign a different ${step} at ${height}/${round}`)
      }
    }
    const signature = signDomain(domain, bytes, this.secretKey)
    const record: Record = { height, round, step: s, signBytes: toHex(bytes), signature: toHex(signature) }
    await writeDurably(this.path, JSON.stringify(record))
    this.last = record
    return signature
  }
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
