import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseGenesis } from '../../../src/chain/genesis.ts'
import { parseConfig, resolveStart } from '../../../src/cli/config.ts'
import { encodeAddress } from '../../../src/crypto/address.ts'
import { generateSecretKey, publicKeyOf } from '../../../src/crypto/keys.ts'
import { silentLogger } from '../../../src/logger.ts'
import { ChorusNode } from '../../../src/node.ts'
import { CONTENT_SECURITY_POLICY, DEFAULT_WEB_DIR, WebApp, wantsHtml } from '../../../src/rpc/web.ts'

const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'

let dir: string
let webDir: string
const nodes: ChorusNode[] = []

async function startNode (web: string | null): Promise<string> {
  const validator = publicKeyOf(generateSecretKey())
  const genesis = parseGenesis({ chainId: 'web-test', genesisTimeMs: Date.now(), accounts: [], validators: [{ address: encodeAddress(validator), power: '10' }] })
  const node = await ChorusNode.start({ dataDir: join(dir, `data-${nodes.length}`), genesis, validator: null, rpc: { host: '127.0.0.1', port: 0, webDir: web }, p2p: null }, { logger: silentLogger })
  nodes.push(node)
  return `http://127.0.0.1:${node.rpcPort}`
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chorus-web-'))
  webDir = join(dir, 'web')
  await mkdir(join(webDir, 'assets'), { recursive: true })
  await writeFile(join(webDir, 'index.html'), '<!doctype html><title>app</title>')
  await writeFile(join(webDir, 'assets', 'app-ABC.js'), 'console.log(1)')
  await writeFile(join(webDir, 'assets', 'app-ABC.css'), 'body{}')
})
afterAll(async () => {
  for (const n of nodes) await n.stop()
  await rm(dir, { recursive: true, force: true })
})

describe('the web app\'s serving rules', () => {
  it('knows a browser\'s navigation from a JSON client', () => {
    expect(wantsHtml(BROWSER_ACCEPT)).toBe(true)
    expect(wantsHtml('text/html')).toBe(true)
    expect(wantsHtml(undefined)).toBe(false)
    expect(wantsHtml('*/*')).toBe(false)
    expect(wantsHtml('application/json')).toBe(false)
    expect(wantsHtml('text/htmlx')).toBe(false)
  })

  it('serves index.html to browsers at / and the app\'s routes, and the OpenRPC document to JSON clients', async () => {
    const url = await startNode(webDir)
    for (const path of ['/', '/block/3', '/profile/@alice', '/tx/' + 'ab'.repeat(32) + '?x=1']) {
      const res = await fetch(url + path, { headers: { accept: BROWSER_ACCEPT } })
      expect(res.status, path).toBe(200)
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8')
      expect(res.headers.get('cache-control')).toBe('no-cache')
      expect(res.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY)
      expect(await res.text()).toContain('<title>app</title>')
    }
    for (const accept of [undefined, 'application/json', '*/*']) {
      const res = await fetch(url + '/', { headers: accept === undefined ? {} : { accept } })
      expect(res.headers.get('content-type')).toBe('application/json')
      expect(((await res.json()) as { openrpc: string }).openrpc).toBe('1.2.6')
    }
    // these stay the RPC's for a browser too
    const doc = await fetch(url + '/openrpc.json', { headers: { accept: BROWSER_ACCEPT } })
    expect(doc.headers.get('content-type')).toBe('application/json')
    expect((await fetch(url + '/health', { headers: { accept: BROWSER_ACCEPT } })).headers.get('content-type')).toBe('application/json')
    const call = await fetch(url + '/', { method: 'POST', headers: { 'content-type': 'application/json', accept: BROWSER_ACCEPT }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'chain_getHead' }) })
    expect(((await call.json()) as { result: { height: number } }).result.height).toBe(0)
  })

  it('serves assets with their types and a year\'s cache, and 404s what is not there', async () => {
    const url = await startNode(webDir)
    const js = await fetch(url + '/assets/app-ABC.js')
    expect(js.status).toBe(200)
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable')
    expect(js.headers.get('x-content-type-options')).toBe('nosniff')
    expect(await js.text()).toBe('console.log(1)')
    expect((await fetch(url + '/assets/app-ABC.css')).headers.get('content-type')).toBe('text/css; charset=utf-8')
    const head = await fetch(url + '/assets/app-ABC.js', { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(head.headers.get('content-length')).toBe('14')
    for (const path of ['/assets/nope.js', '/assets/', '/assets/%2e%2e%2findex.html', '/assets/..%2findex.html']) {
      expect((await fetch(url + path)).status, path).toBe(404)
    }
    expect((await fetch(url + '/favicon.ico', { headers: { accept: BROWSER_ACCEPT } })).status).toBe(404)
  })

  it('is off without a web directory (--no-web): GET / is the OpenRPC document for browsers too', async () => {
    const url = await startNode(null)
    const res = await fetch(url + '/', { headers: { accept: BROWSER_ACCEPT } })
    expect(res.headers.get('content-type')).toBe('application/json')
    expect((await fetch(url + '/assets/app-ABC.js')).status).toBe(405)
    // a directory with no build in it: the same, with a warning
    expect(WebApp.load(join(dir, 'nothing'))).toBeNull()
  })

  it('is on by default from the CLI, off with --no-web or "web": false in config.json', () => {
    const home = join(dir, 'home')
    expect(resolveStart(home, null, { web: true }).rpc.webDir).toBe(DEFAULT_WEB_DIR)
    expect(resolveStart(home, null, {}).rpc.webDir).toBe(DEFAULT_WEB_DIR)
    expect(resolveStart(home, null, { web: false }).rpc.webDir).toBeUndefined()
    expect(resolveStart(home, parseConfig({ web: false }, 'config.json'), { web: true }).rpc.webDir).toBeUndefined()
    expect(resolveStart(home, parseConfig({ web: true }, 'config.json'), { web: false }).rpc.webDir).toBeUndefined()
    expect(() => parseConfig({ web: 'yes' }, 'config.json')).toThrow('config.json: web must be true or false')
  })
})
