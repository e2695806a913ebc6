/**
 * Builds the web app (issue #9) from web/ into dist/web, where the node serves it (src/rpc/web.ts):
 *
 *   dist/web/index.html             web/index.html, naming the two assets below
 *   dist/web/assets/app-<hash>.js   web/src/main.tsx and what it imports (Preact, wouter-preact, the SDK from src/client), one ESM bundle
 *   dist/web/assets/app-<hash>.css  web/src/app.css
 *
 * Run by `npm run build` (so by `npm ci` and the test global setup). Fails if the bundle reaches a `node:` module.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const here = fileURLToPath(new URL('.', import.meta.url))
const target = join(here, '../dist/web')
// built beside the target, then swapped in: a node starting meanwhile (another test run) finds a whole app
const out = `${target}.${process.pid}.tmp`

rmSync(out, { recursive: true, force: true })
mkdirSync(join(out, 'assets'), { recursive: true })

const result = await build({
  entryPoints: { app: join(here, 'src/main.tsx') },
  outdir: join(out, 'assets'),
  entryNames: '[name]-[hash]',
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  minify: true,
  sourcemap: false,
  metafile: true,
  legalComments: 'eof',
  logLevel: 'warning'
})
for (const input of Object.keys(result.metafile.inputs)) {
  if (input.startsWith('node:')) throw new Error(`the web bundle reached ${input}`)
}
const outputs = Object.keys(result.metafile.outputs).map((p) => basename(p))
const js = outputs.find((n) => n.endsWith('.js'))
const css = outputs.find((n) => n.endsWith('.css'))
if (js === undefined || css === undefined) throw new Error(`the web build wrote ${outputs.join(', ')}: expected one .js and one .css`)
writeFileSync(join(out, 'index.html'), readFileSync(join(here, 'index.html'), 'utf8').replace('%JS%', js).replace('%CSS%', css))
const old = `${target}.${process.pid}.old`
if (existsSync(target)) renameSync(target, old)
renameSync(out, target)
rmSync(old, { recursive: true, force: true })
