/**
 * Signature checks on the other cores: worker threads that run the node's rule
 * (verify.ts) over packed batches (signature-batch.ts), so the main thread only
 * packs a batch and goes on with other work until the answers come back. A large
 * batch is split across the workers; a small one goes to the least busy. If a
 * worker dies, what it held is verified on this thread instead (the same rule, so
 * the same answers) and the worker is replaced: a check is never lost or guessed.
 */
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import type { VerifyFn } from '../protocol/validate.ts'
import { type BatchVerifyFn, type SignatureCheck, packChecks } from './signature-batch.ts'
import { verifySignature } from './verify.ts'

// under the test runner this module runs as TypeScript, and Node strips the worker's types itself
const WORKER_URL = new URL(import.meta.url.endsWith('.ts') ? './verify-worker.ts' : './verify-worker.js', import.meta.url)
/** Below this many checks a batch is not split: a worker's turn costs more than the checks. */
const SPLIT_AT = 64
/**
 * From this many checks (a block's worth, not an admission batch) the calling thread verifies a
 * share itself instead of idling until the workers answer: catching up by sync is bound by
 * verification, and the main thread has cycles to spare there.
 */
const SHARE_HERE_AT = 1024

interface Job { checks: readonly SignatureCheck[], resolve: (ok: boolean[]) => void }
interface Slot { worker: Worker, jobs: Job[], queued: number, answered: boolean, failures: number }
/** A worker that dies this many times in a row before answering anything is not started again (a missing or broken worker file). */
const MAX_START_FAILURES = 3

export class VerifyPool {
  private readonly slots: Slot[] = []
  private closed = false
  /** Checks answered on this thread because their worker died or the pool had closed. */
  answeredHere = 0
  /** Checks this thread verified as its share of a large batch. */
  sharedHere = 0

  /** One thread fewer than the machine has: the main thread keeps a core. */
  static defaultThreads (): number { return Math.max(1, availableParallelism() - 1) }

  constructor (readonly threads: number = VerifyPool.defaultThreads(), private readonly fallback: VerifyFn = verifySignature, private readonly workerUrl: URL = WORKER_URL) {
    for (let i = 0; i < threads; i++) this.slots.push(this.spawn())
  }

  /** The pool as a BatchVerifyFn. */
  readonly verifyBatch: BatchVerifyFn = async (checks) => {
    if (checks.length === 0) return []
    if (this.closed || this.slots.length === 0) return this.answerHere(checks, false)
    // a whole block's worth (sync, a peer's block): this thread takes a share too, as it would only wait
    const here = checks.length >= SHARE_HERE_AT ? 1 : 0
    const parts = checks.length < SPLIT_AT ? 1 : Math.min(this.slots.length + here, Math.ceil(checks.length / SPLIT_AT))
    const size = Math.ceil(checks.length / parts)
    const sent = Array.from({ length: parts - here }, async (_, i) => await this.send(checks.slice(i * size, (i + 1) * size)))
    const mine = here === 1 ? this.answerHere(checks.slice((parts - 1) * size), true) : []
    return [...(await Promise.all(sent)).flat(), ...mine]
  }

  /** Workers running (fewer than asked for when some could not start). */
  get workers (): number { return this.slots.length }

  /** Test seam: ends the worker holding the most work, as a crash would. */
  async killWorkerForTest (): Promise<void> {
    const slot = this.slots.reduce((a, b) => b.queued > a.queued ? b : a)
    await slot.worker.terminate()
  }

  async close (): Promise<void> {
    this.closed = true
    await Promise.all(this.slots.map(async (s) => { this.settleInline(s); await s.worker.terminate() }))
  }

  private async send (checks: readonly SignatureCheck[]): Promise<boolean[]> {
    const slot = this.slots.reduce((a, b) => b.queued < a.queued ? b : a)
    const packed = packChecks(checks)
    return await new Promise<boolean[]>((resolve) => {
      slot.jobs.push({ checks, resolve })
      slot.queued += checks.length
      slot.worker.postMessage(packed, [packed.buffer as ArrayBuffer])
    })
  }

  private spawn (failures = 0): Slot {
    const worker = new Worker(this.workerUrl)
    const slot: Slot = { worker, jobs: [], queued: 0, answered: false, failures }
    // a worker answers its jobs in the order it got them
    worker.on('message', (results: Uint8Array) => {
      slot.answered = true
      const job = slot.jobs.shift()
      if (job === undefined) return
      slot.queued -= job.checks.length
      job.resolve(Array.from(results, (r) => r === 1))
    })
    const replace = () => {
      this.settleInline(slot)
      if (this.closed) return
      const i = this.slots.indexOf(slot)
      if (i < 0) return
      const failures = slot.answered ? 0 : slot.failures + 1
      // one that cannot even start is not started again and again: its share goes to the others, or here
      if (failures >= MAX_START_FAILURES) this.slots.splice(i, 1)
      else this.slots[i] = this.spawn(failures)
    }
    worker.once('error', replace)
    worker.once('exit', (code) => { if (!this.closed && code !== 0) replace() })
    return slot
  }

  /** Answers a slot's outstanding jobs on this thread. */
  private settleInline (slot: Slot): void {
    for (const job of slot.jobs.splice(0)) job.resolve(this.answerHere(job.checks, false))
    slot.queued = 0
  }

  /** Verifies on this thread: as its share of a large batch (`share`), or in place of a dead or closed worker. */
  private answerHere (checks: readonly SignatureCheck[], share: boolean): boolean[] {
    if (share) this.sharedHere += checks.length
    else this.answeredHere += checks.length
    return checks.map((c) => this.fallback(c.publicKey, c.message, c.signature))
  }
}
