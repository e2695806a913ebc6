/**
 * The SDK as a package of its own (#8): `npm pack` packages/client, install the tarball into an
 * app outside the repo, and use it there as apps do, against a live dev node on 127.0.0.1:
 * plain Node (ESM), TypeScript with `tsc --init`'s settings (types included), and a browser
 * bundle. The app's node_modules holds the SDK and its few pure-JS dependencies, nothing of the node.
 */
import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { runInNewContext } from 'node:vm'
import { build } from 'esbuild'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type NodeProcess, startNode } from '../support/node-process.ts'

const run = promisify(execFile)
const PACKAGE_DIR = fileURLToPath(new URL('../../packages/client', import.meta.url))
const TSC = fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url))
const NAME = '@chorus-social/client'
/** Everything the installed SDK may bring: itself and pure-JS packages that run in a browser. */
const ALLOWED = [NAME, '@noble/curves', '@noble/hashes', '@scure/base', 'typebox']
/** The node's own dependencies (or their kind) an app must not get. */
const FORBIDDEN = /^(level|classic-level|abstract-level|memory-level|ws|tsx|esbuild|msgpackr-extract|node-gyp-build|prom-client|commander|libp2p|@libp2p\/.*|@chainsafe\/.*)$/

let work: string
let app: string
let node: NodeProcess
let devSecret: string

/** npm with the environment of a user's shell: without the `npm_*` settings of the `npm test` that runs this. */
async function npm (args: string[], cwd: string): Promise<string> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_')))
  const { stdout } = await run('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, env, timeout: 120_000 })
  return stdout
}

async function node$ (args: string[], cwd: string): Promise<string> {
  const { stdout } = await run(process.execPath, args, { cwd, timeout: 60_000 })
  return stdout
}

/** Every package installed under `dir/node_modules`, nested ones included. */
async function installedPackages (dir: string): Promise<string[]> {
  const found: string[] = []
  const walk = async (modules: string): Promise<void> => {
    const entries = await readdir(modules, { withFileTypes: true }).catch(() => [])
    for (const e of entries) {
      if (e.name.startsWith('.')) continue
      if (e.name.startsWith('@')) {
        for (const s of await readdir(join(modules, e.name))) {
          found.push(`${e.name}/${s}`)
          await walk(join(modules, e.name, s, 'node_modules'))
        }
      } else {
        found.push(e.name)
        await walk(join(modules, e.name, 'node_modules'))
      }
    }
  }
  await walk(join(dir, 'node_modules'))
  return found.sort()
}

/**
 * What each use does (the same source in JS and TS): read the head and the params, sign a post with
 * the dev key, follow the key's posts live, submit the post and wait for its block and its event.
 */
const useOfTheSdk = (label: string): string => `
  const rpc = new RpcClient(url)
  const head = await rpc.getHead()
  const { chainId, params } = await rpc.getParams()
  const me = Signer.fromSecretKey(parseHex(secretHex)!)
  const nonce = Number((await rpc.getAccount(me.address())).pendingNonce)
  const tx = me.sign({ chainId, nonce, body: post(${JSON.stringify(`hello from ${label}`)}) }, { minFeePerByte: BigInt(params.minFeePerByte) })
  const live = await LiveClient.connect(url.replace(/^http/, 'ws') + '/ws')
  const seen = Promise.withResolvers()
  await live.subscribe('posts', { author: me.address() }, (event) => { if (event.id === tx.id) seen.resolve(event.eventId) })
  const res = await rpc.submitTx(tx.hex, { wait: 'commit' })
  const eventId = await seen.promise
  live.close()
  const result = { head: head.height, id: res.id, height: res.height, author: me.address(), eventId }`

/** Checks on the node (through the repo's own client) that the post is there, in a block, by the dev key, and was seen live. */
async function expectCommittedPost (out: { head: number, id: string, height: number, author: string, eventId: string }, text: string): Promise<void> {
  expect(out.head).toBeGreaterThanOrEqual(0)
  expect(out.height).toBeGreaterThan(out.head)
  expect(out.eventId).toMatch(new RegExp(`^${out.height}:\\d+$`))
  const got = await node.rpc.getPost(out.id)
  expect(got.text).toBe(text)
  expect(got.author).toBe(out.author)
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'chorus-sdk-package-'))
  app = join(work, 'app')
  const home = join(work, 'home')
  await mkdir(app)
  await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'an-app', private: true, type: 'module' }))
  const packAndInstall = async (): Promise<void> => {
    // prepack builds dist/ from src/client first
    const packed = JSON.parse(await npm(['pack', '--json', '--pack-destination', work], PACKAGE_DIR)) as Array<{ filename: string }>
    await npm(['install', '--prefer-offline', join(work, packed[0]!.filename)], app)
  }
  const startDevNode = async (): Promise<void> => {
    node = await startNode(home, ['--block-time', '200'])
    devSecret = (JSON.parse(await readFile(join(home, 'keys', 'dev.json'), 'utf8')) as { secretKey: string }).secretKey
  }
  await Promise.all([packAndInstall(), startDevNode()])
}, 180_000)

afterAll(async () => {
  await node?.stop()
  if (work !== undefined) await rm(work, { recursive: true, force: true })
})

describe(`${NAME}, packed and installed in an app`, () => {
  it('brings only itself and pure-JS dependencies: nothing of the node', async () => {
    const installed = await installedPackages(app)
    expect(installed).toContain(NAME)
    expect(installed.filter((p) => FORBIDDEN.test(p))).toEqual([])
    expect(installed.filter((p) => !ALLOWED.includes(p))).toEqual([])
    const manifest = JSON.parse(await readFile(join(app, 'node_modules', NAME, 'package.json'), 'utf8')) as { files?: string[] }
    expect(manifest.files).toEqual(['dist'])
  })

  it('runs from plain Node (ESM): reads the head and commits a signed post', async () => {
    const source = `import { LiveClient, RpcClient, Signer, post, parseHex } from '${NAME}'
      const [url, secretHex] = process.argv.slice(2)
      ${useOfTheSdk('plain node').replace('parseHex(secretHex)!', 'parseHex(secretHex)')}
      console.log(JSON.stringify(result))`
    await writeFile(join(app, 'app.mjs'), source)
    const out = JSON.parse(await node$(['app.mjs', node.rpcUrl, devSecret], app))
    await expectCommittedPost(out, 'hello from plain node')
  })

  it('type-checks with `tsc --init` settings (types included, none of them any), then runs', async () => {
    const ts = join(app, 'ts')
    await mkdir(ts)
    await writeFile(join(ts, 'package.json'), JSON.stringify({ private: true, type: 'module' }))
    await node$([TSC, '--init'], ts)
    const source = `import { LiveClient, RpcClient, RpcClientError, Signer, post, parseHex, type Head, type SignedTxOut } from '${NAME}'
      const url = ${JSON.stringify(node.rpcUrl)}
      const secretHex = ${JSON.stringify(devSecret)}
      // the types are the SDK's, not any: each of these is an error (type-checked, never called)
      export function typeErrors (head: Head, tx: SignedTxOut): void {
        // @ts-expect-error a post's text is a string
        post(42)
        // @ts-expect-error a head's height is a number
        const height: string = head.height
        // @ts-expect-error a signed tx's id is a hex string
        const id: Uint8Array = tx.id
        void height, void id
      }
      try {
        ${useOfTheSdk('typescript')}
        const height: number = result.height ?? -1
        console.log(JSON.stringify({ ...result, height }))
      } catch (e) {
        if (e instanceof RpcClientError) console.log(e.typedCode)
        throw e
      }`
    await writeFile(join(ts, 'app.ts'), source)
    // module nodenext (what --init writes), then a bundler's resolution
    await node$([TSC, '-p', '.'], ts)
    await node$([TSC, '-p', '.', '--noEmit', '--module', 'preserve', '--moduleResolution', 'bundler'], ts)
    const out = JSON.parse(await node$(['app.js'], ts))
    await expectCommittedPost(out, 'hello from typescript')
  })

  it('bundles for the browser (no node: module) and runs where only page globals exist', async () => {
    const bundle = await build({
      stdin: {
        contents: `import { LiveClient, RpcClient, Signer, post, parseHex } from '${NAME}'
          globalThis.run = async (url, secretHex) => {
            ${useOfTheSdk('a browser').replace('parseHex(secretHex)!', 'parseHex(secretHex)')}
            return JSON.stringify(result)
          }`,
        resolveDir: app,
        loader: 'js'
      },
      bundle: true,
      platform: 'browser',
      format: 'iife',
      write: false,
      logLevel: 'silent'
    })
    const code = bundle.outputFiles[0]!.text
    expect(code).not.toMatch(/["']node:/)
    expect(code).not.toMatch(/\brequire\(/)
    // a bare context with what a page has: fetch, WebSocket, AbortSignal, TextEncoder, crypto (no process, Buffer or require)
    const page: Record<string, unknown> = { fetch, WebSocket, AbortSignal, TextEncoder, TextDecoder, crypto: globalThis.crypto, Uint8Array, DataView }
    runInNewContext(code, page)
    const out = JSON.parse(await (page.run as (url: string, secret: string) => Promise<string>)(node.rpcUrl, devSecret))
    await expectCommittedPost(out, 'hello from a browser')
  })
})
