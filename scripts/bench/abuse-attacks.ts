/**
 * The attacks of issue #7 as the abuse bench (scripts/bench/abuse.ts) replays them, each
 * from the attacker's own loopback address (127.0.0.2; the bench's probe and the legit
 * writer use 127.0.0.1 and 127.0.0.3, so a per-IP limit can tell them apart). Every wait
 * an attacker makes is bounded, so an attack always stops when its window ends, however
 * the node behaves. Sizes are multiplied by `scale` (connection and call counts).
 */
import { execFile } from 'node:child_process'
import { type Socket, connect } from 'node:net'
import * as b from '../../src/client/transactions.ts'
import { type HeadSeen, Tally, errorKey, ownAgent, postRpc, quantile, sleep, tallyPost } from './abuse-measure.ts'
import type { ChainInfo, History, Sender, SignedOut } from './abuse-setup.ts'
import { RawWs } from './abuse-ws.ts'

export interface AttackEnv {
  port: number
  attackerIp: string
  scale: number
  chain: ChainInfo
  history: History
}

/** Legit load through both windows (attack 4's writer); `mark()` reports since the last mark. */
export interface Load { mark: () => string, stop: () => Promise<void> }

/** A legit observer for one window (attack 4's newHeads subscriber). */
export interface Observer { stop: (blocks: HeadSeen[], start: number, end: number) => Promise<string> }

export interface Attack {
  id: number
  name: string
  /** Start the node under this soft fd limit (`ulimit -n`). */
  fdLimit?: number
  load?: (env: AttackEnv) => Promise<Load>
  /** Started at the baseline window's start, and once the attack is in place. */
  observer?: (env: AttackEnv) => Promise<Observer>
  /** Runs until `signal` aborts (calls `ready` once in place); resolves with its notes. */
  run: (env: AttackEnv, signal: AbortSignal, ready: () => void) => Promise<string[]>
}

const n = (x: number): string => x.toLocaleString('en-US', { maximumFractionDigits: 0 })
const mb = (bytes: number): string => bytes < 1e6 ? `${n(bytes / 1e3)} kB` : `${(bytes / 1e6).toLocaleString('en-US', { maximumFractionDigits: bytes < 1e7 ? 1 : 0 })} MB`
const abortPromises = new WeakMap<AbortSignal, Promise<void>>()
/** Resolves when `signal` aborts (one listener per signal, however often it is awaited). */
function aborted (signal: AbortSignal): Promise<void> {
  let p = abortPromises.get(signal)
  if (p === undefined) {
    p = new Promise((resolve) => signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true }))
    abortPromises.set(signal, p)
  }
  return p
}
const req = (id: number, method: string, params: unknown[]): string => JSON.stringify({ jsonrpc: '2.0', id, method, params })
const batchOf = (count: number, method: string, params: unknown[]): string => `[${Array.from({ length: count }, (_, i) => req(i, method, params)).join(',')}]`

/** Counts a WebSocket reply (a small payload): `ok`, or its error's code. */
function tallyWsReply (tally: Tally, payload: Buffer | null): void {
  if (payload === null || payload.indexOf('"error"') < 0) { tally.add('ok'); return }
  try { tally.add(errorKey((JSON.parse(payload.toString()) as { error: { code?: number, data?: { code?: string } } }).error)) } catch { tally.add('bad reply') }
}

async function wsConnect (env: AttackEnv, tally: Tally, onMessage?: (payload: Buffer | null, length: number) => void, collectBytes?: number, localAddress = env.attackerIp): Promise<RawWs | null> {
  try {
    return await RawWs.connect({ host: '127.0.0.1', port: env.port, localAddress, timeoutMs: 5000, onMessage, collectBytes })
  } catch (e) {
    tally.add(`ws ${(e as Error).message}`)
    return null
  }
}

// ---------------------------------------------------------------- 1. amplification

const amplification: Attack = {
  id: 1,
  name: 'amplification: tx_get',
  run: async (env, signal, ready) => {
    const perRound = Math.max(1, Math.round(1000 * env.scale))
    const httpClients = Math.max(1, Math.round(2 * env.scale))
    const txId = env.history.big.txId
    const ws = new Tally()
    const http = new Tally()
    let wsRounds = 0
    let httpBatches = 0
    ready()
    const wsLoop = async (): Promise<void> => {
      while (!signal.aborted) {
        let answered = 0
        let wake: () => void = () => {}
        const sock = await wsConnect(env, ws, (payload) => { answered++; tallyWsReply(ws, payload); if (answered >= perRound) wake() }, 1 << 20)
        if (sock === null) { await sleep(200); continue }
        while (!signal.aborted && sock.isOpen) {
          answered = 0
          const all = new Promise<void>((resolve) => { wake = resolve })
          for (let i = 0; i < perRound; i++) sock.send(req(i, 'tx_get', [txId]))
          await Promise.race([all, sock.closed, sleep(20_000), aborted(signal)])
          if (answered >= perRound) wsRounds++
          else ws.add(signal.aborted ? 'unanswered when the window ended' : sock.isOpen ? 'unanswered in 20 s' : 'closed by node', perRound - answered)
        }
        sock.destroy()
      }
    }
    const httpLoop = async (): Promise<void> => {
      const agent = ownAgent(1)
      const body = batchOf(100, 'tx_get', [txId])
      while (!signal.aborted) {
        const r = await postRpc('127.0.0.1', env.port, body, { agent, localAddress: env.attackerIp, timeoutMs: 20_000, signal })
        tallyPost(http, r, 100)
        if (r.failure === undefined) httpBatches++
        else if (!signal.aborted) await sleep(50)
      }
      agent.destroy()
    }
    await Promise.all([wsLoop(), ...Array.from({ length: httpClients }, httpLoop)])
    return [
      `WS ${n(perRound)} tx_get at once: ${wsRounds} rounds answered in full; replies ${ws.text()}`,
      `HTTP ${httpClients} clients × batches of 100: ${n(httpBatches)} batches answered; ${http.text()}`
    ]
  }
}

// ---------------------------------------------------------------- 2. huge responses

const hugeResponses: Attack = {
  id: 2,
  name: 'huge responses: full 2 MiB block ×100',
  run: async (env, signal, ready) => {
    const clients = Math.max(1, Math.round(8 * env.scale))
    const body = batchOf(100, 'chain_getBlock', [env.history.big.height, { full: true }])
    const tally = new Tally()
    let answered = 0
    let bytes = 0
    let maxBytes = 0
    ready()
    await Promise.all(Array.from({ length: clients }, async () => {
      const agent = ownAgent(1)
      while (!signal.aborted) {
        const r = await postRpc('127.0.0.1', env.port, body, { agent, localAddress: env.attackerIp, timeoutMs: 30_000, parseBytes: 1 << 20, scan: tally, signal })
        bytes += r.bytes
        maxBytes = Math.max(maxBytes, r.bytes)
        tallyPost(tally, r, 100)
        if (r.failure === undefined) answered++
        else if (!signal.aborted) await sleep(50)
      }
      agent.destroy()
    }))
    return [`${clients} clients × batches of 100 chain_getBlock(${env.history.big.height}, {full}): ${answered} batches answered, ${mb(bytes)} received (largest response ${mb(maxBytes)}, a cut-off one counted as far as it came); replies ${tally.text()}`]
  }
}

// ---------------------------------------------------------------- 3. file descriptors

const fileDescriptors: Attack = {
  id: 3,
  name: 'file descriptors: idle TCP',
  fdLimit: 1024,
  run: async (env, signal, ready) => {
    const count = Math.max(1, Math.round(1100 * env.scale))
    const sockets: Socket[] = []
    const outcome = new Tally()
    let open = 0
    let closedByNode = 0
    const t0 = Date.now()
    for (let i = 0; i < count && !signal.aborted; i += 50) {
      await Promise.all(Array.from({ length: Math.min(50, count - i) }, async () => await new Promise<void>((resolve) => {
        const s = connect({ host: '127.0.0.1', port: env.port, localAddress: env.attackerIp })
        sockets.push(s)
        let connected = false
        let settled = false
        const settle = (what: string): void => { if (settled) return; settled = true; clearTimeout(timer); outcome.add(what); resolve() }
        const timer = setTimeout(() => { settle('connect timeout'); s.destroy() }, 5000)
        s.once('connect', () => { connected = true; open++; settle('connected') })
        s.resume() // read (and drop) whatever comes, so a close by the node is seen
        s.on('error', (e: NodeJS.ErrnoException) => settle(e.code ?? e.message))
        s.once('close', () => { if (connected && !signal.aborted) { closedByNode++; open-- } })
      })))
    }
    const openedMs = Date.now() - t0
    ready()
    await aborted(signal)
    const stillOpen = open
    for (const s of sockets) s.destroy()
    return [`${n(count)} idle connections attempted in ${n(openedMs)} ms: ${outcome.text()}; ${n(closedByNode)} closed by the node during the window, ${n(stillOpen)} open at its end`]
  }
}

// ---------------------------------------------------------------- 4. subscriptions

const WRITER_RATE = 100

const subscriptions: Attack = {
  id: 4,
  name: 'subscriptions: 200 WS × 100',
  load: async (env) => {
    // ~100 posts/s from the writers (whom the followedBy accounts follow), from 127.0.0.3, in both windows
    const agent = ownAgent(1)
    const writers = env.history.writers
    for (const w of writers) await w.syncNonce(env.port, env.chain, agent)
    const resync = new Set<Sender>()
    let tally = new Tally()
    let running = true
    let k = 0
    const loop = (async () => {
      let next = Date.now()
      while (running) {
        for (const w of resync) { try { await w.syncNonce(env.port, env.chain, agent); resync.delete(w) } catch { /* next time */ } }
        const txs: Array<SignedOut & { w: Sender }> = []
        for (let i = 0; i < WRITER_RATE / 10; i++) {
          const w = writers[k++ % writers.length]!
          if (!resync.has(w)) txs.push({ w, ...w.sign(env.chain, b.post(`live post ${k}: what the followers' feeds are waiting for`)) })
        }
        const r = await postRpc('127.0.0.1', env.port, `[${txs.map((t, i) => req(i, 'tx_submit', [t.hex])).join(',')}]`, { agent, localAddress: '127.0.0.3', timeoutMs: 5000 })
        tallyPost(tally, r, txs.length)
        const replies = Array.isArray(r.json) ? r.json as Array<{ id: number, error?: { data?: { code?: string } } }> : null
        txs.forEach((t, i) => { const e = replies?.find((x) => x.id === i)?.error; if (replies === null || (e !== undefined && e.data?.code !== 'ALREADY_KNOWN')) resync.add(t.w) })
        next += 100
        const wait = next - Date.now()
        if (wait > 0) await sleep(wait)
        else { tally.add('behind schedule'); next = Date.now() }
      }
    })()
    return {
      mark: () => { const t = tally; tally = new Tally(); return `writer (${WRITER_RATE} posts/s): ${t.text()}` },
      stop: async () => { running = false; await loop; agent.destroy() }
    }
  },
  observer: async (env) => {
    // a plain newHeads subscriber from 127.0.0.1: receive time minus the block's header time
    const got = new Map<number, number>()
    const errors = new Tally()
    const since = Date.now()
    let subscribedMs = NaN
    const ws = await wsConnect(env, errors, (payload) => {
      const at = Date.now()
      if (payload === null) return
      try {
        const m = JSON.parse(payload.toString()) as { id?: number, error?: { code?: number, data?: { code?: string } }, method?: string, params?: { result?: { height?: number } } }
        if (m.method === 'subscription' && typeof m.params?.result?.height === 'number') got.set(m.params.result.height, at)
        else if (m.id === 1) { subscribedMs = at - since; if (m.error !== undefined) errors.add(errorKey(m.error)) }
      } catch { /* not ours */ }
    }, 1 << 16, '127.0.0.1')
    ws?.send(req(1, 'subscribe', ['newHeads', {}]))
    return {
      stop: async (blocks, start, end) => {
        // stopped a little after the window (once the blocks are read): a head of the window that came late still counts as it came
        const stoppedAt = Date.now()
        ws?.destroy()
        if (ws === null) return `newHeads subscriber could not connect: ${errors.text()}`
        const lags: number[] = []
        let late = 0
        for (const blk of blocks) {
          if (blk.timeMs < Math.max(start, since) || blk.timeMs > end) continue
          const at = got.get(blk.height)
          if (at === undefined) { late++; lags.push(stoppedAt - blk.timeMs) } else lags.push(at - blk.timeMs)
        }
        lags.sort((x, y) => x - y)
        const lb = late > 0 ? '≥' : ''
        const delivered = [...got].filter(([, at]) => at <= end).map(([h]) => h)
        const chainAtEnd = blocks.filter((x) => x.timeMs <= end).at(-1)?.height
        return `newHeads lag p99 ${lb}${n(quantile(lags, 0.99))} ms, max ${lb}${n(lags.at(-1) ?? NaN)} ms over ${lags.length} blocks` +
          (late > 0 ? ` (${late} not delivered ${n(stoppedAt - end)} ms after the window, counted to then; subscribed in ${Number.isNaN(subscribedMs) ? '(no reply)' : `${n(subscribedMs)} ms`}, last head delivered ${delivered.length === 0 ? 'none' : Math.max(...delivered)}, chain at ${chainAtEnd ?? '?'})` : '') +
          (errors.counts.size > 0 ? `; subscriber errors ${errors.text()}` : '')
      }
    }
  },
  run: async (env, signal, ready) => {
    const conns = Math.max(1, Math.round(200 * env.scale))
    const perConn = 100
    const followers = env.history.followers.map((f) => f.address(env.chain))
    const subs = new Tally()
    const connectErrors = new Tally()
    const notices = new Tally()
    const sockets: RawWs[] = []
    let events = 0
    let eventBytes = 0
    const t0 = Date.now()
    const cpu0 = process.cpuUsage()
    let next = 0
    const one = async (c: number): Promise<void> => {
      let replies = 0
      let wake: () => void = () => {}
      const ws = await wsConnect(env, connectErrors, (payload, length) => {
        const head = payload?.subarray(0, 64)
        if (head === undefined || head.indexOf('"method":"subscription"') >= 0) { events++; eventBytes += length; return }
        if (head.indexOf('"method":') >= 0) { // another notice (e.g. a subscription dropped)
          try { notices.add(String((JSON.parse(payload!.toString()) as { method?: unknown }).method)) } catch { notices.add('bad notice') }
          return
        }
        replies++
        tallyWsReply(subs, payload)
        if (replies >= perConn) wake()
      }, 2048)
      if (ws === null) return
      sockets.push(ws)
      const done = new Promise<void>((resolve) => { wake = resolve })
      for (let k = 0; k < perConn; k++) {
        const [topic, filter] = k < perConn / 2 ? ['posts', { followedBy: followers[(c * perConn + k) % followers.length] }] : k < perConn * 3 / 4 ? ['newHeads', {}] : ['posts', {}]
        ws.send(req(k, 'subscribe', [topic, filter]))
      }
      await Promise.race([done, ws.closed, sleep(20_000), aborted(signal)])
      if (replies < perConn && !signal.aborted) subs.add(ws.isOpen ? 'unanswered in 20 s' : 'closed by node', perConn - replies)
    }
    // 20 connections subscribing at a time
    await Promise.all(Array.from({ length: Math.min(20, conns) }, async () => { while (!signal.aborted && next < conns) await one(next++) }))
    const setupMs = Date.now() - t0
    ready()
    await aborted(signal)
    const cpu = process.cpuUsage(cpu0)
    const openAtEnd = sockets.filter((s) => s.isOpen).length
    for (const s of sockets) s.destroy()
    const secs = (Date.now() - t0) / 1000
    return [
      `${conns} connections × ${perConn} subscriptions (½ posts{followedBy}, ¼ newHeads, ¼ posts{}) set up in ${n(setupMs)} ms: ${connectErrors.counts.size > 0 ? `connect ${connectErrors.text()}; ` : ''}subscribe ${subs.text()}; ${openAtEnd} connections open at the end`,
      `events received: ${n(events)} (${mb(eventBytes)}, ${n(events / secs)}/s)${notices.counts.size > 0 ? `; other notices ${notices.text()}` : ''}; bench CPU for the subscribers ${((cpu.user + cpu.system) / 1e6 / secs).toFixed(2)} cores`
    ]
  }
}

// ---------------------------------------------------------------- 5. slow readers

/**
 * Local ports of this machine's TCP sockets to `port` that the other end has closed
 * (CLOSE-WAIT): a client that does not read never sees the node's FIN itself. Null without `ss`.
 */
async function closedByPeer (port: number): Promise<Set<number> | null> {
  return await new Promise((resolve) => {
    execFile('ss', ['-tnH', 'state', 'close-wait', `( dport = :${port} )`], { timeout: 5000, maxBuffer: 16 << 20 }, (err, stdout) => {
      if (err !== null) { resolve(null); return }
      const ports = new Set<number>()
      for (const line of stdout.split('\n')) {
        const local = line.trim().split(/\s+/)[2]
        if (local !== undefined) ports.add(Number(local.slice(local.lastIndexOf(':') + 1)))
      }
      resolve(ports)
    })
  })
}

const slowReaders: Attack = {
  id: 5,
  name: 'slow readers: 50 WS never read',
  run: async (env, signal, ready) => {
    const clients = Math.max(1, Math.round(50 * env.scale))
    const call = req(1, 'chain_getBlock', [env.history.big.height, { full: true }])
    const errors = new Tally()
    const live = new Set<RawWs>()
    let connections = 0
    let closedByNode = 0
    let sent = 0
    let ssMissing = false
    ready()
    // every second: drop our end of the connections the node has closed, so the client reconnects
    const watcher = (async () => {
      while (!signal.aborted) {
        await Promise.race([sleep(1000), aborted(signal)])
        const closed = signal.aborted ? null : await closedByPeer(env.port)
        if (closed === null) { ssMissing = !signal.aborted; continue }
        for (const ws of live) if (ws.localPort !== undefined && closed.has(ws.localPort)) ws.destroy()
      }
    })()
    await Promise.all(Array.from({ length: clients }, async () => {
      while (!signal.aborted) {
        const ws = await wsConnect(env, errors)
        if (ws === null) { await sleep(200); continue }
        connections++
        live.add(ws)
        ws.pause()
        for (let i = 0; i < 20; i++) if (ws.send(call)) sent++
        while (!signal.aborted && ws.isOpen) {
          await Promise.race([sleep(200), ws.closed, aborted(signal)])
          if (ws.isOpen && !signal.aborted && ws.send(call)) sent++
        }
        live.delete(ws)
        if (!signal.aborted) { closedByNode++; await sleep(200) }
        ws.destroy()
      }
    }))
    await watcher
    return [`${clients} clients, each a burst of 20 chain_getBlock(${env.history.big.height}, {full}) then one every 200 ms (while its socket takes writes), never reading, reconnecting when dropped: ` +
      `${n(connections)} connections, ${n(closedByNode)} closed by the node${ssMissing ? ' (`ss` not found: closes seen only on a write error)' : ''}, ${n(sent)} calls written${errors.counts.size > 0 ? `; connect ${errors.text()}` : ''}`]
  }
}

// ---------------------------------------------------------------- 6. deep nesting

/** A signed-tx hex of `bytes` bytes that is `bytes - 1` nested one-item arrays around a nil. */
function nestedBare (bytes: number): string {
  return '91'.repeat(bytes - 1) + 'c0'
}

/** A well-formed envelope [bin(unsigned), bin(64)] whose unsigned bytes are nested arrays; `bytes` in all. */
function nestedEnvelope (bytes: number): string {
  const inner = bytes - 1 - 3 - 66
  const len = inner.toString(16).padStart(4, '0')
  return '92' + 'c5' + len + '91'.repeat(inner - 1) + 'c0' + 'c440' + '00'.repeat(64)
}

const deepNesting: Attack = {
  id: 6,
  name: 'deep nesting: tx_submit',
  run: async (env, signal, ready) => {
    const lanes = Math.max(1, Math.round(4 * env.scale))
    const SIZE = 8000
    const payloads = [nestedBare(SIZE), nestedEnvelope(SIZE)]
    const bodies = payloads.map((hex) => batchOf(50, 'tx_submit', [hex]))
    const tally = new Tally()
    let calls = 0
    ready()
    await Promise.all(Array.from({ length: lanes }, async (_, lane) => {
      const agent = ownAgent(1)
      for (let i = lane; !signal.aborted; i++) {
        const r = await postRpc('127.0.0.1', env.port, bodies[i % bodies.length]!, { agent, localAddress: env.attackerIp, timeoutMs: 20_000, signal })
        tallyPost(tally, r, 50)
        if (r.failure === undefined) calls += 50
        else if (!signal.aborted) await sleep(50)
      }
      agent.destroy()
    }))
    return [`${lanes} lanes × batches of 50 tx_submit of ${n(SIZE)}-byte txs nesting ~${n(SIZE - 70)} arrays (bare, and inside a well-formed envelope): ${n(calls)} calls answered; ${tally.text()}`]
  }
}

export const ATTACKS: Attack[] = [amplification, hugeResponses, fileDescriptors, subscriptions, slowReaders, deepNesting]
