/**
 * The web app (#9) in Debian's Chromium, headless, against a real `chorus start --dev`: content made
 * with the SDK, then the page shows it; a key made in the page signs txs. Screenshots go to test-artifacts/web/.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as b from '../../src/client/transactions.ts'
import { parseHex } from '../../src/crypto/bytes.ts'
import { artifactDir, launchChromium, loopbackPage } from '../support/browser.ts'
import { type NodeProcess, signerFromHome, startNode } from '../support/node-process.ts'

let home: string
let node: NodeProcess
let browser: Browser
let chainId: string
const alice = b.Signer.generate()

async function send (s: b.Signer, body: b.TxDraft['body']): Promise<string> {
  const nonce = Number((await node.rpc.getAccount(s.address())).pendingNonce)
  return (await node.rpc.submitTx(s.sign({ chainId, nonce, body }).hex, { wait: 'commit' })).id
}

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'chorus-web-e2e-'))
  // the browser first: without Chromium this fails at once, saying how to install it
  browser = await launchChromium()
  node = await startNode(home)
  chainId = (await node.rpc.getParams()).chainId
  const dev = await signerFromHome(home, 'dev')
  await send(dev, b.transfer(alice.publicKey, 1_000_000n))
  await send(alice, b.profile({ username: 'alice', displayName: 'Alice Liddell', bio: 'curiouser and curiouser' }))
  const first = await send(alice, b.post('first post from alice'))
  await send(alice, b.post('second post from alice'))
  await send(dev, b.follow(alice.publicKey))
  await send(dev, b.reply(parseHex(first)!, 'welcome, alice'))
  await send(dev, b.like(parseHex(first)!))
}, 60_000)

afterAll(async () => {
  await browser?.close()
  await node?.stop()
  await rm(home, { recursive: true, force: true })
})

describe('the web app in a browser', () => {
  it('shows new blocks live; finds a profile by @username with its posts and counters, a post with its likes and replies, followers and a home feed', async () => {
    const shots = await artifactDir('web')
    const { page, external, errors } = await loopbackPage(browser)
    await page.goto(node.rpcUrl + '/')
    await page.getByText('Live', { exact: true }).waitFor()
    expect(await page.getByText('Loading Chorus…').count()).toBe(0)

    // a block arrives over the WebSocket, with no reload: the head shown moves past where it was
    const head = page.getByTestId('head-height')
    await head.waitFor()
    const first = Number(await head.textContent())
    const navigations: string[] = []
    page.on('framenavigated', (f) => { if (f === page.mainFrame()) navigations.push(f.url()) })
    await page.locator(`ol.blocks li[data-height="${first + 1}"]`).waitFor({ timeout: 15_000 })
    expect(Number(await head.textContent())).toBeGreaterThan(first)
    expect(navigations).toEqual([])
    await page.screenshot({ path: join(shots, 'home.png') })

    // search @alice: her profile, counters and posts, newest first
    await page.getByLabel('Search').fill('@alice')
    await page.getByLabel('Search').press('Enter')
    await page.getByRole('heading', { level: 1, name: 'Alice Liddell' }).waitFor()
    expect(page.url()).toBe(`${node.rpcUrl}/profile/%40alice`)
    expect(await page.getByTestId('post-count').textContent()).toBe('2')
    expect(await page.getByTestId('follower-count').textContent()).toBe('1')
    expect(await page.getByTestId('following-count').textContent()).toBe('0')
    await page.getByText('curiouser and curiouser').waitFor()
    const posts = page.locator('article.post .text')
    await posts.first().waitFor()
    expect(await posts.allTextContents()).toEqual(['second post from alice', 'first post from alice'])
    await page.screenshot({ path: join(shots, 'profile.png') })

    // a reload on the profile's route serves the app again (GET with Accept: text/html)
    await page.reload()
    await page.getByRole('heading', { level: 1, name: 'Alice Liddell' }).waitFor()

    // her first post: its like count and its reply
    await page.locator('article.post', { hasText: 'first post from alice' }).locator('time').click()
    await page.getByRole('heading', { level: 1, name: 'Post' }).waitFor()
    await expect.poll(async () => await page.locator('.focus .counts').textContent()).toBe('1 like · 1 reply · 0 reposts')
    await page.getByRole('region', { name: 'Replies' }).getByText('welcome, alice').waitFor()
    await page.screenshot({ path: join(shots, 'post.png') })

    // the reply's own page: the post it answers is above it, in the thread
    await page.getByRole('region', { name: 'Replies' }).locator('article.post time').click()
    await page.getByRole('region', { name: 'In reply to' }).getByText('first post from alice').waitFor()
    expect(await page.locator('.focus .text').textContent()).toBe('welcome, alice')
    await page.goBack()
    await page.getByRole('region', { name: 'Replies' }).waitFor()

    // her followers (the dev key), and the dev key's home feed (her posts)
    await page.goBack()
    await page.getByRole('link', { name: /1 follower/ }).click()
    await page.getByRole('heading', { level: 1, name: 'Followers of @alice' }).waitFor()
    const devAddress = (await signerFromHome(home, 'dev')).address()
    await page.locator(`a[href="/profile/${devAddress}"]`).first().waitFor()
    await page.goto(`${node.rpcUrl}/profile/${devAddress}/feed`)
    await page.getByText('second post from alice').waitFor()
    // a feed names each post's author, as the profile names her
    expect(await page.locator('article.post', { hasText: 'second post from alice' }).locator('.meta a').first().textContent()).toBe('Alice Liddell')

    // the latest posts, chain-wide: what is there, then a new one arrives with no reload
    await page.getByRole('link', { name: 'Latest posts' }).click()
    await page.getByRole('heading', { level: 1, name: 'Latest posts' }).waitFor()
    await page.getByText('New posts appear here as they are included').waitFor()
    const latest = page.getByRole('region', { name: 'Latest posts' }).locator('article.post .text')
    await latest.first().waitFor()
    expect(await latest.allTextContents()).toEqual(['welcome, alice', 'second post from alice', 'first post from alice'])
    const navigated = navigations.length
    await send(alice, b.post('a post made while the page watched'))
    await expect.poll(async () => await latest.first().textContent(), { timeout: 15_000 }).toBe('a post made while the page watched')
    expect(navigations.length).toBe(navigated)
    await page.screenshot({ path: join(shots, 'latest.png') })

    // a block and a tx: from the home page's live list to a block with txs, then one of its txs decoded
    const at = await node.rpc.getTx((await node.rpc.listRecentPosts(null, 1)).items[0]!.id)
    await page.goto(`${node.rpcUrl}/block/${at.height!}`)
    await page.getByRole('heading', { level: 1, name: `Block ${at.height!}` }).waitFor()
    await page.getByRole('heading', { level: 2, name: /Transactions \(\d+\)/ }).waitFor()
    await page.locator(`a[href="/tx/${at.tx!.id}"]`).click()
    await page.getByRole('heading', { level: 1, name: 'Transaction' }).waitFor()
    await page.getByText('Status: included in block').waitFor()
    await page.getByText('a post made while the page watched').waitFor()
    await page.screenshot({ path: join(shots, 'tx.png') })

    expect(external).toEqual([])
    expect(errors).toEqual([])
    await page.context().close()
  })

  it('makes a key in the page, and with it sets a username (a taken one is said in words), posts, follows and likes', async () => {
    const shots = await artifactDir('web')
    const { page, external, errors } = await loopbackPage(browser)
    await page.goto(node.rpcUrl + '/key')
    await page.getByLabel('Passphrase (8 characters or more)').fill('correct horse battery')
    await page.getByRole('button', { name: 'Create a key' }).click()
    const address = (await page.getByTestId('my-address').textContent())!
    expect(address).toMatch(/^chorus1/)

    // coins from the dev faucet (a dev chain's), asked for in the page
    await page.getByRole('button', { name: 'Get coins from the dev faucet' }).click()
    await page.getByText(/The dev faucet sent 1000000000: included in block \d+/).waitFor()
    await expect.poll(async () => await page.getByTestId('my-balance').textContent()).toBe('1000000000')
    await page.getByRole('button', { name: 'Get coins from the dev faucet' }).click()
    await page.getByText(/The dev faucet did not send: .*already holds/).waitFor()

    // a taken username: the typed error, in words
    await page.getByLabel('Username').fill('alice')
    await page.getByRole('button', { name: 'Save the profile' }).click()
    await page.getByText('that username is taken').waitFor()

    await page.getByLabel('Username').fill('carol')
    await page.getByRole('button', { name: 'Save the profile' }).click()
    await page.getByText(/Your profile: included in block \d+/).waitFor()

    await page.getByLabel('What is happening?').fill('hello from the browser')
    await page.getByRole('button', { name: 'Post', exact: true }).click()
    await page.getByText(/Your post: included in block \d+/).waitFor()
    await page.screenshot({ path: join(shots, 'key.png') })

    // the chain has them: the profile page of @carol shows the post
    expect((await node.rpc.getProfile('@carol')).address).toBe(address)
    await page.getByLabel('Search').fill('@carol')
    await page.getByLabel('Search').press('Enter')
    await page.getByText('hello from the browser').waitFor()
    expect(await page.getByTestId('post-count').textContent()).toBe('1')

    // follow @alice: her follower count moves from 1 to 2 once included, and the button turns to Unfollow
    await page.getByLabel('Search').fill('@alice')
    await page.getByLabel('Search').press('Enter')
    await page.getByRole('heading', { level: 1, name: 'Alice Liddell' }).waitFor()
    await page.getByRole('button', { name: 'Follow', exact: true }).click()
    await page.getByText(/Your follow: included in block \d+/).waitFor()
    await expect.poll(async () => await page.getByTestId('follower-count').textContent()).toBe('2')
    await page.getByRole('button', { name: 'Unfollow', exact: true }).waitFor()
    expect(await page.getByRole('button', { name: 'Follow', exact: true }).count()).toBe(0)

    // like her first post, on its page; then the button is Unlike; reply to it and repost it
    await page.locator('article.post', { hasText: 'first post from alice' }).locator('time').click()
    await page.getByRole('heading', { level: 1, name: 'Post' }).waitFor()
    await page.getByRole('button', { name: 'Like', exact: true }).click()
    await page.getByText(/Your like: included in block \d+/).waitFor()
    await expect.poll(async () => await page.locator('.focus .counts').textContent()).toMatch(/^2 likes ·/)
    await page.getByRole('button', { name: 'Unlike', exact: true }).waitFor()
    await page.getByLabel('Your reply').fill('a reply from the browser')
    await page.getByRole('button', { name: 'Reply', exact: true }).click()
    await page.getByText(/Your reply: included in block \d+/).waitFor()
    await page.getByRole('region', { name: 'Replies' }).getByText('a reply from the browser').waitFor()
    await page.getByRole('button', { name: 'Repost', exact: true }).click()
    await page.getByText(/Your repost: included in block \d+/).waitFor()
    await expect.poll(async () => await page.locator('.focus .counts').textContent()).toMatch(/2 replies · 1 repost$/)
    expect((await node.rpc.getProfile('@carol')).followingCount).toBe(1)
    expect((await node.rpc.getProfile('@carol')).postCount).toBe(3)

    // back up the key (its secret, after the passphrase again), then import it in another browser profile
    await page.getByRole('link', { name: 'You', exact: true }).click() // in the page: the key stays unlocked
    await page.getByText('Back up your key').click()
    await page.getByLabel('Passphrase').fill('not the passphrase')
    await page.getByRole('button', { name: 'Show the secret key' }).click()
    await page.getByText('wrong passphrase').waitFor()
    await page.getByLabel('Passphrase').fill('correct horse battery')
    await page.getByRole('button', { name: 'Show the secret key' }).click()
    const secret = (await page.getByTestId('my-secret').textContent())!
    expect(secret).toMatch(/^[0-9a-f]{64}$/)
    const other = await loopbackPage(browser)
    await other.page.goto(node.rpcUrl + '/key')
    await other.page.getByLabel('Passphrase (8 characters or more)').fill('another long passphrase')
    await other.page.getByLabel('Secret key (64 hex characters)').fill(secret)
    await other.page.getByRole('button', { name: 'Import the key' }).click()
    expect(await other.page.getByTestId('my-address').textContent()).toBe(address)
    // a reload forgets the unlocked key, not the stored one: the passphrase unlocks it again
    await other.page.reload()
    await other.page.getByLabel('Passphrase').fill('another long passphrase')
    await other.page.getByRole('button', { name: 'Unlock' }).click()
    expect(await other.page.getByTestId('my-address').textContent()).toBe(address)
    expect(other.external).toEqual([])
    expect(other.errors).toEqual([])
    await other.page.context().close()

    expect(external).toEqual([])
    expect(errors).toEqual([])
    await page.context().close()
  }, 120_000)

  it('says where the app is when the node starts, and reconnects by itself when the node restarts', async () => {
    expect(node.log()).toContain(`web=${node.rpcUrl}/`)
    const { page, external, errors } = await loopbackPage(browser)
    await page.goto(node.rpcUrl + '/')
    await page.getByText('Live', { exact: true }).waitFor()
    await node.stop()
    await expect.poll(async () => await page.getByTestId('live-status').textContent()).toBe('Offline: reconnecting…')
    node = await startNode(home, [], { rpcPort: node.rpcPort, p2pPort: node.p2pPort })
    await expect.poll(async () => await page.getByTestId('live-status').textContent(), { timeout: 30_000 }).toBe('Live')
    // blocks made after the restart arrive in the same page, with no reload
    const after = (await node.rpc.getHead()).height + 1
    await page.locator(`ol.blocks li[data-height="${after}"]`).waitFor({ timeout: 15_000 })
    expect(external).toEqual([])
    // the browser logs the failed connection attempts while the node is down; nothing else
    expect(errors.filter((e) => !/WebSocket|ERR_CONNECTION_REFUSED|Failed to load resource/.test(e))).toEqual([])
    await page.context().close()
  }, 60_000)

  it('fits a phone-sized screen, and its controls are reachable from the keyboard', async () => {
    const shots = await artifactDir('web')
    const { page, external, errors } = await loopbackPage(browser)
    await page.setViewportSize({ width: 375, height: 740 })
    await page.goto(node.rpcUrl + '/profile/@alice')
    await page.getByRole('heading', { level: 1, name: 'Alice Liddell' }).waitFor()
    await page.locator('article.post').first().waitFor()
    // nothing wider than the screen: no sideways scrolling
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true)
    await page.screenshot({ path: join(shots, 'profile-phone.png'), fullPage: true })
    // Tab reaches the navigation and the search field; Enter searches
    const focused = async () => await page.evaluate(() => document.activeElement?.textContent?.trim() || (document.activeElement as HTMLInputElement | null)?.id || '')
    const reached: string[] = []
    for (let i = 0; i < 6 && !reached.includes('q'); i++) { await page.keyboard.press('Tab'); reached.push(await focused()) }
    expect(reached.slice(0, 3)).toEqual(['Chorus', 'Latest posts', 'Your key'])
    expect(reached).toContain('q')
    await page.keyboard.type('@alice')
    await page.keyboard.press('Enter')
    await page.getByRole('heading', { level: 1, name: 'Alice Liddell' }).waitFor()
    expect(external).toEqual([])
    expect(errors).toEqual([])
    await page.context().close()
  })
})
