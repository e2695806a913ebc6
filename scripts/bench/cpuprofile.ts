/**
 * Self time per function from a V8 .cpuprofile (what `node --cpu-prof` writes): JSON
 * with nodes [{id, callFrame {functionName, url, lineNumber}, hitCount, children}],
 * samples (node ids) and timeDeltas (µs between samples, the first from startTime).
 * A sample's time runs to the next sample, as DevTools counts it. `from`/`to` (µs, the
 * profile's clock: CLOCK_MONOTONIC on Linux, the same as process.hrtime) keep only the
 * samples in that window.
 *   npx tsx scripts/bench/cpuprofile.ts FILE [top]
 */
import { readFile } from 'node:fs/promises'
import { relative } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

interface ProfileNode { id: number, callFrame: { functionName: string, url: string, lineNumber: number }, hitCount?: number }
export interface CpuProfile { nodes: ProfileNode[], startTime: number, endTime: number, samples: number[], timeDeltas: number[] }

export interface SelfTime { name: string, where: string, ms: number, share: number }
export interface ProfileSummary {
  /** Time covered by the samples kept (ms). */
  totalMs: number
  /** The window actually covered, in the profile's clock (µs). */
  fromUs: number
  toUs: number
  functions: SelfTime[]
  /** Self time by file (a package for node_modules, "node:…" for Node's own). */
  files: SelfTime[]
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** "src/chain/tx-pool.ts", "node_modules/level", "node:internal/…", or "" for V8's own entries. */
function fileOf (url: string): string {
  if (url === '') return ''
  if (url.startsWith('node:')) return url
  const path = url.startsWith('file://') ? fileURLToPath(url) : url
  const nm = path.lastIndexOf('/node_modules/')
  if (nm >= 0) {
    const rest = path.slice(nm + '/node_modules/'.length).split('/')
    return `node_modules/${rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`
  }
  return path.startsWith(ROOT) ? relative(ROOT, path) : path
}

export function summarize (p: CpuProfile, window: { fromUs?: number, toUs?: number } = {}, top = 15): ProfileSummary {
  const byId = new Map(p.nodes.map((n) => [n.id, n]))
  const self = new Map<ProfileNode, number>()
  const from = window.fromUs ?? -Infinity
  const to = window.toUs ?? Infinity
  let t = p.startTime
  let first = Infinity
  let last = -Infinity
  let total = 0
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i] ?? 0
    const dur = p.timeDeltas[i + 1] ?? 0
    if (t < from || t > to) continue
    first = Math.min(first, t)
    last = Math.max(last, t)
    const node = byId.get(p.samples[i]!)
    if (node === undefined) continue
    self.set(node, (self.get(node) ?? 0) + dur)
    total += dur
  }
  const fns = new Map<string, SelfTime>()
  const files = new Map<string, SelfTime>()
  for (const [node, us] of self) {
    const cf = node.callFrame
    const file = fileOf(cf.url)
    const name = cf.functionName === '' ? (file === '' ? '(V8)' : '(anonymous)') : cf.functionName
    const where = file === '' ? '' : `${file}:${cf.lineNumber + 1}`
    const key = `${name} ${where}`
    const f = fns.get(key) ?? { name, where, ms: 0, share: 0 }
    f.ms += us / 1000
    fns.set(key, f)
    const fileKey = file === '' ? name : file
    const g = files.get(fileKey) ?? { name: fileKey, where: '', ms: 0, share: 0 }
    g.ms += us / 1000
    files.set(fileKey, g)
  }
  const rank = (m: Map<string, SelfTime>): SelfTime[] => [...m.values()]
    .map((x) => ({ ...x, share: total === 0 ? 0 : x.ms / (total / 1000) }))
    .sort((a, b) => b.ms - a.ms)
    .slice(0, top)
  return { totalMs: total / 1000, fromUs: first, toUs: last, functions: rank(fns), files: rank(files) }
}

/** A function to total: `fn` as V8 names it, in a file whose path contains `file` ("" for V8's own entries such as "(garbage collector)"). */
export interface Stage { label: string, fn: string, file: string }

/**
 * Inclusive time of each stage: the samples with the function anywhere on their stack
 * (once per sample, however deep it recurses), in the window. Stages overlap when one
 * calls another.
 */
export function inclusive (p: CpuProfile, stages: Stage[], window: { fromUs?: number, toUs?: number } = {}): Array<{ stage: Stage, ms: number, share: number }> {
  const parent = new Map<number, number>()
  for (const n of p.nodes as Array<ProfileNode & { children?: number[] }>) for (const c of n.children ?? []) parent.set(c, n.id)
  const byId = new Map(p.nodes.map((n) => [n.id, n]))
  const matches = (n: ProfileNode, st: Stage): boolean => n.callFrame.functionName === st.fn && (st.file === '' ? n.callFrame.url === '' : n.callFrame.url.includes(st.file))
  // per node: the stages on its stack, computed once
  const onStack = new Map<number, Set<number>>()
  const stagesOf = (id: number): Set<number> => {
    const known = onStack.get(id)
    if (known !== undefined) return known
    const up = parent.get(id)
    const set = new Set(up === undefined ? [] : stagesOf(up))
    const node = byId.get(id)!
    stages.forEach((st, i) => { if (matches(node, st)) set.add(i) })
    onStack.set(id, set)
    return set
  }
  const ms = stages.map(() => 0)
  const from = window.fromUs ?? -Infinity
  const to = window.toUs ?? Infinity
  let t = p.startTime
  let total = 0
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i] ?? 0
    if (t < from || t > to) continue
    const dur = (p.timeDeltas[i + 1] ?? 0) / 1000
    total += dur
    for (const k of stagesOf(p.samples[i]!)) ms[k]! += dur
  }
  return stages.map((stage, i) => ({ stage, ms: ms[i]!, share: total === 0 ? 0 : ms[i]! / total }))
}

export async function readProfile (file: string): Promise<CpuProfile> {
  return JSON.parse(await readFile(file, 'utf8')) as CpuProfile
}

export function printSummary (s: ProfileSummary, perTx?: number): void {
  const line = (x: SelfTime): string => {
    const us = perTx === undefined ? '' : `${(x.ms * 1000 / perTx).toFixed(1).padStart(7)} µs/tx  `
    return `  ${x.ms.toFixed(0).padStart(7)} ms ${(x.share * 100).toFixed(1).padStart(5)}%  ${us}${x.name}${x.where === '' ? '' : `  ${x.where}`}`
  }
  console.log(`self time, top functions (${(s.totalMs / 1000).toFixed(1)} s of samples):`)
  for (const f of s.functions) console.log(line(f))
  console.log('self time by file:')
  for (const f of s.files.slice(0, 10)) console.log(line(f))
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const file = process.argv[2]
  if (file === undefined) throw new Error('usage: cpuprofile.ts FILE [top]')
  printSummary(summarize(await readProfile(file), {}, Number(process.argv[3] ?? 15)))
}
