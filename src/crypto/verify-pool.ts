/**
 * Signature checks on the other cores: worker threads that run the node's rule
 * (verify.ts) over packed batches (signature-batch.ts), so the main thread only
 * packs a batch and goes on with other work until the answers come back. A large
 * batch is split across the workers; a small one goes to the least busy. A worker
 * holds at most WORKER_DEPTH jobs; the rest wait here, and this thread takes the
 * oldest of them when its event loop has been mostly idle (waiting for I/O) over the
 * last millisecond or so: a backlog of checks is then worked from both ends of the
 * pipe instead of this thread waiting on it, and a thread with work of its own leaves
 * the checks to the workers. If a worker dies, what it held is verified
 * on this thread instead (the same rule, so the same answers) and the worker is
 * replaced: a check is never lost or guessed.
 */
import { availableParallelism } from 'node:os'
import { type EventLoopUtilization, performance } from 'node:perf_hooks'
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
/**
 * Jobs a worker holds at once. Admission sends chunks of 64 (~4 ms of checks each); two keep a
 * worker busy across its round trip, and more wait where this thread can take them.
 */
const WORKER_DEPTH = 2
/** This thread takes a waiting job when its event loop was busy less than this share of the time since it last looked. */
const TAKE_BELOW_UTILIZATION = 0.5

interface Job { checks: readonly SignatureCheck[], resolve: (ok: boolean[]) => void }
interface Slot { worker: Worker, jobs: Job[], queued: number, answered: boolean, failures: number }
/** A worker that dies this many times in a row before answering anything is not started again (a missing or broken worker file). */
const MAX_START_FAILURES = 3

export class VerifyPool {
  private readonly slots: Slot[] = []
  /** Jobs no worker holds yet, oldest first. */
  private readonly waiting: Job[] = []
  /** When this thread last looked at the waiting jobs (null: not looking). */
  private lookedAt: EventLoopUtilization | null = null
  private closed = false
  /** Checks answered on this thread because their worker died or the pool had closed. */
  answeredHere = 0
  /** Checks this thread verified as its share: of a large batch, or of the workers' backlog. */
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
    this.settleWaiting()
    await Promise.all(this.slots.map(async (s) => { this.settleInline(s); await s.worker.terminate() }))
  }

  private async send (checks: readonly SignatureCheck[]): Promise<boolean[]> {
    return await new Promise<boolean[]>((resolve) => {
      this.waiting.push({ checks, resolve })
      this.pump()
    })
  }

  /** Hands waiting jobs to workers with room; what stays waiting is this thread's to take when idle. */
  private pump (): void {
    while (this.waiting.length > 0) {
      if (this.closed || this.slots.length === 0) return this.settleWaiting()
      const slot = this.slots.reduce((a, b) => b.queued < a.queued ? b : a)
      if (slot.jobs.length >= WORKER_DEPTH) break
      const job = this.waiting.shift()!
      const packed = packChecks(job.checks)
      slot.jobs.push(job)
      slot.queued += job.checks.length
      slot.worker.postMessage(packed, [packed.buffer as ArrayBuffer])
    }
    if (this.waiting.length > 0 && this.lookedAt === null) {
      this.lookedAt = performance.eventLoopUtilization()
      setTimeout(() => this.takeIfIdle(), 1)
    }
  }

  /** Takes the oldest waiting job here if this thread's loop was mostly idle since it last looked; looks again while any wait. */
  private takeIfIdle (): void {
    const busy = performance.eventLoopUtilization(this.lookedAt!).utilization
    this.lookedAt = null
    if (busy < TAKE_BELOW_UTILIZATION) {
      const job = this.waiting.shift()
      if (job !== undefined) job.resolve(this.answerHere(job.checks, true))
    }
    this.pump()
  }

  private settleWaiting (): void {
    for (const job of this.waiting.splice(0)) job.resolve(this.answerHere(job.checks, false))
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
      this.pump()
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
      this.pump()
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
