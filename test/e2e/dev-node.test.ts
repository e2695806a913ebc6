/**
 * End to end, as a user would: a real `chorus start --dev` process, the CLI
 * and the SDK over real HTTP. Two accounts are made and funded, set profiles,
 * post, reply, repost, follow, like and unlike; every query is checked; then
 * bad input of each kind gets its typed error while blocks keep coming.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type PostView, RpcClientError } from '../../src/client/rpc-client.ts'
import * as b from '../../src/client/transactions.ts'
import { decodeAddress } from '../../src/crypto/address.ts'
import { parseHex } from '../../src/crypto/bytes.ts'
import { type NodeProcess, cli, signerFromHome, startNode } from '../support/node-process.ts'
import { documentSchemas } from '../support/openrpc.ts'
import { waitFor } from '../support/wait.ts'

let home: string
let node: NodeProcess
let chainId: string
const signers: Record<string, b.Signer> = {}

const signerOf = async (name: string): Promise<b.Signer> => await signerFromHome(home, name)

/** Signs with the SDK and waits for inclusion. */
async function send (who: string, body: b.TxDraft['body']): Promise<{ id: string, height: number }> {
  const s = signers[who]!
  const nonce = Number((await node.rpc.getAccount(s.address())).pendingNonce)
  const tx = s.sign({ chainId, nonce, body })
  const res = await node.rpc.submitTx(tx.hex, { wait: 'commit' })
  return { id: res.id, height: res.height! }
}

async function typedError (p: Promise<unknown>): Promise<string | undefined> {
  const e = await p.then(() => undefined, (x: unknown) => x)
  expect(e).toBeInstanceOf(RpcClientError)
  return (e as RpcClientError).typedCode
}

const common = () => ['--home', home, '--rpc', node.rpcUrl, '--json']

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'chorus-e2e-'))
  node = await startNode(home, ['--block-time', '200'])
  chainId = (await node.rpc.getParams()).chainId
  signers.dev = await signerOf('dev')
}, 60_000)

afterAll(async () => {
  await node?.stop()
  await rm(home, { recursive: true, force: true })
})

describe('a dev node, end to end', () => {
  const posts: string[] = []
  let reply = ''
  let repost = ''

  it('creates and funds two accounts, and sets their profiles', async () => {
    for (const name of ['alice', 'bob']) {
      const made = await cli(['keys', 'new', name, '--home', home, '--json'])
      expect(made.code, made.stderr).toBe(0)
      expect(made.json.address).toMatch(/^chorus1/)
      signers[name] = await signerOf(name)
    }
    const listed = await cli(['keys', 'list', '--home', home, '--json'])
    expect(listed.json.map((k: { name: string }) => k.name)).toEqual(['alice', 'bob', 'dev', 'validator'])

    const fund = await cli(['tx', 'transfer', signers.alice!.address(), '5000000', '--key', 'dev', ...common()])
    expect(fund.code, fund.stderr).toBe(0)
    expect(fund.json).toMatchObject({ id: expect.stringMatching(/^[0-9a-f]{64}$/), height: expect.any(Number) })
    await send('dev', b.transfer(signers.bob!.publicKey, 5_000_000n))
    expect((await node.rpc.getAccount(signers.alice!.address())).balance).toBe('5000000')

    const prof = await cli(['tx', 'profile', '--username', 'alice', '--display-name', 'Alice', '--bio', 'posts about birds', '--key', 'alice', ...common()])
    expect(prof.code, prof.stderr).toBe(0)
    await send('bob', b.profile({ username: 'bob', displayName: 'Bob' }))
    expect(await node.rpc.getProfile('@alice')).toMatchObject({ address: signers.alice!.address(), username: 'alice', displayName: 'Alice', bio: 'posts about birds' })
  })

  it('posts, replies, reposts, follows, likes and unlikes', async () => {
    for (let i = 0; i < 4; i++) posts.push((await send('alice', b.post(`bird ${i}`))).id)
    const viaCli = await cli(['tx', 'post', 'bird 4 (from the cli)', '--key', 'alice', ...common()])
    expect(viaCli.code, viaCli.stderr).toBe(0)
    posts.push(viaCli.json.id)

    const r = await cli(['tx', 'reply', posts[0]!, 'nice bird', '--key', 'bob', ...common()])
    expect(r.code, r.stderr).toBe(0)
    reply = r.json.id
    repost = (await send('bob', b.repost(parseHex(posts[1]!)!))).id
    const f = await cli(['tx', 'follow', '@alice', '--key', 'bob', ...common()])
    expect(f.code, f.stderr).toBe(0)
    await send('dev', b.follow(signers.alice!.publicKey))
    const l = await cli(['tx', 'like', posts[0]!, '--key', 'bob', ...common()])
    expect(l.code, l.stderr).toBe(0)
    await send('dev', b.like(parseHex(posts[0]!)!))
    await send('dev', b.unlike(parseHex(posts[0]!)!))
    await send('dev', b.unfollow(signers.alice!.publicKey))
  })

  it('answers every query', async () => {
    const { rpc } = node
    const alice = signers.alice!.address()
    const bob = signers.bob!.address()
    expect(await rpc.getProfile('@alice')).toMatchObject({ postCount: 5, followerCount: 1, followingCount: 0 })
    expect(await rpc.getProfile(bob)).toMatchObject({ username: 'bob', postCount: 2, followerCount: 0, followingCount: 1 })

    const p0 = await rpc.getPost(posts[0]!)
    expect(p0).toMatchObject({ id: posts[0], author: alice, text: 'bird 0', likeCount: 1, replyCount: 1, repostCount: 0, authorProfile: { username: 'alice' } })
    expect((await rpc.getPost(posts[1]!)).repostCount).toBe(1)
    expect(await rpc.getPost(repost)).toMatchObject({ repostOf: posts[1], author: bob })

    // bob's feed: alice's five posts, newest first, across pages of two
    const seen: PostView[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const page = await rpc.getFeed(bob, cursor, 2)
      seen.push(...page.items)
      cursor = page.cursor
      pages++
    } while (cursor !== null)
    expect(pages).toBe(3)
    expect(seen.map((p) => p.id)).toEqual([...posts].reverse())
    const cliFeed = await cli(['query', 'feed', '@bob', '--limit', '2', '--rpc', node.rpcUrl, '--json'])
    expect(cliFeed.json.items.map((p: PostView) => p.id)).toEqual([posts[4], posts[3]])
    expect((await rpc.getFeed(alice)).items).toEqual([])

    expect((await rpc.listPostsByAuthor(alice, null, 100)).items.map((p) => p.id)).toEqual([...posts].reverse())
    expect((await rpc.listPostsByAuthor('@bob')).items.map((p) => p.id)).toEqual([repost, reply])
    expect((await rpc.listReplies(posts[0]!)).items.map((p) => p.id)).toEqual([reply])
    expect((await rpc.getFollowers('@alice')).items).toEqual([{ address: bob, username: 'bob', displayName: 'Bob', avatarUrl: '' }])
    expect((await rpc.getFollowing(bob)).items.map((p) => p.address)).toEqual([alice])
    expect((await rpc.getFollowing(signers.dev!.address())).items).toEqual([])
    expect((await rpc.listLikes(posts[0]!)).items.map((p) => p.address)).toEqual([bob])

    // what a viewer sees: bob follows alice and likes her first post; the latest posts, chain-wide
    expect((await rpc.getProfile('@alice', bob)).viewer).toEqual({ following: true, followedBy: false })
    expect((await rpc.getProfile(bob, '@alice')).viewer).toEqual({ following: false, followedBy: true })
    expect((await rpc.getProfile('@alice')).viewer).toBeUndefined()
    expect((await rpc.getPost(posts[0]!, bob)).viewer).toEqual({ liked: true })
    expect((await rpc.getPost(posts[1]!, bob)).viewer).toEqual({ liked: false })
    const recent = (await rpc.listRecentPosts(null, 100)).items.map((p) => p.id)
    expect(recent.slice(0, 3)).toEqual([repost, reply, posts[4]])
    // several calls in one batch, each answered (or refused) on its own
    const many = await rpc.callMany<{ username: string }>([{ method: 'profile_get', params: ['@alice'] }, { method: 'profile_get', params: ['@nobody_here'] }, { method: 'profile_get', params: { addressOrUsername: bob } }])
    expect(many.map((m) => m instanceof RpcClientError ? m.typedCode : m.username)).toEqual(['alice', 'NOT_FOUND', 'bob'])

    const acct = await rpc.getAccount('@alice')
    expect(BigInt(acct.balance)).toBeLessThan(5_000_000n) // fees were paid
    expect(acct.nonce).toBe('6')
    const st = await rpc.getTx(reply)
    expect(st).toMatchObject({ status: 'included', tx: { kind: 'post', sender: bob, body: { replyTo: posts[0], text: 'nice bird' } } })
    const block = await rpc.getBlock(st.height!, true)
    expect(block.txs).toContainEqual(expect.objectContaining({ id: reply }))
    expect(block.commit).toMatchObject({ height: st.height, signatures: [expect.objectContaining({ validator: expect.stringMatching(/^chorus1/) })] })
    expect((await rpc.getBlock(block.hash)).height).toBe(st.height)
    const validators = await rpc.listValidators()
    expect(validators).toHaveLength(1)
    expect(validators[0]).toMatchObject({ stake: '100', proposerPriority: expect.any(String) })
    expect(await rpc.getStatus()).toMatchObject({ chainId: 'chorus-dev', syncing: false, peerCount: 0, validator: validators[0]!.address })
    const head = await cli(['query', 'head', '--rpc', node.rpcUrl])
    expect(head.stdout).toMatch(/height: \d+/)
  })

  it('gives each kind of bad input its typed error, and keeps producing blocks', async () => {
    const { rpc } = node
    const bob = signers.bob!
    const nonce = Number((await rpc.getAccount(bob.address())).pendingNonce)
    const good = bob.sign({ chainId, nonce, body: b.post('fine') })
    const badSig = good.hex.slice(0, -2) + (good.hex.endsWith('00') ? '01' : '00')
    expect(await typedError(rpc.submitTx(badSig))).toBe('BAD_SIGNATURE')
    expect(await typedError(rpc.submitTx(bob.sign({ chainId, nonce: nonce + 5, body: b.post('gap') }).hex))).toBe('BAD_NONCE')
    expect(await typedError(rpc.submitTx(bob.sign({ chainId, nonce: 0, body: b.post('old') }).hex))).toBe('BAD_NONCE')
    expect(await typedError(rpc.submitTx(bob.sign({ chainId: 'another-chain', nonce, body: b.post('x') }).hex))).toBe('WRONG_CHAIN')
    expect(await typedError(rpc.submitTx(bob.sign({ chainId, nonce, body: b.profile({ username: 'alice' }) }).hex))).toBe('USERNAME_TAKEN')
    expect(await typedError(rpc.submitTx(bob.sign({ chainId, nonce, body: b.post('x'.repeat(4097)) }).hex))).toBe('TOO_LARGE')
    expect(await typedError(rpc.submitTx('not hex at all'))).toBe('MALFORMED')
    expect(await typedError(rpc.call('no_such_method'))).toBeUndefined()
    // a replay: the same signed bytes again, after inclusion
    const included = await rpc.submitTx(good.hex, { wait: 'commit' })
    expect(await typedError(rpc.submitTx(good.hex))).toBe('ALREADY_KNOWN')
    expect((await rpc.getTx(included.id)).status).toBe('included')

    const post = async (body: string) => {
      const res = await fetch(node.rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
      return { status: res.status, json: await res.json() as { error?: { code: number, data?: { code?: string } } } }
    }
    expect((await post('{"jsonrpc": "2.0", "method": ')).json.error?.code).toBe(-32700)
    expect((await post(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'no_such_method' }))).json.error?.code).toBe(-32601)
    const huge = await post(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tx_submit', params: ['ab'.repeat(1_000_000)] }))
    expect(huge.status).toBe(413)
    expect(huge.json.error?.data?.code).toBe('TOO_LARGE')

    // the CLI exits non-zero with the code
    const taken = await cli(['tx', 'profile', '--username', 'alice', '--key', 'bob', ...common()])
    expect(taken.code).not.toBe(0)
    expect(taken.json).toEqual({ error: { code: 'USERNAME_TAKEN', message: expect.any(String) } })
    expect(taken.stderr).toContain('USERNAME_TAKEN')

    const h = (await rpc.getHead()).height
    await waitFor(async () => (await rpc.getHead()).height >= h + 2, 'two more blocks')
  })

  it('signs offline and the hex is accepted by tx_submit', async () => {
    const nonce = Number((await node.rpc.getAccount(signers.bob!.address())).pendingNonce)
    const cold = await cli(['tx', 'post', 'signed cold', '--offline', '--nonce', String(nonce), '--key', 'bob', '--home', home, '--json'])
    expect(cold.code, cold.stderr).toBe(0)
    expect(Object.keys(cold.json).sort()).toEqual(['hex', 'id'])
    const res = await node.rpc.submitTx(cold.json.hex, { wait: 'commit' })
    expect(res.id).toBe(cold.json.id)
    expect((await node.rpc.getPost(res.id)).text).toBe('signed cold')
    expect(decodeAddress(signers.bob!.address())).toEqual(signers.bob!.publicKey)
  })
  it('has a faucet: the dev key\'s coins for a key made elsewhere, once, by an answer its schema describes', async () => {
    const fresh = b.Signer.generate()
    const sent = await node.rpc.devFaucet(fresh.address())
    const schemas = documentSchemas(await node.rpc.call('rpc.discover'))
    expect(schemas.result('dev_faucet')(sent)).toBe(true)
    expect(sent.amount).toBe('1000000000')
    expect((await node.rpc.getTx(sent.id))).toMatchObject({ status: 'included', height: sent.height, tx: { kind: 'transfer', sender: signers.dev!.address() } })
    expect((await node.rpc.getAccount(fresh.address())).balance).toBe('1000000000')
    expect(await typedError(node.rpc.devFaucet(fresh.address()))).toBe('INVALID_AMOUNT')
    // two asks for one new key at once: one transfer, the other refused while it is on its way
    const twice = b.Signer.generate().address()
    const both = await Promise.allSettled([node.rpc.devFaucet(twice), node.rpc.devFaucet(twice)])
    expect(both.map((r) => r.status === 'fulfilled' ? 'sent' : (r.reason as RpcClientError).typedCode).sort()).toEqual(['INVALID_AMOUNT', 'sent'])
    expect((await node.rpc.getAccount(twice)).balance).toBe('1000000000')
    expect(await typedError(node.rpc.devFaucet('chorus1nope'))).toBe('INVALID_ADDRESS')
    // the new key can act at once
    const nonce = Number((await node.rpc.getAccount(fresh.address())).pendingNonce)
    expect((await node.rpc.submitTx(fresh.sign({ chainId, nonce, body: b.post('paid for by the faucet') }).hex, { wait: 'commit' })).height).toBeGreaterThan(0)
  })
})
