/**
 * The web app (issue #9), served by the RPC server from the static files `npm run build` writes to
 * dist/web (web/build.js). Rules, for GET and HEAD:
 *
 *   /assets/<file>                   the file, with its content type, cached for a year (names carry a content hash); else 404
 *   any other path, Accept text/html the app's index.html (its router draws the page), never cached;
 *                                    a path whose last segment has a dot (/x.png) is a missing file: 404
 *   anything else                    not the app's: the RPC server answers as it always has (GET / is the OpenRPC document)
 *
 * Every answer carries a Content-Security-Policy that allows this origin only, so the page can make
 * no request elsewhere (no fonts, CDNs or analytics; a profile's avatar URL is shown, not loaded).
 * The files are read once, at start, into memory: a request names a key in a map, never a path on disk.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { extname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** dist/web, from src/rpc (tests) and dist/rpc (the built node) alike. */
export const DEFAULT_WEB_DIR = fileURLToPath(new URL('../../dist/web/', import.meta.url))

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8'
}

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'"
].join('; ')

const COMMON_HEADERS = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer'
}

export interface WebAnswer { status: number, headers: Record<string, string>, body: Buffer }

interface File { type: string, body: Buffer }

export class WebApp {
  private constructor (private readonly index: Buffer, private readonly assets: ReadonlyMap<string, File>) {}

  /** The app in `dir` (index.html and assets/), or null when it has not been built there (or is being rebuilt). */
  static load (dir: string): WebApp | null {
    try {
      const index = readFileSync(join(dir, 'index.html'))
      const assets = new Map<string, File>()
      const assetDir = join(dir, 'assets')
      for (const name of readdirSync(assetDir)) {
        const file = join(assetDir, name)
        if (!statSync(file).isFile()) continue
        assets.set(name, { type: TYPES[extname(name)] ?? 'application/octet-stream', body: readFileSync(file) })
      }
      return new WebApp(index, assets)
    } catch {
      return null
    }
  }

  /** The answer to a GET or HEAD of `url`, or null when it is not the app's to answer (the RPC's). */
  answer (url: string, accept: string | undefined): WebAnswer | null {
    const path = url.split('?')[0]!.split('#')[0]!
    if (path.startsWith('/assets/')) {
      const file = this.assets.get(path.slice('/assets/'.length))
      if (file === undefined) return notFound()
      return { status: 200, headers: { ...COMMON_HEADERS, 'content-type': file.type, 'cache-control': 'public, max-age=31536000, immutable' }, body: file.body }
    }
    if (!wantsHtml(accept) || path === '/openrpc.json' || path === '/health' || path === '/ws') return null
    if (path.slice(path.lastIndexOf('/') + 1).includes('.')) return notFound()
    return { status: 200, headers: { ...COMMON_HEADERS, 'content-type': TYPES['.html']!, 'cache-control': 'no-cache' }, body: this.index }
  }
}

/** A browser navigating (Accept: text/html, …), not a JSON client or curl's default. */
export function wantsHtml (accept: string | undefined): boolean {
  return accept !== undefined && /(^|,)\s*text\/html\s*(;|,|$)/i.test(accept)
}

function notFound (): WebAnswer {
  return { status: 404, headers: { ...COMMON_HEADERS, 'content-type': TYPES['.txt']!, 'cache-control': 'no-cache' }, body: Buffer.from('not found\n') }
}
