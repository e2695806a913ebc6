/**
 * The state transition (DESIGN §6): what one transaction does to the state.
 * Pure over a StateView: no clock, no randomness, no disk. The caller runs
 * validateTxStateless first and applies each tx in a child view, merging it
 * only when this returns, so a failed tx writes nothing.
 *
 * Writes per kind (besides the sender's account: nonce + 1, balance − fee,
 * and the proposer's account: balance + fee):
 *   transfer          account(to)
 *   profile           account; username(new) := sender; username(old) deleted
 *   post              post(id); postByAuthor; counters on author, parent, original; reply index
 *   follow/unfollow   following(sender‖target), follower(target‖sender), both accounts' counters
 *   like/unlike       like(post‖sender), likedBy(sender‖post), post.likeCount
 *   stake             account: balance → stake; staker(sender)
 *   unstake           account: stake → unbonding; unbonding(height+unbondingBlocks ‖ sender); staker(sender)
 */
import { binaryKey, u64be } from '../crypto/bytes.ts'
import { ErrorCode, fail } from '../protocol/errors.ts'
import type { ChainParams } from '../protocol/params.ts'
import type { BodyOf, PublicKey, SignedTx } from '../protocol/types.ts'
import { Bucket } from './buckets.ts'
import { accountKey, pairKey, postByAuthorKey, postKey, replyKey, unbondingKey, usernameKey } from './keys.ts'
import { type Account, type Post, checkAccount, checkPost, decodeAccount, decodeAmount, decodePost, emptyAccount, encodeAccount, encodeAmount, encodePost } from './records.ts'
import { type MaybePromise, RecordWrite, type StateReader, StateView, type Write, lookup } from './view.ts'

/** Where in the chain a tx executes. */
export interface TxContext {
  height: number
  timeMs: number
  /** Position of the tx in its block. */
  index: number
  proposer: PublicKey
  params: ChainParams
}

/**
 * An account (empty when there is none), the caller's to change; synchronous when the record
 * is at hand (see `lookup`), and a copy of the object, not a decode, when a view holds it.
 */
export function readAccount (state: StateReader, address: PublicKey): MaybePromise<Account> {
  return readRecord(state, Bucket.account, accountKey(address), accountOrEmpty)
}

/** A post, or null, the caller's to change; synchronous when the record is at hand, as readAccount. */
export function readPost (state: StateReader, id: Uint8Array): MaybePromise<Post | null> {
  return readRecord<Post | null>(state, Bucket.post, postKey(id), postOrNull)
}

/** A record kept as an object in a view (copied out), else from the bytes below it (`fromBytes`). */
function readRecord<T> (state: StateReader, bucket: Bucket, key: Uint8Array, fromBytes: (b: Uint8Array | undefined) => T): MaybePromise<T> {
  if (state instanceof StateView) {
    const w = state.find(bucket, key)
    if (w !== undefined) return recordOf(w, fromBytes)
    state = state.base
  }
  const b = lookup(state, bucket, key)
  return b instanceof Promise ? b.then(fromBytes) : fromBytes(b)
}

function recordOf<T> (w: Write, fromBytes: (b: Uint8Array | undefined) => T): T {
  return w instanceof RecordWrite ? (w as RecordWrite<NonNullable<T>>).copy() : fromBytes(w.value ?? undefined)
}

const accountOrEmpty = (b: Uint8Array | undefined): Account => b === undefined ? emptyAccount() : decodeAccount(b)
const postOrNull = (b: Uint8Array | undefined): Post | null => b === undefined ? null : decodePost(b)

export function writeAccount (view: StateView, address: PublicKey, a: Account): void {
  checkAccount(a) // the tx fails here, as an eager encode would have failed it
  view.putRecord(Bucket.account, accountKey(address), a, encodeAccount)
}

/** Writes a post record (encoded when its bytes are needed). */
function writePost (view: StateView, id: Uint8Array, p: Post): void {
  checkPost(p)
  view.putRecord(Bucket.post, postKey(id), p, encodePost)
}

/**
 * What a tx runs against: its view, and the values read below the views while an earlier
 * attempt waited for them (null on the first attempt). The transition itself is synchronous:
 * the node's store answers state reads at once (its read cache, or LevelDB's synchronous get),
 * and an async function per tx and per read cost allocations and a microtask each.
 */
interface TxState {
  view: StateView
  fetched: Map<string, Uint8Array | undefined> | null
}

/** A read below the views that the reader could only answer later: applyTx awaits it, then runs the tx again. */
class PendingRead {
  constructor (readonly key: string, readonly value: Promise<Uint8Array | undefined>) {}
}

const fetchedKey = (bucket: Bucket, key: Uint8Array): string => `${bucket}\0${binaryKey(key)}`

/** The value of a key as the tx sees it: the views' writes, else the reader below (or what an earlier attempt fetched from it). */
function valueAt (s: TxState, bucket: Bucket, key: Uint8Array): Uint8Array | undefined {
  const w = s.view.find(bucket, key)
  return w !== undefined ? w.value ?? undefined : below(s, bucket, key)
}

function below (s: TxState, bucket: Bucket, key: Uint8Array): Uint8Array | undefined {
  const k = s.fetched === null ? null : fetchedKey(bucket, key)
  if (k !== null && s.fetched!.has(k)) return s.fetched!.get(k)
  const v = lookup(s.view.base, bucket, key)
  if (v instanceof Promise) throw new PendingRead(k ?? fetchedKey(bucket, key), v)
  return v
}

function recordAt<T> (s: TxState, bucket: Bucket, key: Uint8Array, fromBytes: (b: Uint8Array | undefined) => T): T {
  const w = s.view.find(bucket, key)
  return w !== undefined ? recordOf(w, fromBytes) : fromBytes(below(s, bucket, key))
}

const accountAt = (s: TxState, address: PublicKey): Account => recordAt(s, Bucket.account, accountKey(address), accountOrEmpty)

function requirePost (s: TxState, id: Uint8Array): Post {
  return recordAt<Post | null>(s, Bucket.post, postKey(id), postOrNull) ?? fail(ErrorCode.NOT_FOUND, 'no such post')
}

/**
 * Applies `tx` to `view`, a fresh view of its own (the caller's child, merged only on
 * success), or throws the typed error of the rule it breaks. Synchronous (undefined) when
 * every read is at hand; else a Promise: the tx runs again once each read has come, from
 * an empty view, so an attempt cut short by a read leaves nothing behind.
 */
export function applyTx (view: StateView, tx: SignedTx, ctx: TxContext): MaybePromise<void> {
  if (!view.isEmpty) throw new Error('applyTx needs a view of its own, with no writes yet')
  const s: TxState = { view, fetched: null }
  try {
    run(s, tx, ctx)
    return undefined
  } catch (e) {
    if (!(e instanceof PendingRead)) throw e
    return applyWithReads(s, tx, ctx, e)
  }
}

async function applyWithReads (s: TxState, tx: SignedTx, ctx: TxContext, first: PendingRead): Promise<void> {
  const fetched = s.fetched = new Map()
  for (let pending: PendingRead | null = first; pending !== null;) {
    s.view.clear()
    fetched.set(pending.key, await pending.value)
    pending = null
    try {
      run(s, tx, ctx)
    } catch (e) {
      if (!(e instanceof PendingRead)) throw e
      pending = e
    }
  }
}

function run (s: TxState, tx: SignedTx, ctx: TxContext): void {
  const { view } = s
  const { sender, nonce, fee, body } = tx.unsigned
  const account = accountAt(s, sender)
  if (nonce !== account.nonce) fail(ErrorCode.BAD_NONCE, `expected nonce ${account.nonce}, got ${nonce}`, { expected: account.nonce })
  const spend = fee + (body.kind === 'transfer' || body.kind === 'stake' ? body.amount : 0n)
  if (account.balance < spend) fail(ErrorCode.INSUFFICIENT_FUNDS, `balance ${account.balance} is below ${spend}`)
  account.nonce += 1
  account.balance -= fee
  writeAccount(view, sender, account)

  switch (body.kind) {
    case 'transfer': transfer(s, sender, body); break
    case 'profile': profile(s, sender, body); break
    case 'post': post(s, tx, body, ctx); break
    case 'follow': follow(s, sender, body.target, ctx.height); break
    case 'unfollow': unfollow(s, sender, body.target); break
    case 'like': like(s, sender, body.postId, ctx.height); break
    case 'unlike': unlike(s, sender, body.postId); break
    case 'stake': stake(s, sender, body.amount); break
    case 'unstake': unstake(s, sender, body.amount, ctx.height + ctx.params.unbondingBlocks); break
  }

  const proposer = accountAt(s, ctx.proposer)
  proposer.balance += fee
  writeAccount(view, ctx.proposer, proposer)
}

function transfer (s: TxState, sender: PublicKey, body: BodyOf<'transfer'>): void {
  const { view } = s
  const from = accountAt(s, sender)
  from.balance -= body.amount
  writeAccount(view, sender, from)
  const to = accountAt(s, body.to)
  to.balance += body.amount
  writeAccount(view, body.to, to)
}

function profile (s: TxState, sender: PublicKey, body: BodyOf<'profile'>): void {
  const { view } = s
  const a = accountAt(s, sender)
  if (body.username !== null && body.username !== (a.username ?? '')) {
    if (body.username !== '') {
      const owner = valueAt(s, Bucket.username, usernameKey(body.username))
      if (owner !== undefined) fail(ErrorCode.USERNAME_TAKEN, `@${body.username} is taken`)
      view.put(Bucket.username, usernameKey(body.username), sender)
    }
    if (a.username !== null) view.del(Bucket.username, usernameKey(a.username))
    a.username = body.username === '' ? null : body.username
  }
  if (body.displayName !== null) a.displayName = body.displayName
  if (body.bio !== null) a.bio = body.bio
  if (body.avatarUrl !== null) a.avatarUrl = body.avatarUrl
  writeAccount(view, sender, a)
}

function post (s: TxState, tx: SignedTx, body: BodyOf<'post'>, ctx: TxContext): void {
  const { view } = s
  // the post id is the tx id, which no other applied tx can have: (sender, nonce) is in it
  const author = tx.unsigned.sender
  if (body.replyTo !== null) {
    const parent = requirePost(s, body.replyTo)
    parent.replyCount += 1
    writePost(view, body.replyTo, parent)
    view.put(Bucket.reply, replyKey(body.replyTo, ctx.height, ctx.index), tx.id)
  }
  if (body.repostOf !== null) {
    const original = requirePost(s, body.repostOf)
    original.repostCount += 1
    writePost(view, body.repostOf, original)
  }
  const record: Post = {
    author, text: body.text, replyTo: body.replyTo, repostOf: body.repostOf,
    height: ctx.height, index: ctx.index, timeMs: ctx.timeMs, likeCount: 0, replyCount: 0, repostCount: 0
  }
  writePost(view, tx.id, record)
  view.put(Bucket.postByAuthor, postByAuthorKey(author, ctx.height, ctx.index), tx.id)
  const a = accountAt(s, author)
  a.postCount += 1
  writeAccount(view, author, a)
}

function adjustCounts (s: TxState, follower: PublicKey, target: PublicKey, delta: 1 | -1): void {
  const { view } = s
  const f = accountAt(s, follower)
  f.followingCount += delta
  writeAccount(view, follower, f)
  const t = accountAt(s, target)
  t.followerCount += delta
  writeAccount(view, target, t)
}

function follow (s: TxState, sender: PublicKey, target: PublicKey, height: number): void {
  const { view } = s
  if (valueAt(s, Bucket.following, pairKey(sender, target)) !== undefined) fail(ErrorCode.ALREADY_FOLLOWING, 'already following')
  view.put(Bucket.following, pairKey(sender, target), u64be(height))
  view.put(Bucket.follower, pairKey(target, sender), u64be(height))
  adjustCounts(s, sender, target, 1)
}

function unfollow (s: TxState, sender: PublicKey, target: PublicKey): void {
  const { view } = s
  if (valueAt(s, Bucket.following, pairKey(sender, target)) === undefined) fail(ErrorCode.NOT_FOLLOWING, 'not following')
  view.del(Bucket.following, pairKey(sender, target))
  view.del(Bucket.follower, pairKey(target, sender))
  adjustCounts(s, sender, target, -1)
}

function like (s: TxState, sender: PublicKey, postId: Uint8Array, height: number): void {
  const { view } = s
  const p = requirePost(s, postId)
  if (valueAt(s, Bucket.like, pairKey(postId, sender)) !== undefined) fail(ErrorCode.ALREADY_LIKED, 'already liked')
  p.likeCount += 1
  writePost(view, postId, p)
  view.put(Bucket.like, pairKey(postId, sender), u64be(height))
  view.put(Bucket.likedBy, pairKey(sender, postId), u64be(height))
}

function unlike (s: TxState, sender: PublicKey, postId: Uint8Array): void {
  const { view } = s
  const p = requirePost(s, postId)
  if (valueAt(s, Bucket.like, pairKey(postId, sender)) === undefined) fail(ErrorCode.NOT_LIKED, 'not liked')
  p.likeCount -= 1
  writePost(view, postId, p)
  view.del(Bucket.like, pairKey(postId, sender))
  view.del(Bucket.likedBy, pairKey(sender, postId))
}

function stake (s: TxState, sender: PublicKey, amount: bigint): void {
  const { view } = s
  const a = accountAt(s, sender)
  a.balance -= amount
  a.stake += amount
  writeAccount(view, sender, a)
  writeStaker(view, sender, a.stake)
}

/** Keeps the staker index (the validator candidates) in step with an account's stake. */
export function writeStaker (view: StateView, address: PublicKey, stake: bigint): void {
  if (stake > 0n) view.put(Bucket.staker, address, encodeAmount(stake))
  else view.del(Bucket.staker, address)
}

function unstake (s: TxState, sender: PublicKey, amount: bigint, releaseHeight: number): void {
  const { view } = s
  const a = accountAt(s, sender)
  if (a.stake < amount) fail(ErrorCode.INSUFFICIENT_STAKE, `stake ${a.stake} is below ${amount}`)
  a.stake -= amount
  a.unbonding += amount
  writeAccount(view, sender, a)
  writeStaker(view, sender, a.stake)
  const key = unbondingKey(releaseHeight, sender)
  const pending = valueAt(s, Bucket.unbonding, key)
  view.put(Bucket.unbonding, key, encodeAmount((pending === undefined ? 0n : decodeAmount(pending)) + amount))
}

/**
 * Returns matured unbonding to balances at the end of block `height`.
 * `matured` lists the unbonding entries keyed at `height` (read by the caller,
 * which owns range reads); each is written once, `unbondingBlocks` ≥ 1 earlier.
 */
export async function releaseUnbonding (view: StateView, height: number, matured: ReadonlyArray<{ address: PublicKey, amount: bigint }>): Promise<void> {
  for (const { address, amount } of matured) {
    const a = await readAccount(view, address)
    a.unbonding -= amount
    a.balance += amount
    writeAccount(view, address, a)
    view.del(Bucket.unbonding, unbondingKey(height, address))
  }
}

