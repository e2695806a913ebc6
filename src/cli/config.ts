/**
 * HOME/config.json: every setting of `chorus start` that is not about making a home.
 * `chorus init` writes it (`init --validators N` and `init --genesis FILE` with each
 * home's ports and peers); `chorus start` reads it. Precedence: flag > environment
 * variable (CHORUS_LOG_LEVEL) > config.json > default.
 *
 *   {
 *     "rpc": {                           JSON-RPC (docs/rpc.md)
 *       "host": "127.0.0.1",             listen address                      --rpc-host                    (default 127.0.0.1)
 *       "port": 26657,                   0-65535, 0: any free port           --rpc-port                    (default 26657)
 *       "corsOrigins": ["*"],            browser origins allowed, or "*"     --rpc-cors-origins            (default *)
 *       "allowedHosts": ["*"],           Host header names answered, or "*"  --rpc-allowed-hosts           (default: loopback names for a loopback host, else any)
 *       "maxConnections": 1024,          open connections at most            --rpc-max-connections         (default 1024)
 *       "maxConnectionsPerIp": 64,       from one IP at most                 --rpc-max-connections-per-ip  (default 64)
 *       "maxResponseBytes": 16777216     bytes of one answer at most         --rpc-max-response-bytes      (default 16 MiB)
 *     },
 *     "p2p": {
 *       "host": "127.0.0.1",             libp2p listen IP, v4 or v6 literal  --p2p-host   (default 127.0.0.1; 0.0.0.0 for all)
 *       "port": 36656,                   0-65535, 0: any free port           --p2p-port   (default 36656)
 *       "announce": [],                  multiaddrs told to peers instead    --announce   (default none)
 *       "bootstrap": [                   full multiaddrs with /p2p/<peerId>  --bootstrap  (default none)
 *         "/ip4/127.0.0.1/tcp/36657/p2p/12D3Koo…"
 *       ],
 *       "maxPeers": 50                   most connected peers                             (default: the node's)
 *     },
 *     "metrics": {                       Prometheus (docs/metrics.md); off without a port
 *       "host": "127.0.0.1",                                                 --metrics-host (default 127.0.0.1)
 *       "port": 9464                                                         --metrics-port (default: off)
 *     },
 *     "log": {
 *       "level": "info",                 debug, info, warn or error          --log-level, CHORUS_LOG_LEVEL (default info)
 *       "json": false                    one JSON object per line            --log-json   (default false)
 *     },
 *     "validator": {
 *       "passwordFile": "pw.txt"         password of an encrypted validator key, relative to the home  --password-file
 *     },
 *     "web": true                        the web app at GET / for browsers (rpc/web.ts)            --no-web     (default true)
 *   }
 *
 * Flag-only, as they make a home rather than run one: --dev, --block-time, --home.
 * Every field is optional; an unknown field, a wrong type or a bad value is an
 * error (INVALID_FIELD, or MALFORMED when the file is not a JSON object) naming
 * the file and the field.
 */
import { multiaddr } from '@multiformats/multiaddr'
import { readFile, writeFile } from 'node:fs/promises'
import { isIP } from 'node:net'
import { join, resolve } from 'node:path'
import type { P2pOptions, RpcOptions } from '../node.ts'
import { ErrorCode, fail } from '../protocol/errors.ts'
import { DEFAULT_WEB_DIR } from '../rpc/web.ts'

export const CONFIG_FILE = 'config.json'
export const NODE_KEY_FILE = 'node-key.json'

export const DEFAULT_RPC_HOST = '127.0.0.1'
export const DEFAULT_RPC_PORT = 26657
export const DEFAULT_P2P_HOST = '127.0.0.1'
export const DEFAULT_P2P_PORT = 36656

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const
export type LogLevel = typeof LOG_LEVELS[number]
export const DEFAULT_LOG_LEVEL: LogLevel = 'info'
export const DEFAULT_METRICS_HOST = '127.0.0.1'

export interface RpcConfig {
  host?: string
  port?: number
  corsOrigins?: string[]
  allowedHosts?: string[]
  maxConnections?: number
  maxConnectionsPerIp?: number
  maxResponseBytes?: number
}
export interface P2pConfig { host?: string, port?: number, announce?: string[], bootstrap?: string[], maxPeers?: number }
export interface MetricsConfig { host?: string, port?: number }
export interface LogConfig { level?: LogLevel, json?: boolean }
export interface ValidatorConfig { passwordFile?: string }
export interface NodeConfig { rpc?: RpcConfig, p2p?: P2pConfig, metrics?: MetricsConfig, log?: LogConfig, validator?: ValidatorConfig, web?: boolean }
/** A config with the listen addresses and peers set: what `init` writes. */
export interface FullConfig { rpc: Required<Pick<RpcConfig, 'host' | 'port'>>, p2p: Required<Omit<P2pConfig, 'maxPeers'>> }

/** What a start command was given on its command line; undefined: not given. */
export interface NetworkFlags {
  rpcHost?: string
  rpcPort?: number
  p2pHost?: string
  p2pPort?: number
  bootstrap?: string[]
  announce?: string[]
}

/** Where a node listens and whom it dials, after merging flags, config.json and defaults. */
export interface NodeNetwork { rpc: { host: string, port: number }, p2p: P2pOptions }

export const configPath = (home: string): string => join(home, CONFIG_FILE)

/** Why `port` is no TCP port (null: it is one). */
export function portProblem (port: unknown): string | null {
  return typeof port === 'number' && Number.isInteger(port) && port >= 0 && port <= 65535 ? null : 'must be an integer from 0 to 65535 (0: any free port)'
}

/** Why `host` cannot be a libp2p listen address (null: it can). */
export function p2pHostProblem (host: unknown): string | null {
  return typeof host === 'string' && isIP(host) !== 0 ? null : 'must be an IPv4 or IPv6 address such as 127.0.0.1, 0.0.0.0 or ::'
}

function rpcHostProblem (host: unknown): string | null {
  return typeof host === 'string' && /^\S+$/.test(host) ? null : 'must be a host name or IP address'
}

/** Why `addr` is not a multiaddr (with `needPeer`: one ending in /p2p/<peerId>); null when it is. */
export function multiaddrProblem (addr: unknown, needPeer: boolean): string | null {
  if (typeof addr !== 'string' || !addr.startsWith('/')) return 'must be a multiaddr such as /ip4/127.0.0.1/tcp/36656' + (needPeer ? '/p2p/12D3Koo…' : '')
  let names: string[]
  try {
    const ma = multiaddr(addr)
    void ma.bytes // encodes every part: a bad IP, port or peer id throws here
    names = ma.getComponents().map((c) => c.name)
  } catch (e) {
    return `is not a valid multiaddr (${(e as Error).message})`
  }
  if (names.length === 0) return 'is an empty multiaddr'
  if (needPeer && names.at(-1) !== 'p2p') return 'must end in /p2p/<peerId> (the peer id is in the peer\'s node-key.json)'
  return null
}

/** The libp2p listen multiaddr for an IP and port: /ip4/… or /ip6/…. */
export function listenMultiaddr (host: string, port: number): string {
  return `/${isIP(host) === 6 ? 'ip6' : 'ip4'}/${host}/tcp/${port}`
}

/** A peer's full multiaddr: its listen address and /p2p/<peerId>. */
export function peerMultiaddr (host: string, port: number, peerId: string): string {
  return `${listenMultiaddr(host, port)}/p2p/${peerId}`
}

type Fields = Record<string, unknown>

function section (value: unknown, file: string, name: string, known: string[]): Fields | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(ErrorCode.INVALID_FIELD, `${file}: ${name} must be an object`)
  const fields = value as Fields
  for (const k of Object.keys(fields)) if (!known.includes(k)) fail(ErrorCode.INVALID_FIELD, `${file}: unknown field ${name === '' ? k : `${name}.${k}`} (known: ${known.join(', ')})`)
  return fields
}

function field<T> (obj: Fields, file: string, name: string, key: string, problem: (v: unknown) => string | null): T | undefined {
  const v = obj[key]
  if (v === undefined) return undefined
  const p = problem(v)
  if (p !== null) fail(ErrorCode.INVALID_FIELD, `${file}: ${name}.${key} ${p}`)
  return v as T
}

function addrList (obj: Fields, file: string, name: string, key: string, needPeer: boolean): string[] | undefined {
  const v = obj[key]
  if (v === undefined) return undefined
  if (!Array.isArray(v)) fail(ErrorCode.INVALID_FIELD, `${file}: ${name}.${key} must be a list of multiaddrs`)
  for (const [i, a] of (v as unknown[]).entries()) {
    const p = multiaddrProblem(a, needPeer)
    if (p !== null) fail(ErrorCode.INVALID_FIELD, `${file}: ${name}.${key}[${i}] ${typeof a === 'string' ? a + ' ' : ''}${p}`)
  }
  return [...(v as string[])]
}

/**
 * Checks a parsed config.json; `file` names it in errors. Returns only the
 * fields present (a copy), so a missing field falls through to the default.
 */
export function parseConfig (value: unknown, file: string): NodeConfig {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail(ErrorCode.MALFORMED, `${file} must hold a JSON object`)
  const top = section(value, file, '', ['rpc', 'p2p', 'metrics', 'log', 'validator', 'web'])!
  const out: NodeConfig = {}
  const positive = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 1 ? null : 'must be a positive integer'
  const rpc = section(top.rpc, file, 'rpc', ['host', 'port', 'corsOrigins', 'allowedHosts', 'maxConnections', 'maxConnectionsPerIp', 'maxResponseBytes'])
  if (rpc !== undefined) {
    out.rpc = pick({
      host: field<string>(rpc, file, 'rpc', 'host', rpcHostProblem),
      port: field<number>(rpc, file, 'rpc', 'port', portProblem),
      corsOrigins: nameList(rpc, file, 'rpc', 'corsOrigins'),
      allowedHosts: nameList(rpc, file, 'rpc', 'allowedHosts'),
      maxConnections: field<number>(rpc, file, 'rpc', 'maxConnections', positive),
      maxConnectionsPerIp: field<number>(rpc, file, 'rpc', 'maxConnectionsPerIp', positive),
      maxResponseBytes: field<number>(rpc, file, 'rpc', 'maxResponseBytes', positive)
    })
  }
  const p2p = section(top.p2p, file, 'p2p', ['host', 'port', 'announce', 'bootstrap', 'maxPeers'])
  if (p2p !== undefined) {
    out.p2p = pick({
      host: field<string>(p2p, file, 'p2p', 'host', p2pHostProblem),
      port: field<number>(p2p, file, 'p2p', 'port', portProblem),
      announce: addrList(p2p, file, 'p2p', 'announce', false),
      bootstrap: addrList(p2p, file, 'p2p', 'bootstrap', true),
      maxPeers: field<number>(p2p, file, 'p2p', 'maxPeers', positive)
    })
  }
  const metrics = section(top.metrics, file, 'metrics', ['host', 'port'])
  if (metrics !== undefined) {
    out.metrics = pick({ host: field<string>(metrics, file, 'metrics', 'host', rpcHostProblem), port: field<number>(metrics, file, 'metrics', 'port', portProblem) })
  }
  const log = section(top.log, file, 'log', ['level', 'json'])
  if (log !== undefined) {
    out.log = pick({
      level: field<LogLevel>(log, file, 'log', 'level', (v) => (LOG_LEVELS as readonly unknown[]).includes(v) ? null : `must be ${LOG_LEVELS.join(', ')}`),
      json: field<boolean>(log, file, 'log', 'json', (v) => typeof v === 'boolean' ? null : 'must be true or false')
    })
  }
  const validator = section(top.validator, file, 'validator', ['passwordFile'])
  if (validator !== undefined) {
    out.validator = pick({ passwordFile: field<string>(validator, file, 'validator', 'passwordFile', (v) => typeof v === 'string' && v !== '' ? null : 'must be a file name') })
  }
  if (top.web !== undefined) {
    if (typeof top.web !== 'boolean') fail(ErrorCode.INVALID_FIELD, `${file}: web must be true or false`)
    out.web = top.web
  }
  return out
}

/** The fields that are set. */
function pick<T extends object> (fields: T): T {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as T
}

function nameList (obj: Fields, file: string, name: string, key: string): string[] | undefined {
  const v = obj[key]
  if (v === undefined) return undefined
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string' && /^\S+$/.test(x))) fail(ErrorCode.INVALID_FIELD, `${file}: ${name}.${key} must be a list of names (or ["*"])`)
  return [...(v as string[])]
}

/** HOME/config.json, checked; null when the home has none. */
export async function readConfig (home: string): Promise<NodeConfig | null> {
  const file = configPath(home)
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw e
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return fail(ErrorCode.MALFORMED, `${file} is not valid JSON`)
  }
  return parseConfig(value, file)
}

/** Writes HOME/config.json (checked first, so a home never holds one `start` would refuse). */
export async function writeConfig (home: string, config: NodeConfig): Promise<void> {
  const file = configPath(home)
  parseConfig(config, file)
  await writeFile(file, JSON.stringify(config, null, 2) + '\n', { mode: 0o644 })
}

/** A complete config with every default filled in: what `init` writes. */
export function defaultConfig (over: { rpcHost?: string, rpcPort?: number, p2pHost?: string, p2pPort?: number, announce?: string[], bootstrap?: string[] } = {}): FullConfig {
  return {
    rpc: { host: over.rpcHost ?? DEFAULT_RPC_HOST, port: over.rpcPort ?? DEFAULT_RPC_PORT },
    p2p: { host: over.p2pHost ?? DEFAULT_P2P_HOST, port: over.p2pPort ?? DEFAULT_P2P_PORT, announce: over.announce ?? [], bootstrap: over.bootstrap ?? [] }
  }
}

/**
 * The RPC and libp2p options of the node in `home`: each value from its flag if
 * given, else from config.json (null: none), else the default. The bootstrap and
 * announce lists are taken whole from one place, never merged.
 */
export function resolveNetwork (home: string, config: NodeConfig | null, flags: NetworkFlags): NodeNetwork {
  const rpc = config?.rpc ?? {}
  const p2p = config?.p2p ?? {}
  const host = flags.p2pHost ?? p2p.host ?? DEFAULT_P2P_HOST
  const port = flags.p2pPort ?? p2p.port ?? DEFAULT_P2P_PORT
  const hostProblem = p2pHostProblem(host)
  if (hostProblem !== null) fail(ErrorCode.INVALID_FIELD, `--p2p-host ${host} ${hostProblem}`)
  const options: P2pOptions = {
    listen: [listenMultiaddr(host, port)],
    announce: flags.announce ?? p2p.announce ?? [],
    bootstrap: flags.bootstrap ?? p2p.bootstrap ?? [],
    nodeKeyPath: join(home, NODE_KEY_FILE)
  }
  if (p2p.maxPeers !== undefined) options.maxPeers = p2p.maxPeers
  return {
    rpc: { host: flags.rpcHost ?? rpc.host ?? DEFAULT_RPC_HOST, port: flags.rpcPort ?? rpc.port ?? DEFAULT_RPC_PORT },
    p2p: options
  }
}

/** What `chorus start` was given on its command line (and CHORUS_LOG_LEVEL); undefined: not given. */
export interface StartFlags extends NetworkFlags {
  rpcCorsOrigins?: string[]
  rpcAllowedHosts?: string[]
  rpcMaxConnections?: number
  rpcMaxConnectionsPerIp?: number
  rpcMaxResponseBytes?: number
  metricsPort?: number
  metricsHost?: string
  logLevel?: string
  logJson?: boolean
  passwordFile?: string
  /** false: --no-web (commander gives true when the flag is absent, so true means "not given"). */
  web?: boolean
}

/** Every setting of a node to start, after merging flags (and environment), config.json and defaults. */
export interface StartSettings {
  rpc: RpcOptions
  p2p: P2pOptions
  /** null: metrics off. */
  metrics: { host: string, port: number } | null
  log: { level: LogLevel, json: boolean }
  /** The validator key's password file (a config.json path is taken relative to the home). */
  passwordFile?: string
}

/**
 * The settings of the node in `home`: each from its flag (or environment variable) if given, else
 * config.json (null: none), else the default. Lists are taken whole from one place, never merged.
 * `--metrics-host` (or metrics.host) without a port is refused: metrics are off without one.
 */
export function resolveStart (home: string, config: NodeConfig | null, flags: StartFlags): StartSettings {
  const network = resolveNetwork(home, config, flags)
  const rpc = config?.rpc ?? {}
  const m = config?.metrics ?? {}
  const metricsPort = flags.metricsPort ?? m.port
  const metricsHost = flags.metricsHost ?? m.host
  if (metricsPort === undefined && metricsHost !== undefined) fail(ErrorCode.INVALID_FIELD, '--metrics-host (metrics.host) goes with --metrics-port (metrics.port): metrics are off without a port')
  const level = flags.logLevel ?? config?.log?.level ?? DEFAULT_LOG_LEVEL
  if (!(LOG_LEVELS as readonly string[]).includes(level)) fail(ErrorCode.INVALID_FIELD, `--log-level must be ${LOG_LEVELS.join(', ')}, not ${level}`)
  const passwordFile = flags.passwordFile ?? (config?.validator?.passwordFile === undefined ? undefined : resolve(home, config.validator.passwordFile))
  return {
    rpc: pick<RpcOptions>({
      ...network.rpc,
      corsOrigins: flags.rpcCorsOrigins ?? rpc.corsOrigins,
      allowedHosts: flags.rpcAllowedHosts ?? rpc.allowedHosts,
      maxConnections: flags.rpcMaxConnections ?? rpc.maxConnections,
      maxConnectionsPerIp: flags.rpcMaxConnectionsPerIp ?? rpc.maxConnectionsPerIp,
      maxResponseBytes: flags.rpcMaxResponseBytes ?? rpc.maxResponseBytes,
      webDir: flags.web === false || config?.web === false ? undefined : DEFAULT_WEB_DIR
    }),
    p2p: network.p2p,
    metrics: metricsPort === undefined ? null : { host: metricsHost ?? DEFAULT_METRICS_HOST, port: metricsPort },
    log: { level: level as LogLevel, json: flags.logJson ?? config?.log?.json ?? false },
    ...(passwordFile === undefined ? {} : { passwordFile })
  }
}
