/**
 * The transition runs synchronously when every read is at hand, and otherwise awaits each read
 * and runs the tx again from an empty view. The outcome must not depend on which: the same txs
 * against the same state, read synchronously, only through Promises, or a mix (so an attempt is
 * cut short after it has written), give the same errors and the same writes, byte for byte.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import * as b from '../../../src/client/transactions.ts'
import { assembleSignedTx, encodeUnsignedTx } from '../../../src/codec/tx.ts'
import { toHex } from '../../../src/crypto/bytes.ts'
import { sha256 } from '../../../src/crypto/hash.ts'
import { ChorusError } from '../../../src/protocol/errors.ts'
import { DEFAULT_PARAMS } from '../../../src/protocol/params.ts'
import type { Hash, PublicKey, SignedTx, TxBody } from '../../../src/protocol/types.ts'
import { Bucket } from '../../../src/state/buckets.ts'
import { emptyAccount, encodeAccount, encodePost } from '../../../src/state/records.ts'
import { applyTx, readAccount } from '../../../src/state/transition.ts'
import { type MaybePromise, type StateReader, StateView } from '../../../src/state/view.ts'

const USERS = 5
const users: PublicKey[] = Array.from({ length: USERS }, (_, i) => sha256(Uint8Array.of(1, i)))
const proposer = sha256(Uint8Array.of(2))
const seededPosts: Hash[] = [sha256(Uint8Array.of(3, 0)), sha256(Uint8Array.of(3, 1))]

/** The state before the txs: funded accounts (one near the stake limit), two posts by user 0. */
function baseState (): Map<string, Uint8Array> {
  const m = new Map<string, Uint8Array>()
  for (const [i, u] of users.entries()) m.set(`${Bucket.account}:${toHex(u)}`, encodeAccount({ ...emptyAccount(), balance: i === 4 ? 50n : 1_000_000n, postCount: i === 0 ? 2 : 0 }))
  for (const [i, id] of seededPosts.entries()) {
    m.set(`${Bucket.post}:${toHex(id)}`, encodePost({ author: users[0]!, text: `seed ${i}`, replyTo: null, repostOf: null, height: 1, index: i, timeMs: 1, likeCount: 0, replyCount: 0, repostCount: 0 }))
  }
  return m
}

type Mode = 'sync' | 'async' | 'mixed'

/** A reader over `data`: answering at once, only through a Promise, or by the key's first byte. */
function reader (data: Map<string, Uint8Array>, mode: Mode): StateReader & { lookup: (bucket: Bucket, key: Uint8Array) => MaybePromise<Uint8Array | undefined> } {
  const read = (bucket: Bucket, key: Uint8Array) => data.get(`${bucket}:${toHex(key)}`)
  return {
    get: async (bucket, key) => read(bucket, key),
    lookup: (bucket, key) => mode === 'sync' || (mode === 'mixed' && key[0]! % 2 === 0) ? read(bucket, key) : Promise.resolve(read(bucket, key))
  }
}

/** What a step does: a kind, who sends it, and an index into users, posts made so far, usernames or amounts. */
const step = fc.record({
  kind: fc.constantFrom('transfer', 'profile', 'post', 'reply', 'repost', 'follow', 'unfollow', 'like', 'unlike', 'stake', 'unstake'),
  sender: fc.nat(USERS - 1),
  pick: fc.nat(20),
  badNonce: fc.boolean().map((x) => x && Math.random() < 0.1)
})

function bodyOf (kind: string, pick: number, posts: readonly Hash[]): TxBody {
  const user = users[pick % USERS]!
  const postId = pick % 7 === 6 ? sha256(Uint8Array.of(9, pick)) : posts[pick % posts.length]! // now and then a post that does not exist
  switch (kind) {
    case 'transfer': return b.transfer(user, BigInt(pick * 1000))
    case 'profile': return b.profile({ username: ['ann', 'bob', '', null][pick % 4]!, displayName: `n${pick}` })
    case 'post': return b.post(`post ${pick}`)
    case 'reply': return b.reply(postId, `reply ${pick}`)
    case 'repost': return b.repost(postId)
    case 'follow': return b.follow(user)
    case 'unfollow': return b.unfollow(user)
    case 'like': return b.like(postId)
    case 'unlike': return b.unlike(postId)
    case 'stake': return b.stake(BigInt(pick * 10))
    default: return b.unstake(BigInt(pick * 5))
  }
}

interface Outcome { results: string[], writes: string[] }

/** Runs the steps as one block against a reader in `mode`: each tx in a child view, merged when it applies. */
async function runBlock (steps: ReadonlyArray<{ kind: string, sender: number, pick: number, badNonce: boolean }>, mode: Mode, txsOut?: SignedTx[]): Promise<Outcome> {
  const block = new StateView(reader(baseState(), mode))
  const posts = [...seededPosts]
  const results: string[] = []
  for (const [index, s] of steps.entries()) {
    const sender = users[s.sender]!
    const nonce = (await readAccount(block, sender)).nonce + (s.badNonce ? 1 : 0)
    const unsigned = { chainId: 'c', sender, nonce, fee: 1n, body: bodyOf(s.kind, s.pick, posts) }
    const tx = assembleSignedTx(encodeUnsignedTx(unsigned), new Uint8Array(64), unsigned)
    txsOut?.push(tx)
    const child = block.child()
    try {
      await applyTx(child, tx, { height: 5, timeMs: 5, index, proposer, params: { ...DEFAULT_PARAMS, unbondingBlocks: 3 } })
      block.merge(child)
      if (s.kind === 'post' || s.kind === 'reply' || s.kind === 'repost') posts.push(tx.id)
      results.push('ok')
    } catch (e) {
      if (!(e instanceof ChorusError)) throw e
      results.push(e.code)
    }
  }
  return { results, writes: block.sortedWrites().map((w) => `${w.bucket}:${toHex(w.key)}=${w.value === null ? 'del' : toHex(w.value)}`) }
}

describe('applyTx, with reads at hand or awaited', () => {
  it('gives the same errors and writes whether the reader answers at once, through Promises, or a mix', async () => {
    await fc.assert(fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 40 }), async (steps) => {
      const sync = await runBlock(steps, 'sync')
      expect(await runBlock(steps, 'async')).toEqual(sync)
      expect(await runBlock(steps, 'mixed')).toEqual(sync)
    }), { numRuns: 150, seed: 20261127 })
  })

  it('is synchronous with a reader that answers at once, and a Promise when a read must wait', async () => {
    const tx = (await (async () => { const out: SignedTx[] = []; await runBlock([{ kind: 'post', sender: 1, pick: 0, badNonce: false }], 'sync', out); return out[0]! })())
    const ctx = { height: 5, timeMs: 5, index: 0, proposer, params: DEFAULT_PARAMS }
    expect(applyTx(new StateView(reader(baseState(), 'sync')).child(), tx, ctx)).toBeUndefined()
    const waiting = new StateView(reader(baseState(), 'async')).child()
    const pending = applyTx(waiting, tx, ctx)
    expect(pending).toBeInstanceOf(Promise)
    await pending
    expect(waiting.sortedWrites().length).toBeGreaterThan(0)
    // a failing tx fails the same way on both paths: synchronously, or as the Promise's rejection
    const broke = { ...tx, unsigned: { ...tx.unsigned, nonce: 7 } }
    expect(() => applyTx(new StateView(reader(baseState(), 'sync')).child(), broke, ctx)).toThrow(expect.objectContaining({ code: 'BAD_NONCE' }))
    await expect(applyTx(new StateView(reader(baseState(), 'async')).child(), broke, ctx)).rejects.toMatchObject({ code: 'BAD_NONCE' })
  })

  it('refuses a view that already holds writes (an attempt cut short by a read is undone by emptying it)', () => {
    const view = new StateView(reader(baseState(), 'sync'))
    view.put(Bucket.account, users[0]!, encodeAccount(emptyAccount()))
    const unsigned = { chainId: 'c', sender: users[1]!, nonce: 0, fee: 1n, body: b.post('x') }
    const tx = assembleSignedTx(encodeUnsignedTx(unsigned), new Uint8Array(64), unsigned)
    expect(() => applyTx(view, tx, { height: 5, timeMs: 5, index: 0, proposer, params: DEFAULT_PARAMS })).toThrow(/a view of its own/)
  })
})
