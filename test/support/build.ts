/**
 * Vitest global setup: `npm run build` (incremental: only changed files are written; then the web app) before any
 * test runs, so the tests that spawn bin/chorus.js run this tree's compiled CLI, as `npm ci` and the
 * Docker image build it. Type errors do not stop the tests (`npm run typecheck` and `npm ci` report
 * them); a build that emits nothing does.
 */
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export default function build (): void {
  const root = fileURLToPath(new URL('../..', import.meta.url))
  const tsc = fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url))
  const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, encoding: 'utf8' })
  // the web app (dist/web), which the node serves: about a second with esbuild
  const web = spawnSync(process.execPath, ['web/build.js'], { cwd: root, encoding: 'utf8' })
  if (web.status !== 0) throw new Error(`the web build failed (${web.status ?? web.signal ?? web.error?.message}):\n${web.stdout}${web.stderr}`)
  if (r.status === 0) return
  // tsc's exit status 2: diagnostics, and the output written all the same
  if (r.status === 2) {
    process.stderr.write(`dist/ was built with type errors (see npm run typecheck):\n${r.stdout}`)
    return
  }
  throw new Error(`npm run build failed (${r.status ?? r.signal ?? r.error?.message}):\n${r.stdout}${r.stderr}`)
}
