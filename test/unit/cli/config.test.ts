import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { announceOption, bootstrapOption, p2pHostOption, portOption } from '../../../src/cli/commands/options.ts'
import { type NodeConfig, parseConfig, readConfig, resolveNetwork, resolveStart, writeConfig } from '../../../src/cli/config.ts'
import { DEFAULT_WEB_DIR } from '../../../src/rpc/web.ts'

const PEER = '12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp'
const PEER2 = '12D3KooWJUrAACSDgd3mtH4PdpRpthaTwKMXhBuUKznncbmpA4j6'
const FILE = '/h/config.json'

let dir: string
beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'chorus-config-')) })
afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

describe('config.json', () => {
  it('accepts the documented form, and an empty object (every field optional)', () => {
    const full: NodeConfig = {
      rpc: { host: '127.0.0.1', port: 26657 },
      p2p: { host: '127.0.0.1', port: 36656, announce: ['/ip4/127.0.0.1/tcp/36656'], bootstrap: [`/ip4/127.0.0.1/tcp/36657/p2p/${PEER}`], maxPeers: 20 }
    }
    expect(parseConfig(full, FILE)).toEqual(full)
    expect(parseConfig({}, FILE)).toEqual({})
    expect(parseConfig({ p2p: { port: 0 } }, FILE)).toEqual({ p2p: { port: 0 } })
    expect(parseConfig({ p2p: { host: '::' } }, FILE)).toEqual({ p2p: { host: '::' } })
  })

  it('refuses bad values with a typed error naming the file and the field', () => {
    const bad = (value: unknown) => { try { parseConfig(value, FILE) } catch (e) { return e } return null }
    expect(bad([])).toMatchObject({ code: 'MALFORMED', detail: expect.stringContaining(FILE) })
    expect(bad('x')).toMatchObject({ code: 'MALFORMED' })
    const cases: Array<[unknown, string]> = [
      [{ rpc: { port: 65536 } }, 'rpc.port'],
      [{ rpc: { port: '26657' } }, 'rpc.port'],
      [{ rpc: { host: '' } }, 'rpc.host'],
      [{ p2p: { port: 1.5 } }, 'p2p.port'],
      [{ p2p: { host: 'localhost' } }, 'p2p.host'],
      [{ p2p: { bootstrap: '/ip4/127.0.0.1/tcp/1' } }, 'p2p.bootstrap'],
      [{ p2p: { bootstrap: ['/ip4/127.0.0.1/tcp/1'] } }, 'p2p.bootstrap[0]'],
      [{ p2p: { bootstrap: [`/ip4/127.0.0.1/tcp/1/p2p/${PEER}`, '/ip4/127.0.0.1/tcp/2/p2p/notapeer'] } }, 'p2p.bootstrap[1]'],
      [{ p2p: { announce: ['not a multiaddr'] } }, 'p2p.announce[0]'],
      [{ p2p: { maxPeers: 0 } }, 'p2p.maxPeers'],
      [{ p2p: { bootstrapPeers: [] } }, 'p2p.bootstrapPeers'],
      [{ rpcPort: 1 }, 'rpcPort'],
      [{ p2p: [] }, 'p2p']
    ]
    for (const [value, field] of cases) {
      const e = bad(value)
      expect(e, JSON.stringify(value)).toMatchObject({ code: 'INVALID_FIELD' })
      expect((e as { detail: string }).detail).toContain(`${FILE}: `)
      expect((e as { detail: string }).detail).toContain(field)
    }
  })

  it('reads nothing when there is no file, refuses a file that is not JSON, and round-trips what it writes', async () => {
    expect(await readConfig(dir)).toBeNull()
    await writeFile(join(dir, 'config.json'), '{ "rpc": ')
    await expect(readConfig(dir)).rejects.toMatchObject({ code: 'MALFORMED', detail: expect.stringContaining(join(dir, 'config.json')) })
    const config: NodeConfig = { rpc: { port: 1234 }, p2p: { bootstrap: [`/ip4/127.0.0.1/tcp/5/p2p/${PEER}`] } }
    await writeConfig(dir, config)
    expect(await readConfig(dir)).toEqual(config)
    await expect(writeConfig(dir, { rpc: { port: -1 } })).rejects.toMatchObject({ code: 'INVALID_FIELD' })
  })
})

describe('start: flag > config.json > default', () => {
  it('uses the defaults without a config or flags', () => {
    expect(resolveNetwork('/h', null, {})).toEqual({
      rpc: { host: '127.0.0.1', port: 26657 },
      p2p: { listen: ['/ip4/127.0.0.1/tcp/36656'], announce: [], bootstrap: [], nodeKeyPath: '/h/node-key.json' }
    })
  })

  it('takes each value from config.json unless its flag is given', () => {
    const config: NodeConfig = {
      rpc: { host: '0.0.0.0', port: 1000 },
      p2p: { host: '127.0.0.1', port: 2000, announce: ['/ip4/203.0.113.7/tcp/2000'], bootstrap: [`/ip4/127.0.0.1/tcp/2001/p2p/${PEER}`], maxPeers: 7 }
    }
    expect(resolveNetwork('/h', config, {})).toEqual({
      rpc: { host: '0.0.0.0', port: 1000 },
      p2p: { listen: ['/ip4/127.0.0.1/tcp/2000'], announce: ['/ip4/203.0.113.7/tcp/2000'], bootstrap: [`/ip4/127.0.0.1/tcp/2001/p2p/${PEER}`], nodeKeyPath: '/h/node-key.json', maxPeers: 7 }
    })
    const flagged = resolveNetwork('/h', config, { rpcPort: 3000, p2pPort: 4000, bootstrap: [`/ip4/127.0.0.1/tcp/9/p2p/${PEER2}`] })
    expect(flagged.rpc).toEqual({ host: '0.0.0.0', port: 3000 })
    expect(flagged.p2p.listen).toEqual(['/ip4/127.0.0.1/tcp/4000'])
    expect(flagged.p2p.bootstrap).toEqual([`/ip4/127.0.0.1/tcp/9/p2p/${PEER2}`]) // replaced, not merged
    expect(flagged.p2p.announce).toEqual(['/ip4/203.0.113.7/tcp/2000'])
    expect(resolveNetwork('/h', config, { bootstrap: [], announce: [], rpcHost: '127.0.0.1' })).toMatchObject({ rpc: { host: '127.0.0.1' }, p2p: { bootstrap: [], announce: [] } })
    // a partial config: the rest from the defaults
    expect(resolveNetwork('/h', { p2p: { port: 5 } }, {})).toMatchObject({ rpc: { host: '127.0.0.1', port: 26657 }, p2p: { listen: ['/ip4/127.0.0.1/tcp/5'] } })
  })

  it('listens on /ip6/ for an IPv6 host', () => {
    expect(resolveNetwork('/h', { p2p: { host: '::1' } }, {}).p2p.listen).toEqual(['/ip6/::1/tcp/36656'])
    expect(resolveNetwork('/h', null, { p2pHost: '::', p2pPort: 0 }).p2p.listen).toEqual(['/ip6/::/tcp/0'])
  })

  it('checks flag values as commander parses them', () => {
    expect(portOption('0')).toBe(0)
    expect(portOption('65535')).toBe(65535)
    for (const v of ['65536', '-1', 'x', '1.5', '']) expect(() => portOption(v), v).toThrow(/port from 0 to 65535/)
    const a = `/ip4/127.0.0.1/tcp/1/p2p/${PEER}`
    const b = `/ip4/127.0.0.1/tcp/2/p2p/${PEER2}`
    expect(bootstrapOption(`${a}, ${b}`, undefined)).toEqual([a, b])
    expect(bootstrapOption(b, [a])).toEqual([a, b]) // --bootstrap repeated
    expect(bootstrapOption('', undefined)).toEqual([])
    expect(() => bootstrapOption('/ip4/127.0.0.1/tcp/1', undefined)).toThrow(/\/p2p\//)
    expect(() => bootstrapOption('127.0.0.1:1', undefined)).toThrow(/multiaddr/)
    expect(announceOption('/ip4/203.0.113.7/tcp/1', undefined)).toEqual(['/ip4/203.0.113.7/tcp/1'])
    expect(p2pHostOption('0.0.0.0')).toBe('0.0.0.0')
    expect(() => p2pHostOption('example.com')).toThrow(/IPv4 or IPv6/)
  })
})

describe('config.json holds every start setting (#8 item 6)', () => {
  const full: NodeConfig = {
    rpc: { host: '0.0.0.0', port: 1000, corsOrigins: ['https://app.example'], allowedHosts: ['rpc.example'], maxConnections: 500, maxConnectionsPerIp: 10, maxResponseBytes: 1_000_000 },
    p2p: { host: '127.0.0.1', port: 2000, maxPeers: 7 },
    metrics: { host: '127.0.0.1', port: 9464 },
    log: { level: 'warn', json: true },
    validator: { passwordFile: 'pw.txt' }
  }

  it('accepts the RPC limits, metrics, log and validator sections, and refuses bad values naming the field', () => {
    expect(parseConfig(full, FILE)).toEqual(full)
    const cases: Array<[unknown, string]> = [
      [{ rpc: { maxConnections: 0 } }, 'rpc.maxConnections'],
      [{ rpc: { maxConnectionsPerIp: 1.5 } }, 'rpc.maxConnectionsPerIp'],
      [{ rpc: { maxResponseBytes: '1' } }, 'rpc.maxResponseBytes'],
      [{ rpc: { corsOrigins: '*' } }, 'rpc.corsOrigins'],
      [{ rpc: { allowedHosts: ['a b'] } }, 'rpc.allowedHosts'],
      [{ rpc: { maxConnectionz: 1 } }, 'rpc.maxConnectionz'],
      [{ metrics: { port: 70000 } }, 'metrics.port'],
      [{ metrics: { path: '/m' } }, 'metrics.path'],
      [{ log: { level: 'loud' } }, 'log.level'],
      [{ log: { json: 'yes' } }, 'log.json'],
      [{ validator: { passwordFile: '' } }, 'validator.passwordFile'],
      [{ validator: { key: 'x' } }, 'validator.key'],
      [{ dev: true }, 'dev']
    ]
    for (const [value, field] of cases) {
      let e: unknown = null
      try { parseConfig(value, FILE) } catch (x) { e = x }
      expect(e, JSON.stringify(value)).toMatchObject({ code: 'INVALID_FIELD' })
      expect((e as { detail: string }).detail).toContain(`${FILE}: `)
      expect((e as { detail: string }).detail).toContain(field)
    }
  })

  it('resolves flag > config.json > default for every setting', () => {
    expect(resolveStart('/h', null, {})).toEqual({
      rpc: { host: '127.0.0.1', port: 26657, webDir: DEFAULT_WEB_DIR },
      p2p: { listen: ['/ip4/127.0.0.1/tcp/36656'], announce: [], bootstrap: [], nodeKeyPath: '/h/node-key.json' },
      metrics: null,
      log: { level: 'info', json: false }
    })
    expect(resolveStart('/h', full, {})).toEqual({
      rpc: { host: '0.0.0.0', port: 1000, corsOrigins: ['https://app.example'], allowedHosts: ['rpc.example'], maxConnections: 500, maxConnectionsPerIp: 10, maxResponseBytes: 1_000_000, webDir: DEFAULT_WEB_DIR },
      p2p: { listen: ['/ip4/127.0.0.1/tcp/2000'], announce: [], bootstrap: [], nodeKeyPath: '/h/node-key.json', maxPeers: 7 },
      metrics: { host: '127.0.0.1', port: 9464 },
      log: { level: 'warn', json: true },
      passwordFile: '/h/pw.txt' // relative to the home
    })
    const flagged = resolveStart('/h', full, {
      rpcCorsOrigins: ['*'], rpcAllowedHosts: ['*'], rpcMaxConnections: 5, rpcMaxConnectionsPerIp: 2, rpcMaxResponseBytes: 99,
      metricsPort: 1, metricsHost: '0.0.0.0', logLevel: 'debug', logJson: false, passwordFile: 'other.txt'
    })
    expect(flagged).toMatchObject({
      rpc: { corsOrigins: ['*'], allowedHosts: ['*'], maxConnections: 5, maxConnectionsPerIp: 2, maxResponseBytes: 99 },
      metrics: { host: '0.0.0.0', port: 1 },
      log: { level: 'debug', json: false },
      passwordFile: 'other.txt' // a flag's path is the working directory's
    })
    // the metrics port from the file, the host from a flag
    expect(resolveStart('/h', { metrics: { port: 9 } }, { metricsHost: '0.0.0.0' }).metrics).toEqual({ host: '0.0.0.0', port: 9 })
    expect(() => resolveStart('/h', { metrics: { host: '0.0.0.0' } }, {})).toThrow(/metrics-port/)
  })
})
