import { describe, expect, it } from 'vitest'
import { Admission, type AdmissionLimits, type Caller, callCost, newCaller } from '../../../src/rpc/admission.ts'
import { ConnectionLimits } from '../../../src/rpc/connection-limits.ts'
import { ChorusError } from '../../../src/protocol/errors.ts'
import { planDescriptors, softFdLimit } from '../../../src/util/descriptors.ts'
import { readFile } from 'node:fs/promises'

const LIMITS: AdmissionLimits = { perConnection: 4, queuedPerConnection: 2, perIp: 6, total: 8, queuedBytesPerIp: 100, queuedBytes: 150 }
const live = () => new AbortController().signal

async function codeOf (p: Promise<unknown>): Promise<string> {
  try {
    await p
    return 'admitted'
  } catch (e) {
    return (e as ChorusError).code
  }
}

describe('admission of RPC work', () => {
  it('costs a full block above a head', () => {
    expect(callCost('chain_getHead', [])).toBe(1)
    expect(callCost('chain_getBlock', [5])).toBeLessThan(callCost('chain_getBlock', [5, { full: true }]))
    expect(callCost('chain_getBlock', { heightOrHash: 5, options: { full: true } })).toBe(callCost('chain_getBlock', [5, { full: true }]))
  })

  it("queues a connection's calls in order past its share, and refuses past its queue with RATE_LIMITED", async () => {
    const a = new Admission(LIMITS)
    const c = newCaller('10.0.0.1', live())
    const first = await a.enter(c, 4)
    const order: number[] = []
    const second = a.enter(c, 1).then((r) => { order.push(2); return r })
    const third = a.enter(c, 1).then((r) => { order.push(3); return r })
    expect(await codeOf(a.enter(c, 1))).toBe('RATE_LIMITED')
    first()
    ;(await second)()
    ;(await third)()
    expect(order).toEqual([2, 3])
    expect(a.inFlight).toBe(0)
  })

  it('refuses past an IP\'s share with RATE_LIMITED and past the total with BUSY; a release makes room', async () => {
    const a = new Admission(LIMITS)
    const [x1, x2] = [newCaller('10.0.0.1', live()), newCaller('10.0.0.1', live())]
    const y = newCaller('10.0.0.2', live())
    const held = [await a.enter(x1, 4), await a.enter(x2, 2)]
    expect(await codeOf(a.enter(x2, 1))).toBe('RATE_LIMITED')
    const yHeld = await a.enter(y, 2)
    expect(await codeOf(a.enter(y, 1))).toBe('BUSY')
    held[0]!()
    held[0]!() // a second release changes nothing
    expect(a.inFlight).toBe(4)
    ;(await a.enter(y, 1))()
    yHeld()
    held[1]!()
    expect(a.inFlight).toBe(0)
    expect(a.refusals).toEqual({ RATE_LIMITED: 1, BUSY: 1 })
  })

  it('drops a waiting call whose caller left, without running it', async () => {
    const a = new Admission(LIMITS)
    const gone = new AbortController()
    const c: Caller = newCaller('10.0.0.1', gone.signal)
    const first = await a.enter(c, 4)
    const waiting = codeOf(a.enter(c, 1))
    gone.abort()
    first()
    expect(await waiting).toBe('UNAVAILABLE')
    expect(a.inFlight).toBe(0)
  })

  it('counts answer bytes not yet read, per IP and in total', async () => {
    const a = new Admission(LIMITS)
    const x = newCaller('10.0.0.1', live())
    const y = newCaller('10.0.0.2', live())
    const taken = a.queued(x, 101)
    expect(await codeOf(a.enter(x, 1))).toBe('RATE_LIMITED')
    ;(await a.enter(y, 1))()
    const more = a.queued(y, 50)
    expect(await codeOf(a.enter(y, 1))).toBe('BUSY')
    taken()
    more()
    expect(a.totalBytes).toBe(0)
    ;(await a.enter(x, 1))()
  })

  it('counts the WebSockets\' queued bytes against the same shares', async () => {
    const ws = { totalBytes: 0, bytesOf: (ip: string) => ip === '10.0.0.1' ? ws.totalBytes : 0 }
    const a = new Admission(LIMITS, [ws])
    const x = newCaller('10.0.0.1', live())
    ws.totalBytes = 101
    expect(await codeOf(a.enter(x, 1))).toBe('RATE_LIMITED')
    ws.totalBytes = 0
    ;(await a.enter(x, 1))()
  })
})

describe('connection caps', () => {
  it('refuses past the per-IP and the total cap, and a close gives the place back', () => {
    const caps = new ConnectionLimits(3, 2)
    expect([caps.enter('a'), caps.enter('a'), caps.enter('a')]).toEqual([null, null, 'ip'])
    expect(caps.enter('b')).toBe(null)
    expect(caps.enter('c')).toBe('total')
    caps.leave('a')
    expect(caps.enter('c')).toBe(null)
    expect(caps.count).toBe(3)
    expect(caps.refusals).toEqual({ total: 1, ip: 1 })
  })
})

describe('file descriptors', () => {
  it('fits the RPC connection cap under a small open-file limit, with a warning that says what to raise', () => {
    const plan = planDescriptors(1024, { rpcConnections: 1024, peers: 50 })
    expect(plan.rpcConnections).toBeLessThan(1024)
    expect(plan.storeFiles + plan.peerFiles + plan.otherFiles + plan.rpcConnections).toBeLessThanOrEqual(1024)
    expect(plan.warning).toMatch(/ulimit -n.*1024/)
    const roomy = planDescriptors(65_536, { rpcConnections: 1024, peers: 50 })
    expect(roomy).toMatchObject({ rpcConnections: 1024, storeFiles: 1000, warning: null })
    expect(planDescriptors(null, { rpcConnections: 10, peers: 0 }).rpcConnections).toBe(10)
  })

  it('reads the soft limit from /proc/PID/limits', async () => {
    expect(softFdLimit('Limit                     Soft Limit           Hard Limit           Units\nMax open files            1024                 4096                 files\n')).toBe(1024)
    expect(softFdLimit('Max open files            unlimited            unlimited            files')).toBe(Number.MAX_SAFE_INTEGER)
    expect(softFdLimit('')).toBe(null)
    expect(softFdLimit(await readFile('/proc/self/limits', 'utf8'))).toBeGreaterThan(0) // this machine is Linux
  })
})
