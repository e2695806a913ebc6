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
import { u64be } from '../crypto/bytes.ts'
import { ErrorCode, fail } from '../protocol/errors.ts'
import type { ChainParams } from '../protocol/params.ts'
import type { BodyOf, PublicKey, SignedTx } from '../protocol/types.ts'
import { Bucket } from './buckets.ts'
import { accountKey, pairKey, postByAuthorKey, postKey, replyKey, unbondingKey, usernameKey } from './keys.ts'
import { type Account, type Post, checkAccount, checkPost, decodeAccount, decodeAmount, decodePost, emptyAccount, encodeAccount, encodeAmount, encodePost } from './records.ts'
import { type MaybePromise, RecordWrite, type StateReader, StateView, lookup } from './view.ts'

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
  let below = state
  if (state instanceof StateView) {
    const w = state.find(bucket, key)
    if (w instanceof RecordWrite) return (w as RecordWrite<NonNullable<T>>).copy()
    if (w !== undefined) return fromBytes(w.value ?? undefined)
    below = state.base
  }
  const b = lookup(below, bucket, key)
  return b instanceof Promise ? b.then(fromBytes) : fromBytes(b)
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

async function requirePost (view: StateView, id: Uint8Array): Promise<Post> {
  return (await readPost(view, id)) ?? fail(ErrorCode.NOT_FOUND, 'no such post')
}

/** Applies `tx` to `view`, or throws the typed error of the rule it breaks. */
export async function applyTx (view: StateView, tx: SignedTx, ctx: TxContext): Promise<void> {
  const { sender, nonce, fee, body } = tx.unsigned
  const account = await readAccount(view, sender)
  if (nonce !== account.nonce) fail(ErrorCode.BAD_NONCE, `expected nonce ${account.nonce}, got ${nonce}`, { expected: account.nonce })
  const spend = fee + (body.kind === 'transfer' || body.kind === 'stake' ? body.amount : 0n)
  if (account.balance < spend) fail(ErrorCode.INSUFFICIENT_FUNDS, `balance ${account.balance} is below ${spend}`)
  account.nonce += 1
  account.balance -= fee
  writeAccount(view, sender, account)

  switch (body.kind) {
    case 'transfer': await transfer(view, sender, body); break
    case 'profile': await profile(view, sender, body); break
    case 'post': await post(view, tx, body, ctx); break
    case 'follow': await follow(view, sender, body.target, ctx.height); break
    case 'unfollow': await unfollow(view, sender, body.target); break
    case 'like': await like(view, sender, body.postId, ctx.height); break
    case 'unlike': await unlike(view, sender, body.postId); break
    case 'stake': await stake(view, sender, body.amount); break
    case 'unstake': await unstake(view, sender, body.amount, ctx.height + ctx.params.unbondingBlocks); break
  }

  const proposer = await readAccount(view, ctx.proposer)
  proposer.balance += fee
  writeAccount(view, ctx.proposer, proposer)
}

async function transfer (view: StateView, sender: PublicKey, body: BodyOf<'transfer'>): Promise<void> {
  const from = await readAccount(view, sender)
  from.balance -= body.amount
  writeAccount(view, sender, from)
  const to = await readAccount(view, body.to)
  to.balance += body.amount
  writeAccount(view, body.to, to)
}

async function profile (view: StateView, sender: PublicKey, body: BodyOf<'profile'>): Promise<void> {
  const a = await readAccount(view, sender)
  if (body.username !== null && body.username !== (a.username ?? '')) {
    if (body.username !== '') {
      const owner = await lookup(view, Bucket.username, usernameKey(body.username))
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

async function post (view: StateView, tx: SignedTx, body: BodyOf<'post'>, ctx: TxContext): Promise<void> {
  // the post id is the tx id, which no other applied tx can have: (sender, nonce) is in it
  const author = tx.unsigned.sender
  if (body.replyTo !== null) {
    const parent = await requirePost(view, body.replyTo)
    parent.replyCount += 1
    writePost(view, body.replyTo, parent)
    view.put(Bucket.reply, replyKey(body.replyTo, ctx.height, ctx.index), tx.id)
  }
  if (body.repostOf !== null) {
    const original = await requirePost(view, body.repostOf)
    original.repostCount += 1
    writePost(view, body.repostOf, original)
  }
  const record: Post = {
    author, text: body.text, replyTo: body.replyTo, repostOf: body.repostOf,
    height: ctx.height, index: ctx.index, timeMs: ctx.timeMs, likeCount: 0, replyCount: 0, repostCount: 0
  }
  writePost(view, tx.id, record)
  view.put(Bucket.postByAuthor, postByAuthorKey(author, ctx.height, ctx.index), tx.id)
  const a = await readAccount(view, author)
  a.postCount += 1
  writeAccount(view, author, a)
}

async function adjustCounts (view: StateView, follower: PublicKey, target: PublicKey, delta: 1 | -1): Promise<void> {
  const f = await readAccount(view, follower)
  f.followingCount += delta
  writeAccount(view, follower, f)
  const t = await readAccount(view, target)
  t.followerCount += delta
  writeAccount(view, target, t)
}

async function follow (view: StateView, sender: PublicKey, target: PublicKey, height: number): Promise<void> {
  if (await lookup(view, Bucket.following, pairKey(sender, target)) !== undefined) fail(ErrorCode.ALREADY_FOLLOWING, 'already following')
  view.put(Bucket.following, pairKey(sender, target), u64be(height))
  view.put(Bucket.follower, pairKey(target, sender), u64be(height))
  await adjustCounts(view, sender, target, 1)
}

async function unfollow (view: StateView, sender: PublicKey, target: PublicKey): Promise<void> {
  if (await lookup(view, Bucket.following, pairKey(sender, target)) === undefined) fail(ErrorCode.NOT_FOLLOWING, 'not following')
  view.del(Bucket.following, pairKey(sender, target))
  view.del(Bucket.follower, pairKey(target, sender))
  await adjustCounts(view, sender, target, -1)
}

async function like (view: StateView, sender: PublicKey, postId: Uint8Array, height: number): Promise<void> {
  const p = await requirePost(view, postId)
  if (await lookup(view, Bucket.like, pairKey(postId, sender)) !== undefined) fail(ErrorCode.ALREADY_LIKED, 'already liked')
  p.likeCount += 1
  writePost(view, postId, p)
  view.put(Bucket.like, pairKey(postId, sender), u64be(height))
  view.put(Bucket.likedBy, pairKey(sender, postId), u64be(height))
}

async function unlike (view: StateView, sender: PublicKey, postId: Uint8Array): Promise<void> {
  const p = await requirePost(view, postId)
  if (await lookup(view, Bucket.like, pairKey(postId, sender)) === undefined) fail(ErrorCode.NOT_LIKED, 'not liked')
  p.likeCount -= 1
  writePost(view, postId, p)
  view.del(Bucket.like, pairKey(postId, sender))
  view.del(Bucket.likedBy, pairKey(sender, postId))
}

async function stake (view: StateView, sender: PublicKey, amount: bigint): Promise<void> {
  const a = await readAccount(view, sender)
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

async function unstake (view: StateView, sender: PublicKey, amount: bigint, releaseHeight: number): Promise<void> {
  const a = await readAccount(view, sender)
  if (a.stake < amount) fail(ErrorCode.INSUFFICIENT_STAKE, `stake ${a.stake} is below ${amount}`)
  a.stake -= amount
  a.unbonding += amount
  writeAccount(view, sender, a)
  writeStaker(view, sender, a.stake)
  const key = unbondingKey(releaseHeight, sender)
  const pending = await lookup(view, Bucket.unbonding, key)
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

