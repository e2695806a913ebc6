/**
 * The layering of DESIGN §3, read from the import lines: pure modules import
 * no I/O, arrows point one way, and the client SDK reaches no `node:` module.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../../src')

function files (dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f)
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : []
  })
}

function imports (file: string): string[] {
  const text = readFileSync(file, 'utf8')
  return [...text.matchAll(/^(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/gm), ...text.matchAll(/^import\s+['"]([^'"]+)['"]/gm)].map((m) => m[1]!)
}

const layerOf = (file: string): string => {
  const rel = relative(SRC, file)
  return rel.includes('/') ? rel.split('/')[0]! : rel.replace(/\.ts$/, '')
}

/** What each layer may import from src/ (DESIGN §3: crypto/codec/protocol ← state ← chain ← consensus/sync ← p2p/rpc ← metrics ← node ← cli; api ← rpc and client). */
const BASE = ['util', 'crypto', 'codec', 'protocol']
const ALLOWED: Record<string, string[]> = {
  util: ['util'],
  crypto: ['util', 'crypto', 'protocol'],
  codec: BASE,
  protocol: BASE,
  state: [...BASE, 'state'],
  chain: [...BASE, 'state', 'chain'],
  // home timelines: an index kept from the chain's commits, and the feeds read from it
  feed: [...BASE, 'state', 'chain', 'feed', 'logger'],
  consensus: [...BASE, 'state', 'chain', 'consensus', 'logger'],
  sync: [...BASE, 'state', 'chain', 'consensus', 'sync', 'logger'],
  p2p: [...BASE, 'state', 'chain', 'consensus', 'sync', 'p2p', 'logger', 'version'],
  // the API's data shapes: what the node's RPC answers and the client SDK reads
  api: [...BASE, 'api'],
  // rpc reads peer info (a type) from p2p's seam; its OpenRPC examples are signed with the SDK
  rpc: [...BASE, 'state', 'chain', 'feed', 'consensus', 'sync', 'p2p', 'rpc', 'api', 'client', 'logger', 'version'],
  client: [...BASE, 'api', 'client'],
  // metrics observes the parts through their hooks; none of them imports it
  metrics: [...BASE, 'state', 'chain', 'consensus', 'sync', 'p2p', 'rpc', 'api', 'metrics', 'logger'],
  node: [...BASE, 'state', 'chain', 'feed', 'consensus', 'sync', 'p2p', 'rpc', 'api', 'metrics', 'logger', 'version'],
  cli: [...BASE, 'state', 'chain', 'consensus', 'sync', 'p2p', 'rpc', 'api', 'client', 'node', 'cli', 'logger', 'version', 'polyfill'],
  logger: [],
  version: [],
  polyfill: []
}

/** Pure modules: no level, no libp2p, no node:fs or node:net. */
const PURE = ['util/', 'codec/', 'protocol/', 'chain/validation/consensus.ts', 'chain/validation/gossip-error.ts', 'state/transition.ts', 'state/view.ts', 'feed/timeline-rows.ts', 'feed/fan-out.ts', 'feed/recent-posts.ts', 'feed/post-ids.ts', 'state/records.ts', 'state/root.ts', 'consensus/state-machine.ts', 'consensus/types.ts', 'chain/mempool.ts', 'crypto/signature-rule.ts']
const IO = [/^level$/, /^classic-level$/, /^abstract-level$/, /libp2p/, /^node:(fs|net|http|child_process)/]

describe('architecture', () => {
  const all = files(SRC)

  it('points every import arrow the way DESIGN §3 draws', () => {
    const wrong: string[] = []
    for (const f of all) {
      const from = layerOf(f)
      for (const spec of imports(f)) {
        if (!spec.startsWith('.')) continue
        const to = layerOf(resolve(dirname(f), spec))
        if (!(ALLOWED[from] ?? []).includes(to)) wrong.push(`${relative(SRC, f)} -> ${spec}`)
      }
    }
    expect(wrong).toEqual([])
  })

  it('keeps pure modules free of I/O', () => {
    const wrong: string[] = []
    for (const f of all) {
      const rel = relative(SRC, f)
      if (!PURE.some((p) => rel.startsWith(p))) continue
      for (const spec of imports(f)) if (IO.some((re) => re.test(spec))) wrong.push(`${rel} imports ${spec}`)
    }
    expect(wrong).toEqual([])
  })

  it('lets the client SDK reach no node: module, transitively', () => {
    const seen = new Set<string>()
    const bad: string[] = []
    const visit = (file: string) => {
      if (seen.has(file)) return
      seen.add(file)
      for (const spec of imports(file)) {
        if (spec.startsWith('node:')) bad.push(`${relative(SRC, file)} imports ${spec}`)
        if (spec.startsWith('.')) visit(resolve(dirname(file), spec))
      }
    }
    visit(join(SRC, 'client/index.ts'))
    expect(seen.size).toBeGreaterThan(5)
    expect(bad).toEqual([])
  })

})
