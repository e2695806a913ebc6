/**
 * The consensus driver against failing storage (issue #7, item 3): a sign store
 * or a WAL that fails with EMFILE for a while is retried until it works, and
 * nothing leaves the node unsaved meanwhile; one that never recovers, or fails in
 * a way that does not pass, stops the node with one ERROR line — never a silent
 * stall. Real LevelDB and real files in temp dirs; failures injected at the
 * module seams (NodeModules.signStore / wal) and, for the file WAL's own repair,
 * at node:fs/promises.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { type Genesis, parseGenesis } from '../../src/chain/genesis.ts'
import { type ConsensusMessage, DEFAULT_TIMEOUTS, isTransientIoError } from '../../src/consensus/driver.ts'
import { type SignRecord, type SignStore, fileSignStore } from '../../src/consensus/sign-state.ts'
import { type Wal, type WalRecord, fileWal } from '../../src/consensus/wal.ts'
import { encodeAddress } from '../../src/crypto/address.ts'
import { equalBytes, toHex } from '../../src/crypto/bytes.ts'
import { generateSecretKey, publicKeyOf } from '../../src/crypto/keys.ts'
import { createLogger } from '../../src/logger.ts'
import { ChorusNode, type NodeModules } from '../../src/node.ts'
import { waitFor } from '../support/wait.ts'

/** Faults for fileWal's own files: a write that stops halfway with ENOSPC, an fsync that fails with EIO. */
const fsFaults = vi.hoisted(() => ({ path: '', tornWrites: 0, failedSyncs: 0 }))
vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs/promises')>()
  const errno = (code: string) => Object.assign(new Error(`${code}: injected`), { code })
  const open = async (...args: Parameters<typeof fs.open>) => {
    const fh = await fs.open(...args)
    if (fsFaults.path === '' || String(args[0]) !== fsFaults.path) return fh
    return new Proxy(fh, {
      get (target, prop) {
        if (prop === 'writeFile') {
          return async (data: Uint8Array) => {
            if (fsFaults.tornWrites > 0) {
              fsFaults.tornWrites--
              await target.write(data.subarray(0, data.length >> 1))
              throw errno('ENOSPC')
            }
            return await target.writeFile(data)
          }
        }
        if (prop === 'sync') {
          return async () => {
            if (fsFaults.failedSyncs > 0) { fsFaults.failedSyncs--; throw errno('EIO') }
            return await target.sync()
          }
        }
        const v = Reflect.get(target, prop) as unknown
        return typeof v === 'function' ? v.bind(target) : v
      }
    })
  }
  return { ...fs, default: { ...fs, open }, open }
})

const emfile = (path: string) => Object.assign(new Error(`EMFILE: too many open files, open '${path}'`), { code: 'EMFILE', errno: -24, syscall: 'open', path })

interface LogLine { level: string, module: string, msg: string, [k: string]: unknown }

let dir: string
let node: ChorusNode | undefined
beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'chorus-io-faults-')) })
afterEach(async () => {
  await node?.stop()
  node = undefined
  await rm(dir, { recursive: true, force: true })
})

interface Harness {
  node: ChorusNode
  logs: LogLine[]
  /** Our own messages sent with a signature the sign store had not saved, or before the WAL was synced. */
  violations: string[]
  fatal: Promise<Error>
}

/**
 * A one-validator node on real LevelDB. Every message it sends is checked as it leaves: its
 * signature must be in a record the sign store saved, and (the first time) the WAL must have
 * been synced since its last append.
 */
async function startValidator (opts: { signStore?: SignStore & { saved: Set<string> }, wal?: FaultyWal, persistMs?: number, rpc?: boolean, beforeSend?: NodeModules['beforeSend'] }): Promise<Harness> {
  const secretKey = generateSecretKey()
  const self = publicKeyOf(secretKey)
  const genesis: Genesis = parseGenesis({
    chainId: 'chorus-io-faults', genesisTimeMs: Date.now() - 1_000, params: { blockTimeMs: 100 },
    accounts: [], validators: [{ address: encodeAddress(self), power: '1' }]
  })
  const logs: LogLine[] = []
  const violations: string[] = []
  const sent = new Set<string>()
  let fatal!: (e: Error) => void
  const fatalP = new Promise<Error>((resolve) => { fatal = resolve })
  const n = await ChorusNode.start({
    dataDir: join(dir, 'data'), genesis, p2p: null,
    rpc: opts.rpc === true ? { host: '127.0.0.1', port: 0 } : null,
    validator: { secretKey, signStatePath: join(dir, 'sign-state.json'), walPath: join(dir, 'consensus.wal') },
    timeouts: { ...DEFAULT_TIMEOUTS, persist: opts.persistMs ?? 10_000 }
  }, {
    logger: createLogger({ level: 'info', json: true, write: (l) => logs.push(JSON.parse(l) as LogLine) }),
    ...(opts.signStore === undefined ? {} : { signStore: opts.signStore }),
    ...(opts.wal === undefined ? {} : { wal: opts.wal }),
    onFatal: fatal,
    beforeSend: (msg: ConsensusMessage) => {
      const ours = msg.type === 'proposal' ? equalBytes(msg.proposal.proposal.proposer, self) : equalBytes(msg.vote.vote.validator, self)
      const sig = toHex(msg.type === 'proposal' ? msg.proposal.signature : msg.vote.signature)
      if (ours && opts.signStore !== undefined && !opts.signStore.saved.has(sig)) violations.push(`sent ${msg.type} ${sig.slice(0, 12)} that the sign store never saved`)
      if (ours && opts.wal !== undefined && !sent.has(sig) && opts.wal.appendedSinceSync > 0) violations.push(`sent ${msg.type} ${sig.slice(0, 12)} with ${opts.wal.appendedSinceSync} WAL appends not synced`)
      sent.add(sig)
      opts.beforeSend?.(msg)
    }
  })
  node = n
  return { node: n, logs, violations, fatal: fatalP }
}

/** A file sign store whose next `failNext` saves (or every save, with `failAlways`) throw EMFILE; `saved` holds every signature it saved. */
function faultySignStore (path: string): SignStore & { saved: Set<string>, failNext: number, failAlways: boolean, failures: number } {
  const inner = fileSignStore(path)
  const store = {
    saved: new Set<string>(),
    failNext: 0,
    failAlways: false,
    failures: 0,
    load: async () => await inner.load(),
    save: async (r: SignRecord) => {
      if (store.failAlways || store.failNext > 0) {
        if (store.failNext > 0) store.failNext--
        store.failures++
        throw emfile(`${path}.tmp`)
      }
      await inner.save(r)
      for (const e of r.entries) store.saved.add(e.signature)
    }
  }
  return store
}

type FaultyWal = Wal & { fail: Record<'append' | 'sync' | 'reset', number>, failures: number, appendedSinceSync: number }

/** A file WAL whose next `fail[op]` calls of each op throw EMFILE before touching the file. */
function faultyWal (path: string): FaultyWal {
  const inner = fileWal(path)
  const wal: FaultyWal = {
    fail: { append: 0, sync: 0, reset: 0 },
    failures: 0,
    appendedSinceSync: 0,
    open: async () => await inner.open(),
    append: async (r: WalRecord) => { trip('append'); await inner.append(r); wal.appendedSinceSync++ },
    sync: async () => { trip('sync'); await inner.sync(); wal.appendedSinceSync = 0 },
    reset: async (first: WalRecord) => { trip('reset'); await inner.reset(first); wal.appendedSinceSync = 0 },
    close: async () => await inner.close()
  }
  const trip = (op: keyof FaultyWal['fail']) => {
    if (wal.fail[op] === 0) return
    wal.fail[op]--
    wal.failures++
    throw emfile(path)
  }
  return wal
}

const named = (logs: LogLine[], msg: string) => logs.filter((l) => l.msg === msg)

describe('consensus driver and failing storage', () => {
  it('knows which I/O errors pass', () => {
    expect(isTransientIoError(emfile('/x'))).toBe(true)
    expect(isTransientIoError(Object.assign(new Error('IO error: x: Too many open files'), { code: 'LEVEL_IO_ERROR' }))).toBe(true)
    expect(isTransientIoError(new Error('wrapped', { cause: Object.assign(new Error('x'), { code: 'ENOSPC' }) }))).toBe(true)
    for (const code of ['EISDIR', 'EACCES', 'EROFS', 'ENOENT']) expect(isTransientIoError(Object.assign(new Error(code), { code }))).toBe(false)
    expect(isTransientIoError(new TypeError('x'))).toBe(false)
  })

  it('retries a sign store failing with EMFILE, sends nothing it has not saved, and keeps committing', async () => {
    const store = faultySignStore(join(dir, 'sign-state.json'))
    const h = await startValidator({ signStore: store })
    await waitFor(() => h.node.chain.head.height >= 2, 'two blocks')
    store.failNext = 5
    // today's driver dropped the task here ("Consensus task failed") and never proposed again
    await waitFor(() => store.failNext === 0, 'the five failing saves')
    const after = h.node.chain.head.height
    await waitFor(() => h.node.chain.head.height >= after + 3, 'three more blocks after the failures')
    expect(store.failures).toBe(5)
    expect(h.violations).toEqual([])
    const retries = named(h.logs, 'Consensus storage failing; retrying')
    expect(retries.length).toBeGreaterThanOrEqual(1)
    expect(retries.length).toBeLessThan(5) // rate-limited: not one line per attempt
    expect(retries[0]).toMatchObject({ level: 'warn', what: 'save the sign state' })
    expect(String(retries[0]!.error)).toContain('EMFILE')
    expect(named(h.logs, 'Consensus storage recovered')).toMatchObject([{ level: 'info', what: 'save the sign state', attempts: 6 }])
    expect(h.logs.filter((l) => l.level === 'error')).toEqual([])
    expect(h.node.failure).toBeNull()
  })

  it('retries a WAL failing with EMFILE on append, sync and reset, syncing before every signature', async () => {
    const wal = faultyWal(join(dir, 'consensus.wal'))
    const h = await startValidator({ wal })
    await waitFor(() => h.node.chain.head.height >= 2, 'two blocks')
    wal.fail.append = 2
    await waitFor(() => wal.fail.append === 0, 'the failing appends')
    wal.fail.sync = 3
    await waitFor(() => wal.fail.sync === 0, 'the failing syncs')
    wal.fail.reset = 2
    await waitFor(() => wal.fail.reset === 0, 'the failing resets')
    const after = h.node.chain.head.height
    await waitFor(() => h.node.chain.head.height >= after + 3, 'three more blocks after the failures')
    expect(wal.failures).toBe(7)
    expect(h.violations).toEqual([])
    expect(named(h.logs, 'Consensus storage recovered').map((l) => l.what)).toEqual(['write the WAL', 'sync the WAL', 'reset the WAL'])
    expect(h.logs.filter((l) => l.level === 'error')).toEqual([])
  })

  it('bounds the queue of network messages while a write is retried', async () => {
    const store = faultySignStore(join(dir, 'sign-state.json'))
    const h = await startValidator({ signStore: store })
    await waitFor(() => h.node.chain.head.height >= 1, 'a block')
    store.failAlways = true
    await waitFor(() => h.node.driver!.failingIo !== null, 'the driver to retry')
    // stale votes (height 0): cheap to drop once the queue moves again
    const vote = { vote: { type: 'prevote' as const, chainId: h.node.chain.chainId, height: 0, round: 0, blockHash: null, validator: new Uint8Array(32) }, signature: new Uint8Array(64) }
    for (let i = 0; i < 10_100; i++) h.node.driver!.receiveVote(vote)
    expect(named(h.logs, 'Consensus queue full; dropping network messages until it drains')).toHaveLength(1)
    store.failAlways = false
    const at = h.node.chain.head.height
    await waitFor(() => h.node.chain.head.height >= at + 2, 'blocks again once the store works')
    expect(h.violations).toEqual([])
  })

  it('stops the node with one ERROR line when the sign store never recovers, and /health says why meanwhile', async () => {
    const store = faultySignStore(join(dir, 'sign-state.json'))
    const h = await startValidator({ signStore: store, persistMs: 3_000, rpc: true })
    const health = async () => await (await fetch(`http://127.0.0.1:${h.node.rpcPort}/health`)).json() as { ok: boolean, reason?: string }
    await waitFor(() => h.node.chain.head.height >= 2, 'two blocks')
    store.failAlways = true
    const failedAt = Date.now()
    const reason = await waitFor(async () => { const r = await health(); return r.ok ? undefined : r.reason }, '/health to report the failing write', 3_000, 20)
    expect(reason).toMatch(/^consensus cannot save the sign state: EMFILE: too many open files.*\(retrying for \d+ s\)$/)
    const height = h.node.chain.head.height
    const error = await Promise.race([h.fatal, new Promise<null>((resolve) => setTimeout(() => resolve(null), 20_000))])
    expect(error).not.toBeNull()
    expect(Date.now() - failedAt).toBeGreaterThanOrEqual(2_500)
    expect(error!.message).toMatch(/^cannot save the sign state: EMFILE: too many open files, open '.*sign-state\.json\.tmp' \(still failing after \d+ attempts in 3 s\)$/)
    const errors = h.logs.filter((l) => l.level === 'error')
    expect(errors).toMatchObject([{ msg: 'Consensus halted; stopping the node', error: error!.message }])
    await waitFor(() => named(h.logs, 'Node stopped').length === 1, 'the node to stop')
    expect(h.node.failure).toBe(error)
    expect(h.node.chain.head.height).toBe(height)
    expect(h.violations).toEqual([])
    await expect(fetch(`http://127.0.0.1:${h.node.rpcPort}/health`)).rejects.toThrow() // the RPC is gone with the node
  })

  it('stops at once, without retrying, when the sign state cannot be written for a reason that does not pass', async () => {
    await mkdir(join(dir, 'sign-state.json.tmp')) // a directory where the temp file goes: EISDIR
    const h = await startValidator({ persistMs: 30_000 })
    const error = await Promise.race([h.fatal, new Promise<null>((resolve) => setTimeout(() => resolve(null), 20_000))])
    expect(error?.message).toMatch(/^cannot save the sign state: EISDIR: .*sign-state\.json\.tmp'$/)
    expect(named(h.logs, 'Consensus storage failing; retrying')).toEqual([])
    expect(h.logs.filter((l) => l.level === 'error')).toMatchObject([{ msg: 'Consensus halted; stopping the node' }])
    await waitFor(() => named(h.logs, 'Node stopped').length === 1, 'the node to stop')
    expect(h.node.chain.head.height).toBe(0)
  })

  it('stops the node when a consensus task fails unexpectedly', async () => {
    let boom = false
    const h = await startValidator({ beforeSend: () => { if (boom) throw new TypeError('injected bug') } })
    await waitFor(() => h.node.chain.head.height >= 1, 'a block')
    boom = true
    const error = await Promise.race([h.fatal, new Promise<null>((resolve) => setTimeout(() => resolve(null), 20_000))])
    expect(error?.message).toBe('a consensus task failed unexpectedly: injected bug')
    await waitFor(() => named(h.logs, 'Node stopped').length === 1, 'the node to stop')
  })
})

describe('file WAL after a failed write or fsync', () => {
  afterEach(() => { Object.assign(fsFaults, { path: '', tornWrites: 0, failedSyncs: 0 }) })

  it('cuts a torn frame and rewrites what was not synced, so the log reads back whole', async () => {
    const path = join(dir, 'consensus.wal')
    fsFaults.path = path
    const wal = fileWal(path)
    const records: WalRecord[] = [
      { kind: 'height', height: 3, round: 0 },
      { kind: 'vote', vote: new Uint8Array(100).fill(1) },
      { kind: 'vote', vote: new Uint8Array(100).fill(2) },
      { kind: 'timeout', step: 'propose', height: 3, round: 0 },
      { kind: 'vote', vote: new Uint8Array(100).fill(3) }
    ]
    await wal.reset(records[0]!)
    await wal.append(records[1]!)
    await wal.sync()
    await wal.append(records[2]!)
    // half a frame reaches the file, then ENOSPC: the retry must not append after the torn bytes
    fsFaults.tornWrites = 1
    await expect(wal.append(records[3]!)).rejects.toMatchObject({ code: 'ENOSPC' })
    await wal.append(records[3]!)
    // an fsync that failed may have lost the pages it was to write: the retry writes them again
    fsFaults.failedSyncs = 1
    await expect(wal.sync()).rejects.toMatchObject({ code: 'EIO' })
    await wal.sync()
    await wal.append(records[4]!)
    await wal.sync()
    await wal.close()
    expect(await fileWal(path).open()).toEqual(records)
  })

  it('finishes a reset that failed halfway', async () => {
    const path = join(dir, 'consensus.wal')
    fsFaults.path = path
    const wal = fileWal(path)
    await wal.reset({ kind: 'height', height: 1, round: 0 })
    await wal.append({ kind: 'vote', vote: new Uint8Array(10).fill(7) })
    await wal.sync()
    fsFaults.tornWrites = 1
    await expect(wal.reset({ kind: 'height', height: 2, round: 0 })).rejects.toMatchObject({ code: 'ENOSPC' })
    await wal.reset({ kind: 'height', height: 2, round: 0 })
    await wal.close()
    expect(await fileWal(path).open()).toEqual([{ kind: 'height', height: 2, round: 0 }])
  })
})
