/**
 * Builds @chorus-social/client from the node's sources (src/client and what it imports; no copies):
 *
 *   dist/index.js   one ESM bundle (esbuild, platform neutral): src/client, src/crypto, src/codec and
 *                   src/protocol as the SDK uses them; @noble/* and @scure/base stay imports,
 *                   resolved from the app's node_modules
 *   dist/types/     the declarations (tsc, declarations only) of src/client/index.ts and the sources
 *                   it reaches, as a mirror of src/ with `./x.js` specifiers; entry types/client/index.d.ts
 *
 * Run by `npm run build` here, `npm pack` (prepack) and the root's `prepare`. Fails if the bundle
 * reaches anything but the allowed packages or a `node:` module.
 */
import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const here = fileURLToPath(new URL('.', import.meta.url))
const dist = join(here, 'dist')
/** Imports left to the app's resolver: the package's runtime dependencies. */
const EXTERNAL = ['@noble/curves', '@noble/hashes', '@scure/base']
/** Packages bundled into dist/index.js (none: the codec is the node's own). */
const BUNDLED = []

rmSync(dist, { recursive: true, force: true })

const js = await build({
  entryPoints: [join(here, '../../src/client/index.ts')],
  outfile: join(dist, 'index.js'),
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  // neutral: only the `import`/`default` export conditions, the browser-safe builds
  mainFields: ['module', 'main'],
  target: 'es2022',
  external: EXTERNAL.map((p) => `${p}/*`).concat(EXTERNAL),
  metafile: true,
  legalComments: 'inline',
  banner: { js: '// @chorus-social/client: built from the Chorus node\'s src/client (see docs/sdk.md).' },
  logLevel: 'warning'
})
for (const input of Object.keys(js.metafile.inputs)) {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1]
  if (input.startsWith('node:') || (pkg !== undefined && !BUNDLED.includes(pkg))) {
    throw new Error(`the SDK bundle reached ${input}: ${BUNDLED.length === 0 ? 'no package' : `only ${BUNDLED.join(', ')}`} may be bundled (others are dependencies)`)
  }
}
for (const output of Object.values(js.metafile.outputs)) {
  for (const imp of output.imports) {
    if (!EXTERNAL.some((p) => imp.path === p || imp.path.startsWith(`${p}/`))) throw new Error(`the SDK bundle imports ${imp.path}`)
  }
}

const tsc = join(createRequire(import.meta.url).resolve('typescript/package.json'), '../bin/tsc')
const r = spawnSync(process.execPath, [tsc, '-p', join(here, 'tsconfig.json')], { cwd: here, encoding: 'utf8' })
if (r.status !== 0) throw new Error(`declarations failed (tsc ${r.status ?? r.signal}):\n${r.stdout}${r.stderr}`)

// the sources import `./x.ts` (allowImportingTsExtensions); an app's TypeScript with default settings
// refuses that (TS5097), and `.js` resolves to the `.d.ts` beside it under node10, node16/nodenext and bundler
const specifier = /(\bfrom\s+|\bimport\s*\(\s*)(['"])(\.{1,2}\/[^'"]*?)\.ts\2/g
for (const entry of readdirSync(join(dist, 'types'), { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !entry.name.endsWith('.d.ts')) continue
  const file = join(entry.parentPath, entry.name)
  const text = readFileSync(file, 'utf8')
  const fixed = text.replace(specifier, (_m, lead, q, path) => `${lead}${q}${path}.js${q}`)
  if (fixed !== text) writeFileSync(file, fixed)
}
