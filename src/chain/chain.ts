/**
 * The chain: genesis, the head, and blocks in and out of the store.
 *
 * Writes (besides the state writes of each block, see state/transition.ts):
 *   block(height) := block bytes        blockHash(hash) := height
 *   commit(height) := the commit that finalised it
 *   txIndex(id) := [height, index]      meta('head') := Head
 *   meta('validators') := the set for the next height; meta('lastValidators') := the set that signed the head
 *   meta('genesis') := genesis hash (checked on every open)
 *   the derived indexes' rows for the block (derived-indexes.ts)
 * Each block's writes and the new head go to LevelDB in one synced batch, so a
 * crash leaves the store at the last committed block, never between two.
 * Commits and mempool admissions take turns on `lock`; every commit, by
 * consensus or by sync, is announced on `events` once its batch is durable.
 *
 * A commit holds the lock only to hand its batch to LevelDB, not while LevelDB writes and
 * fsyncs it (~15% of a loaded node's time): meanwhile admissions dry-run against the
 * decided block's result (`admissionBase`). That is safe because the block is final (its
 * commit is in hand) and only the mempool, which every block build checks again, sees it;
 * the head, readers, and anything that builds, checks or commits a block wait until the
 * batch is durable (`settled`).
 */
import { blockHash, blockTxAt, commitHash, decodeBlockEnvelope, decodeCommit, decodeTx, encodeBlock, encodeCommit, storedTxId, txRootOf } from '../codec/block.ts'
import { decodeCanonical, encodeCanonical } from '../codec/canonical.ts'
import { asArray, asBytes, asUint } from '../codec/schema.ts'
import { binaryKey, concatBytes, equalBytes, toHex, u64be, utf8, readU64be } from '../crypto/bytes.ts'
import { verifyCommit } from '../protocol/commit.ts'
import { ErrorCode, fail } from '../protocol/errors.ts'
import type { Block, BlockHeader, Commit, Hash, PublicKey, SignedTx } from '../protocol/types.ts'
import { BLOCK_VERSION, ZERO_HASH } from '../protocol/types.ts'
import { type ChainRules, type VerifyFn, txSignatureCheck } from '../protocol/validate.ts'
import { type RememberingVerify, rememberingVerify } from '../crypto/remembering-verify.ts'
import { type BatchVerifyFn, inlineBatchVerify } from '../crypto/signature-batch.ts'
import { ValidatorSet } from '../protocol/validator-set.ts'
import { Bucket } from '../state/buckets.ts'
import { heightKey } from '../state/keys.ts'
import { nextStateRoot } from '../state/root.ts'
import { decodeAmount } from '../state/records.ts'
import type { Store } from '../state/store.ts'
import type { StateReader, Write } from '../state/view.ts'
import { BoundedSet } from '../util/bounded-set.ts'
import { BytesLru } from '../util/bytes-lru.ts'
import { Lock } from '../util/lock.ts'
import { ChainEvents } from './events.ts'
import { derivedIndexMeta, derivedWrites, ensureDerivedIndexes } from './derived-indexes.ts'
import { type Execution, executeBlock } from './execute.ts'
import { nextNonces } from './mempool.ts'
import { type Genesis, genesisHash, genesisValidators, genesisWrites } from './genesis.ts'

export interface Head {
  height: number
  hash: Hash
  timeMs: number
  stateRoot: Hash
}

const META_HEAD = utf8.encode('head')
const META_GENESIS = utf8.encode('genesis')
const META_VALIDATORS = utf8.encode('validators')
const META_LAST_VALIDATORS = utf8.encode('lastValidators')

/**
 * What a dry run of a new tx starts from: the head and its state, or, while a decided block's
 * batch is being written, that block's head and the state after it.
 */
export interface AdmissionBase {
  head: Head
  /** The next height's round-0 proposer: a dry run's stand-in for the block's. */
  proposer: PublicKey
  /** Point reads of the state the next block starts from. */
  state: StateReader
  /** The block being written's next nonce per sender (by binaryKey), or null: the mempool still holds those txs until it is durable. */
  included: ReadonlyMap<string, number> | null
}

/** A block that passed checks, with what executing it wrote. */
export interface CheckedBlock {
  block: Block
  hash: Hash
  execution: Execution
  /** The encoded block, when checking already made it (the commit stores these bytes). */
  bytes?: Uint8Array
}

/** How many admitted txs' signatures are remembered as verified: several full mempools (20,000 by default). */
const VERIFIED_TXS = 100_000
/** Bytes of recent blocks kept in memory for readers by default: a handful of full blocks. */
export const DEFAULT_RECENT_BLOCK_BYTES = 16 * 1024 * 1024
/** Txs decoded between turns of the event loop when a reader decodes a block (~2–4 ms of work). */
const TXS_PER_SLICE = 48

export interface ChainOptions {
  /** Bytes of recent blocks kept in memory for readers (default DEFAULT_RECENT_BLOCK_BYTES). */
  recentBlockBytes?: number
}

export class Chain {
  readonly rules: ChainRules
  /** Commits and mempool admissions take turns: a dry run never sees a half-applied head. */
  readonly lock = new Lock()
  readonly events = new ChainEvents()
  /** Txs (id ‖ signature) whose signature this node verified on admission: not verified again in a block. */
  private readonly verifiedTxs = new BoundedSet(VERIFIED_TXS)
  private readonly recentBlocks: BytesLru<number>
  /** Recent blocks' tx ids, packed (32 bytes each), put at commit: every app that follows the chain reads each new block's ids (getBlockTxIds). */
  private readonly recentTxIds: BytesLru<number>
  private checked = new Map<string, CheckedBlock>()
  /** The decided block whose batch LevelDB is writing, as admissions see it; null when none is. */
  private writing: AdmissionBase | null = null
  private headBase: AdmissionBase | null = null
  /** Settles (never rejects) once the last batch handed to LevelDB is durable or has failed. */
  private settled: Promise<void> = Promise.resolve()

  private constructor (
    readonly store: Store,
    readonly genesis: Genesis,
    /** One signature, on this thread: votes, proposals, commits, evidence (each passing check remembered, so verified once). */
    readonly verify: RememberingVerify,
    /** Many signatures at once (txs), off the main thread when the node has a verify pool. */
    readonly verifyBatch: BatchVerifyFn,
    private _head: Head,
    private _validators: ValidatorSet,
    private _lastValidators: ValidatorSet,
    opts: ChainOptions
  ) {
    this.rules = { chainId: genesis.chainId, params: genesis.params }
    this.recentBlocks = new BytesLru<number>(opts.recentBlockBytes ?? DEFAULT_RECENT_BLOCK_BYTES)
    // an id is 32 bytes of a tx's ~200: a quarter of the blocks' bound holds the ids of more blocks than it holds
    this.recentTxIds = new BytesLru<number>(Math.floor(this.recentBlocks.maxBytes / 4))
  }

  /** The bound of the recent blocks kept for readers (ChainOptions.recentBlockBytes). */
  get recentBlockBytes (): number { return this.recentBlocks.maxBytes }

  /** Opens the chain in `store`, writing genesis on first use; refuses a store made for another genesis. */
  static async open (store: Store, genesis: Genesis, verifyOne: VerifyFn, verifyBatch: BatchVerifyFn = inlineBatchVerify(verifyOne), opts: ChainOptions = {}): Promise<Chain> {
    // votes are checked as gossip, then again in the commits that carry them: once is enough
    const verify = rememberingVerify(verifyOne)
    const gh = genesisHash(genesis)
    const stored = await store.get(Bucket.meta, META_GENESIS)
    if (stored === undefined) {
      const writes = genesisWrites(genesis)
      const head: Head = { height: 0, hash: gh, timeMs: genesis.genesisTimeMs, stateRoot: nextStateRoot(ZERO_HASH, writes) }
      const set = genesisValidators(genesis)
      await store.commit([...writes, ...metaWrites(head, set, set), { bucket: Bucket.meta, key: META_GENESIS, value: gh }, derivedIndexMeta()], true)
      return new Chain(store, genesis, verify, verifyBatch, head, set, set, opts)
    }
    if (!equalBytes(stored, gh)) fail(ErrorCode.INVALID_FIELD, 'this data directory belongs to a different genesis')
    await ensureDerivedIndexes(store)
    const head = decodeHead((await store.get(Bucket.meta, META_HEAD))!)
    const set = ValidatorSet.decode((await store.get(Bucket.meta, META_VALIDATORS))!)
    const last = ValidatorSet.decode((await store.get(Bucket.meta, META_LAST_VALIDATORS))!)
    return new Chain(store, genesis, verify, verifyBatch, head, set, last, opts)
  }

  get head (): Head { return this._head }
  get chainId (): string { return this.genesis.chainId }
  /** The validator set for the next height, priorities as of its round 0. */
  get validators (): ValidatorSet { return this._validators }
  /** The set that signed the head's commit. */
  get lastValidators (): ValidatorSet { return this._lastValidators }

  /** What the next admission dry-runs against (see AdmissionBase); read it under the lock, once per tx. */
  admissionBase (): AdmissionBase {
    // the head's is made once a head (proposerAt copies the set)
    return this.writing ?? (this.headBase ??= { head: this._head, proposer: this._validators.proposerAt(0), state: this.store, included: null })
  }

  /**
   * Whether each tx's signature verifies. Those verified here before (on admission, or
   * fetched to fill a block) are not checked again; the rest go in one batch, and the
   * ones that pass are remembered.
   */
  async verifyTxSignatures (txs: readonly SignedTx[]): Promise<boolean[]> {
    const keys = txs.map(verifiedKey)
    const valid = keys.map((k) => this.verifiedTxs.has(k))
    const todo = txs.filter((_, i) => !valid[i])
    if (todo.length === 0) return valid
    const answers = await this.verifyBatch(todo.map(txSignatureCheck))
    let k = 0
    for (const [i, ok] of valid.entries()) {
      if (ok) continue
      valid[i] = answers[k++]!
      if (valid[i]) this.verifiedTxs.add(keys[i]!)
    }
    return valid
  }

  /**
   * Builds the next block from `candidates` (in priority order), executing each and leaving out what fails.
   * Candidates come from the mempool, whose admission verified every signature, so they are not verified again.
   */
  async buildBlock (candidates: Iterable<SignedTx>, proposer: PublicKey, timeMs: number, lastCommit: Commit | null): Promise<CheckedBlock> {
    await this.settled
    const head = this._head
    const height = head.height + 1
    const commitBytes = lastCommit === null ? 0 : encodeCommit(lastCommit).length
    const execution = await executeBlock(this.store, { height, timeMs, proposer, prevStateRoot: head.stateRoot }, candidates, {
      rules: this.rules, signatureValid: () => true, mode: 'build', maxTxBytes: this.rules.params.maxBlockBytes - commitBytes - 1024
    })
    const header: BlockHeader = {
      version: BLOCK_VERSION, chainId: this.chainId, height, timeMs, prevHash: head.hash,
      txRoot: txRootOf(execution.txs), stateRoot: execution.stateRoot, proposer,
      validatorsHash: this._validators.hash(), lastCommitHash: commitHash(lastCommit)
    }
    const checked = { block: { header, txs: execution.txs, lastCommit }, hash: blockHash(header), execution }
    this.checked.set(toHex(checked.hash), checked)
    return checked
  }

  /**
   * Checks `block` as the next block: header fields, the parent's commit, every
   * tx, and the roots, by executing it. Throws BAD_BLOCK with the fault.
   * `bytes`: the block's encoding when the caller decoded it from them (decodeBlock
   * accepts only the canonical one), so they are not made again.
   */
  async checkBlock (block: Block, bytes?: Uint8Array): Promise<CheckedBlock> {
    const hash = blockHash(block.header)
    const cached = this.checked.get(toHex(hash))
    if (cached !== undefined) return cached
    await this.settled
    const h = block.header
    const head = this._head
    const bad = (fault: string, detail: string): never => fail(ErrorCode.BAD_BLOCK, detail, { fault })
    if (h.chainId !== this.chainId) bad('chain', `block is for chain ${h.chainId}`)
    if (h.height !== head.height + 1) bad('height', `expected height ${head.height + 1}, got ${h.height}`)
    if (!equalBytes(h.prevHash, head.hash)) bad('prevHash', 'does not extend the head')
    if (h.timeMs <= head.timeMs) bad('time', 'time does not move forward')
    if (this._validators.powerOf(h.proposer) === 0n) bad('proposer', 'proposer is not a validator')
    if (!equalBytes(h.validatorsHash, this._validators.hash())) bad('validators', 'validatorsHash does not match')
    if (!equalBytes(h.lastCommitHash, commitHash(block.lastCommit))) bad('lastCommit', 'lastCommitHash does not match')
    if (head.height === 0) {
      if (block.lastCommit !== null) bad('lastCommit', 'the first block carries no commit')
    } else {
      const c = block.lastCommit ?? bad('lastCommit', 'missing the parent commit')
      if (c.height !== head.height || !equalBytes(c.blockHash, head.hash)) bad('lastCommit', 'commit is not for the parent')
      verifyCommit(c, this._lastValidators, this.chainId, this.verify)
    }
    const p = this.rules.params
    if (block.txs.length > p.maxBlockTxs) bad('tooManyTxs', `more than ${p.maxBlockTxs} txs`)
    bytes ??= encodeBlock(block)
    if (bytes.length > p.maxBlockBytes) bad('tooLarge', `over ${p.maxBlockBytes} bytes`)
    const ids = new Set(block.txs.map((t) => toHex(t.id)))
    if (ids.size !== block.txs.length) bad('duplicateTx', 'a tx appears twice')
    if (!equalBytes(h.txRoot, txRootOf(block.txs))) bad('txRoot', 'txRoot does not match')
    // every signature not verified here before, in one batch (off the main thread with a verify pool)
    const valid = await this.verifyTxSignatures(block.txs)
    const invalid = new Set(block.txs.filter((_, i) => !valid[i]))
    const execution = await executeBlock(this.store, { height: h.height, timeMs: h.timeMs, proposer: h.proposer, prevStateRoot: head.stateRoot }, block.txs, {
      rules: this.rules, mode: 'check', signatureValid: (tx) => !invalid.has(tx)
    })
    if (!equalBytes(execution.stateRoot, h.stateRoot)) bad('stateRoot', 'stateRoot does not match')
    const checked = { block, hash, execution, bytes }
    this.checked.set(toHex(hash), checked)
    return checked
  }

  /**
   * Commits a checked block finalised by `commit` (its own precommits) in one atomic batch,
   * handed to LevelDB under the lock, and resolves once it is durable and announced on
   * `events`. False (and nothing written) when the chain already has that height:
   * consensus and sync may both bring the same block.
   * The next height's proposer priorities advance one step, as in CometBFT.
   */
  async commitBlock (checked: CheckedBlock, commit: Commit): Promise<boolean> {
    const started = await this.lock.run(async () => {
      await this.settled
      if (checked.block.header.height <= this._head.height) return null
      return await this.startCommit(checked, commit)
    })
    if (started === null) return false
    await started.durable
    return true
  }

  /**
   * Imports a block someone else decided (sync, the block topic): checks that `commit`
   * finalises it under the set that decides its height, checks and executes the block,
   * and commits it as commitBlock does — checked and handed over under the lock, after any
   * earlier batch is durable, so nothing commits in between. False when the
   * chain already has that height; throws BAD_BLOCK when the block or commit is bad.
   * `bytes` as for checkBlock.
   */
  async importBlock (block: Block, commit: Commit, bytes?: Uint8Array): Promise<boolean> {
    const started = await this.lock.run(async () => {
      await this.settled
      const h = block.header
      if (h.height <= this._head.height) return null
      if (commit.height !== h.height || !equalBytes(commit.blockHash, blockHash(h))) fail(ErrorCode.BAD_BLOCK, 'the commit is for another block', { fault: 'commit' })
      verifyCommit(commit, this._validators, this.chainId, this.verify)
      return await this.startCommit(await this.checkBlock(block, bytes), commit)
    })
    if (started === null) return false
    await started.durable
    return true
  }

  /**
   * Hands the block and the new head to LevelDB in one synced batch; the caller holds the lock
   * and has awaited `settled`. Admissions see the block's result from now (`writing`); once the
   * batch is durable the head moves and the commit is announced. `durable` (in an object, so
   * that awaiting this does not await it) rejects if the batch fails, leaving the head as it was.
   */
  private async startCommit (checked: CheckedBlock, commit: Commit): Promise<{ durable: Promise<void> }> {
    const { block, hash, execution } = checked
    const h = block.header
    if (h.height !== this._head.height + 1) fail(ErrorCode.BAD_BLOCK, 'not the next height', { fault: 'height' })
    if (!equalBytes(h.prevHash, this._head.hash)) fail(ErrorCode.BAD_BLOCK, 'does not extend the head', { fault: 'prevHash' })
    const head: Head = { height: h.height, hash, timeMs: h.timeMs, stateRoot: h.stateRoot }
    // one proposer step per height, whatever round decided it (nodes may decide in different rounds)
    let next = this._validators.advance(1)
    if (h.height % this.rules.params.epochBlocks === 0) next = await this.epochValidators(next, execution.writes)
    const writes: Write[] = [...execution.writes, ...derivedWrites(execution.writes), ...metaWrites(head, next, this._validators)]
    writes.push({ bucket: Bucket.block, key: heightKey(h.height), value: checked.bytes ?? encodeBlock(block) })
    writes.push({ bucket: Bucket.commit, key: heightKey(h.height), value: encodeCommit(commit) })
    writes.push({ bucket: Bucket.blockHash, key: hash, value: u64be(h.height) })
    block.txs.forEach((tx, i) => writes.push({ bucket: Bucket.txIndex, key: tx.id, value: encodeCanonical([h.height, i]) }))
    const included = nextNonces(block.txs)
    this.writing = { head, proposer: next.proposerAt(0), state: execution.after, included }
    const durable = this.store.commit(writes, true).then(() => {
      this.writing = null
      this.headBase = null
      this._head = head
      this._lastValidators = this._validators
      this._validators = next
      this.checked.clear()
      this.recentTxIds.set(h.height, packIds(block.txs.map((tx) => tx.id)))
      this.events.emitCommitted({ checked, commit, nextNonces: included })
    }, (e: unknown) => {
      this.writing = null
      throw e
    })
    this.settled = durable.catch(() => {})
    return { durable }
  }

  /**
   * At an epoch's last block: the validators of the next epoch, from the staker index
   * as this block leaves it. The set never changes within a height or an epoch.
   */
  private async epochValidators (current: ValidatorSet, blockWrites: readonly Write[]): Promise<ValidatorSet> {
    const stakers = new Map<string, { address: PublicKey, stake: bigint }>()
    for (const [k, v] of await this.store.range(Bucket.staker, {})) stakers.set(toHex(k), { address: k, stake: decodeAmount(v) })
    for (const w of blockWrites) {
      if (w.bucket !== Bucket.staker) continue
      if (w.value === null) stakers.delete(toHex(w.key))
      else stakers.set(toHex(w.key), { address: w.key, stake: decodeAmount(w.value) })
    }
    const p = this.rules.params
    return current.nextEpoch([...stakers.values()], p.maxValidators, p.minValidatorStake) ?? current
  }

  /** A committed block and its commit as stored (what sync serves, re-encoding nothing). */
  async getStoredBlock (height: number): Promise<{ block: Uint8Array, commit: Uint8Array } | null> {
    const [block, commit] = await Promise.all([this.blockBytes(height), this.store.get(Bucket.commit, heightKey(height))])
    return block === undefined || commit === undefined ? null : { block, commit }
  }

  /** The `index`-th tx of the block at `height`, without decoding the rest of the block. */
  async getTx (height: number, index: number): Promise<SignedTx | null> {
    const b = await this.blockBytes(height)
    return b === undefined ? null : blockTxAt(b, index)
  }

  /**
   * The block at `height`, for readers (RPC): its txs are decoded a slice at a time,
   * letting other work run between slices, so a 2 MiB block never holds the thread
   * for the ~40 ms its decoding takes.
   */
  async getBlock (height: number): Promise<Block | null> {
    const b = await this.blockBytes(height)
    if (b === undefined) return null
    const { txs, ...rest } = decodeBlockEnvelope(b)
    const decoded: SignedTx[] = []
    for (const [i, tx] of txs.entries()) {
      if (i > 0 && i % TXS_PER_SLICE === 0) await new Promise((resolve) => setImmediate(resolve))
      decoded.push(decodeTx(tx))
    }
    return { ...rest, txs: decoded }
  }

  /**
   * The block at `height` with its txs as ids only (a block list, a non-full chain_getBlock): a
   * recent block's from memory, else each hashed from the tx's bytes with nothing else decoded.
   */
  async getBlockTxIds (height: number): Promise<(Omit<Block, 'txs'> & { txIds: Hash[] }) | null> {
    const b = await this.blockBytes(height)
    if (b === undefined) return null
    const { txs, ...rest } = decodeBlockEnvelope(b)
    const packed = this.recentTxIds.get(height)
    return { ...rest, txIds: packed === undefined ? txs.map(storedTxId) : unpackIds(packed) }
  }

  /** A committed block's bytes; recent ones from memory, since readers and syncing peers ask for them again and again. */
  private async blockBytes (height: number): Promise<Uint8Array | undefined> {
    const cached = this.recentBlocks.get(height)
    if (cached !== undefined) return cached
    const b = await this.store.get(Bucket.block, heightKey(height))
    if (b !== undefined) this.recentBlocks.set(height, b)
    return b
  }

  async getCommit (height: number): Promise<Commit | null> {
    const b = await this.store.get(Bucket.commit, heightKey(height))
    return b === undefined ? null : decodeCommit(b)
  }

  async heightOfHash (hash: Hash): Promise<number | null> {
    const b = await this.store.get(Bucket.blockHash, hash)
    return b === undefined ? null : readU64be(b)
  }

  /** Where a tx was included, or null. */
  async txLocation (id: Hash): Promise<{ height: number, index: number } | null> {
    const b = await this.store.get(Bucket.txIndex, id)
    if (b === undefined) return null
    const [height, index] = asArray(decodeCanonical(b, 64), 2, 'tx index')
    return { height: asUint(height!, 'height'), index: asUint(index!, 'index') }
  }
}

const ID_BYTES = 32

function packIds (ids: readonly Hash[]): Uint8Array {
  const packed = new Uint8Array(ids.length * ID_BYTES)
  ids.forEach((id, i) => packed.set(id, i * ID_BYTES))
  return packed
}

/** Views of `packed`'s ids (readers only encode them). */
function unpackIds (packed: Uint8Array): Hash[] {
  return Array.from({ length: packed.length / ID_BYTES }, (_, i) => packed.subarray(i * ID_BYTES, (i + 1) * ID_BYTES))
}

/** The id and signature as one flat one-byte string: 96 characters, not two hex strings and their join (~270 bytes of heap). */
const verifiedKey = (tx: SignedTx): string => binaryKey(concatBytes(tx.id, tx.signature))

function metaWrites (head: Head, validators: ValidatorSet, lastValidators: ValidatorSet): Write[] {
  return [
    { bucket: Bucket.meta, key: META_HEAD, value: encodeCanonical([head.height, head.hash, head.timeMs, head.stateRoot]) },
    { bucket: Bucket.meta, key: META_VALIDATORS, value: validators.encode() },
    { bucket: Bucket.meta, key: META_LAST_VALIDATORS, value: lastValidators.encode() }
  ]
}

function decodeHead (b: Uint8Array): Head {
  const [height, hash, timeMs, root] = asArray(decodeCanonical(b, 256), 4, 'head')
  return { height: asUint(height!, 'height'), hash: asBytes(hash!, 'hash', 32), timeMs: asUint(timeMs!, 'timeMs'), stateRoot: asBytes(root!, 'stateRoot', 32) }
}
