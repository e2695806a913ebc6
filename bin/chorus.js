#!/usr/bin/env node
// The `chorus` command: runs the compiled CLI in dist/ (`npm run build`, which `npm ci` runs as `prepare`);
// nothing is compiled at run time. Plain JavaScript any Node parses, so an older Node is told what it needs.
import { existsSync } from 'node:fs'

const NEEDS = 22 // package.json "engines": ">=22"
if (!(Number(process.versions.node.split('.')[0]) >= NEEDS)) {
  process.stderr.write('chorus needs Node.js ' + NEEDS + ' or newer; this is Node.js ' + process.versions.node + '\n')
  process.exit(1)
}
const main = new URL('../dist/cli/main.js', import.meta.url)
if (!existsSync(main)) {
  process.stderr.write('chorus is not built (no ' + main.pathname + '): run `npm run build` (`npm ci` runs it)\n')
  process.exit(1)
}
import(main.href)
