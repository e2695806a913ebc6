/**
 * The home-timeline index in a real `chorus start --dev` process: feeds read from it,
 * a node started with --no-timeline-index still answers feeds (merged), and the index
 * catches up from the blocks it missed at the next start, killed or not.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as b from '../../src/client/transactions.ts'
import { type NodeProcess, cli, signerFromHome, startNode } from '../support/node-process.ts'
import { waitFor } from '../support/wait.ts'

let home: string
let node: NodeProcess | null = null
let chainId: string
const signers: Record<string, b.Signer> = {}

async function send (who: string, body: b.TxDraft['body']): Promise<string> {
  const s = signers[who]!
  const nonce = Number((await node!.rpc.getAccount(s.address())).pendingNonce)
  return (await node!.rpc.submitTx(s.sign({ chainId, nonce, body }).hex, { wait: 'commit' })).id
}

/** Every post of a feed, page by page (2 a page), newest first. */
async function feed (who: string): Promise<string[]> {
  const ids: string[] = []
  let cursor: string | null = null
  do {
    const page = await node!.rpc.getFeed(signers[who]!.address(), cursor, 2)
    ids.push(...page.items.map((p) => p.id))
    cursor = page.cursor
  } while (cursor !== null)
  return ids
}

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'chorus-e2e-timeline-'))
  node = await startNode(home, ['--block-time', '200'])
  chainId = (await node.rpc.getParams()).chainId
  signers.dev = await signerFromHome(home, 'dev')
  for (const name of ['alice', 'bob', 'carol']) {
    expect((await cli(['keys', 'new', name, '--home', home, '--json'])).code).toBe(0)
    signers[name] = await signerFromHome(home, name)
    await send('dev', b.transfer(signers[name].publicKey, 5_000_000n))
  }
}, 90_000)

afterAll(async () => {
  await node?.stop()
  await rm(home, { recursive: true, force: true })
})

describe('home timelines in a running node', () => {
  const posts: string[] = [] // bob's and carol's, oldest first

  it('serves feeds from the index: posts of followed accounts, newest first, an unfollow gone on the next read', async () => {
    const early = await send('carol', b.post('before alice followed carol'))
    await send('alice', b.follow(signers.bob!.publicKey))
    await send('alice', b.follow(signers.carol!.publicKey))
    posts.push(early)
    for (const who of ['bob', 'carol', 'bob']) posts.push(await send(who, b.post(`by ${who}`)))
    await send('dev', b.post('by dev, whom alice does not follow'))
    expect(await feed('alice')).toEqual([...posts].reverse()) // carol's earlier post merged in at the follow
    await send('alice', b.unfollow(signers.carol!.publicKey))
    const bobs = []
    for (const id of posts) if ((await node!.rpc.getPost(id)).author === signers.bob!.address()) bobs.push(id)
    expect(await feed('alice')).toEqual([...bobs].reverse())
    await send('alice', b.follow(signers.carol!.publicKey))
    expect(await feed('alice')).toEqual([...posts].reverse())
  })

  it('answers feeds with the index off, and catches the index up from the blocks at the next start, after a kill too', async () => {
    await node!.stop()
    node = await startNode(home, ['--block-time', '200', '--no-timeline-index'])
    for (const who of ['carol', 'bob']) posts.push(await send(who, b.post(`while the index is off, by ${who}`)))
    expect(await feed('alice')).toEqual([...posts].reverse())
    await node.kill()

    node = await startNode(home, ['--block-time', '200'])
    posts.push(await send('bob', b.post('after the restart')))
    await waitFor(async () => (await feed('alice')).length === posts.length, 'the feed to hold every post', 20_000, 100)
    expect(await feed('alice')).toEqual([...posts].reverse())
    await node.kill()
    node = await startNode(home, ['--block-time', '200'])
    expect(await feed('alice')).toEqual([...posts].reverse())
  })
})
