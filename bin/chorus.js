#!/usr/bin/env node
// The `chorus` command: runs the TypeScript CLI through tsx's loader. Plain JavaScript any Node
// parses, so an older Node is told what it needs.
const NEEDS = 22 // package.json "engines": ">=22"
if (!(Number(process.versions.node.split('.')[0]) >= NEEDS)) {
  process.stderr.write('chorus needs Node.js ' + NEEDS + ' or newer; this is Node.js ' + process.versions.node + '\n')
  process.exit(1)
}
const { register } = await import('tsx/esm/api')
register()
await import('../src/cli/main.ts')
