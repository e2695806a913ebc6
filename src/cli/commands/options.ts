/**
 * Shared option parsers and options. A parser refuses a value with a ValueError: a usage error
 * (exit 2) naming the flag, with a typed code. Options that an environment variable can give say
 * so in their help; the order is flag > environment > <home>/config.json (start) > default.
 */
import { Option } from 'commander'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { ErrorCode } from '../../protocol/errors.ts'
import { LOG_LEVELS, multiaddrProblem, p2pHostProblem, portProblem } from '../config.ts'
import { ValueError } from '../output.ts'

export function intOption (value: string): number {
  if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(Number(value))) throw new ValueError('expected a non-negative integer')
  return Number(value)
}

/** A page size, 1-100 (what the node's list methods take). */
export function limitOption (value: string): number {
  const n = /^[0-9]{1,3}$/.test(value) ? Number(value) : NaN
  if (!(n >= 1 && n <= 100)) throw new ValueError('expected an integer from 1 to 100')
  return n
}

/** A TCP port, 0-65535 (0: any free port). */
export function portOption (value: string): number {
  const n = /^[0-9]{1,5}$/.test(value) ? Number(value) : NaN
  if (portProblem(n) !== null) throw new ValueError('expected a port from 0 to 65535 (0: any free port)')
  return n
}

/** A comma-separated list of multiaddrs; the option may also be repeated. "" gives an empty list. */
function multiaddrsOption (needPeer: boolean) {
  return (value: string, previous: string[] | undefined): string[] => {
    const list = value.split(',').map((s) => s.trim()).filter((s) => s !== '')
    for (const a of list) {
      const problem = multiaddrProblem(a, needPeer)
      if (problem !== null) throw new ValueError(`${a} ${problem}`)
    }
    return [...(previous ?? []), ...list]
  }
}

/** --bootstrap: full multiaddrs of peers, each ending in /p2p/<peerId>. */
export const bootstrapOption = multiaddrsOption(true)
/** --announce: multiaddrs to tell peers. */
export const announceOption = multiaddrsOption(false)

/** A comma-separated list of names (origins, hosts); the option may also be repeated. */
export function listOption (value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), ...value.split(',').map((s) => s.trim()).filter((s) => s !== '')]
}

/** A whole number of coins (an amount argument or --fee); anything else is INVALID_AMOUNT. */
export function amountOption (value: string): bigint {
  if (!/^[0-9]{1,20}$/.test(value)) throw new ValueError('expected a whole number of coins', ErrorCode.INVALID_AMOUNT)
  return BigInt(value)
}

/** A post id: 64 hex characters (MALFORMED otherwise). */
export function postIdOption (value: string): string {
  if (!/^[0-9a-fA-F]{64}$/.test(value)) throw new ValueError('a post id is 64 hex characters', ErrorCode.MALFORMED)
  return value.toLowerCase()
}

/** --log-level: debug, info, warn or error. */
export function logLevelOption (value: string): string {
  if (!(LOG_LEVELS as readonly string[]).includes(value)) throw new ValueError(`expected ${LOG_LEVELS.join(', ')}`)
  return value
}

export const DEFAULT_RPC_URL = 'http://127.0.0.1:26657'

/** A node's JSON-RPC URL: http:// or https://. */
export function rpcUrlOption (value: string): string {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new ValueError(`expected a URL such as ${DEFAULT_RPC_URL}`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ValueError('expected an http:// or https:// URL')
  return value
}

/** A libp2p listen IP (v4 or v6 literal). */
export function p2pHostOption (value: string): string {
  const problem = p2pHostProblem(value)
  if (problem !== null) throw new ValueError(problem)
  return value
}

/** The default home: ~/.chorus (as CometBFT's ~/.cometbft and geth's ~/.ethereum), unless CHORUS_HOME says otherwise. */
export function defaultHome (): string {
  return join(homedir(), '.chorus')
}

/** --home DIR, from CHORUS_HOME when not given, else ~/.chorus. An empty one is as unset (XDG's rule), not the working directory. */
export function homeOption (description = 'home directory'): Option {
  return new Option('--home <dir>', description).env('CHORUS_HOME').default(defaultHome(), '~/.chorus').argParser((dir) => dir === '' ? defaultHome() : dir)
}

/** --rpc URL of a node, from CHORUS_RPC when not given. */
export function rpcOption (): Option {
  return new Option('--rpc <url>', 'node JSON-RPC URL').env('CHORUS_RPC').default(DEFAULT_RPC_URL).argParser(rpcUrlOption)
}

/** --log-level, from CHORUS_LOG_LEVEL when not given. */
export function logLevelFlag (description: string, fallback?: string): Option {
  const o = new Option('--log-level <level>', description).env('CHORUS_LOG_LEVEL').argParser(logLevelOption)
  return fallback === undefined ? o : o.default(fallback)
}
