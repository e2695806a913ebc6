/**
 * A node's home directory:
 *   genesis.json       the chain's genesis
 *   keys/NAME.json     keys (validator = this node's validator key)
 *   data/              LevelDB: state and blocks
 *   consensus.wal      the validator's consensus log: inputs and every signature (the double-sign guard)
 *   sign-state.json    the guard's checkpoint, written when the log is compacted
 *   node-key.json      the libp2p identity (peer id), mode 0600 (src/p2p/identity.ts)
 *   config.json        where the node listens and whom it dials (src/cli/config.ts)
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
// chain/genesis.ts and p2p/identity.ts are imported where used, so `chorus --help` and commands that only name a home load neither (#8)
import type { Genesis, GenesisJson } from '../chain/genesis.ts'
import { generateSecretKey } from '../crypto/keys.ts'
import { ChorusError, ErrorCode, fail } from '../protocol/errors.ts'
import { CONFIG_FILE, DEFAULT_P2P_PORT, DEFAULT_RPC_PORT, type FullConfig, NODE_KEY_FILE, defaultConfig, peerMultiaddr, readConfig, writeConfig } from './config.ts'
import { type KeyFile, saveKey } from './keystore.ts'

/** genesis/devnet.json: the template `init` fills in (chain id, params, balances). */
interface DevnetTemplate {
  chainId: string
  addressPrefix: string
  params: NonNullable<GenesisJson['params']>
  validatorPower: string
  accountBalance: string
}

async function devnetTemplate (): Promise<DevnetTemplate> {
  return JSON.parse(await readFile(new URL('../../genesis/devnet.json', import.meta.url), 'utf8')) as DevnetTemplate
}

export interface HomePaths { home: string, genesis: string, data: string, signState: string, wal: string, nodeKey: string, config: string }

export function homePaths (home: string): HomePaths {
  const h = resolve(home)
  return {
    home: h, genesis: join(h, 'genesis.json'), data: join(h, 'data'), signState: join(h, 'sign-state.json'), wal: join(h, 'consensus.wal'),
    nodeKey: join(h, NODE_KEY_FILE), config: join(h, CONFIG_FILE)
  }
}

export async function hasGenesis (home: string): Promise<boolean> {
  try {
    await readFile(homePaths(home).genesis)
    return true
  } catch {
    return false
  }
}

export async function loadGenesis (home: string): Promise<Genesis> {
  const { parseGenesis } = await import('../chain/genesis.ts')
  const path = homePaths(home).genesis
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch {
    return fail(ErrorCode.NOT_FOUND, `no genesis at ${path}: run 'chorus init --home ${home}' (or 'chorus start --dev')`)
  }
  try {
    return parseGenesis(JSON.parse(text))
  } catch (e) {
    if (e instanceof SyntaxError) fail(ErrorCode.MALFORMED, `${path} is not valid JSON`)
    throw e
  }
}

/** One home of a network made by initNetwork. */
export interface NetworkHome {
  /** node0, node1, … */
  name: string
  home: string
  /** The validator's address; null for a full node (no validator key). */
  validator: string | null
  peerId: string
  /** JSON-RPC URL. */
  rpc: string
  /** The node's full libp2p multiaddr, as the other nodes' bootstrap lists hold it. */
  p2p: string
}

export interface NetworkResult { out: string, chainId: string, homes: NetworkHome[], dev: KeyFile }

export interface NetworkOptions {
  chainId?: string
  blockTimeMs?: number
  /** Homes without a validator key after the validators' (default 0). */
  fullNodes?: number
  /** Node i serves JSON-RPC on rpcPort + i (default 26657). */
  rpcPort?: number
  /** Node i listens for peers on p2pPort + i (default 36656). */
  p2pPort?: number
}

const LOOPBACK = '127.0.0.1'

/** Checks that `count` ports from `base` are all real, non-zero ports. */
function checkPortRange (base: number, count: number, flag: string): void {
  if (!Number.isInteger(base) || base < 1 || base + count - 1 > 65535) fail(ErrorCode.INVALID_FIELD, `${flag} must leave room for ${count} ports from it within 1-65535 (got ${base})`)
}

/**
 * Makes homes for an N-validator chain under `out`: node0 … node{N-1}, each with
 * its own validator key and the same genesis (every validator with equal power;
 * a funded `dev` key in node0), then `fullNodes` homes node{N} … with the genesis
 * and no validator key. Every home gets a node key and a config.json: node i on
 * 127.0.0.1, RPC port rpcPort + i, P2P port p2pPort + i, and every other node's
 * full multiaddr as a bootstrap peer. Refuses an `out` where one of those homes
 * already has a genesis.
 */
export async function initNetwork (out: string, validators: number, opts: NetworkOptions = {}): Promise<NetworkResult> {
  const [{ parseGenesis }, { loadOrCreateNodeKey }] = await Promise.all([import('../chain/genesis.ts'), import('../p2p/identity.ts')])
  if (!Number.isInteger(validators) || validators < 1 || validators > 100) fail(ErrorCode.INVALID_FIELD, '--validators must be 1 to 100')
  const fullNodes = opts.fullNodes ?? 0
  if (!Number.isInteger(fullNodes) || fullNodes < 0 || fullNodes > 100) fail(ErrorCode.INVALID_FIELD, '--full-nodes must be 0 to 100')
  const total = validators + fullNodes
  const rpcBase = opts.rpcPort ?? DEFAULT_RPC_PORT
  const p2pBase = opts.p2pPort ?? DEFAULT_P2P_PORT
  checkPortRange(rpcBase, total, '--rpc-port')
  checkPortRange(p2pBase, total, '--p2p-port')
  if (rpcBase < p2pBase + total && p2pBase < rpcBase + total) fail(ErrorCode.INVALID_FIELD, `the RPC ports ${rpcBase}-${rpcBase + total - 1} and P2P ports ${p2pBase}-${p2pBase + total - 1} overlap`)
  const t = await devnetTemplate()
  const homes = Array.from({ length: total }, (_, i) => homePaths(join(out, `node${i}`)))
  for (const h of homes) if (await hasGenesis(h.home)) fail(ErrorCode.INVALID_FIELD, `${h.genesis} already exists`)
  const keys: KeyFile[] = []
  const peerIds: string[] = []
  for (const [i, h] of homes.entries()) {
    await mkdir(h.home, { recursive: true, mode: 0o700 })
    if (i < validators) keys.push(await saveKey(h.home, 'validator', generateSecretKey(), t.addressPrefix))
    peerIds.push((await loadOrCreateNodeKey(h.nodeKey)).peerId)
  }
  const dev = await saveKey(homes[0]!.home, 'dev', generateSecretKey(), t.addressPrefix)
  const genesis: GenesisJson = {
    chainId: opts.chainId ?? `chorus-net-${Date.now().toString(36)}`,
    genesisTimeMs: Date.now(),
    addressPrefix: t.addressPrefix,
    params: { ...t.params, ...(opts.blockTimeMs === undefined ? {} : { blockTimeMs: opts.blockTimeMs }) },
    accounts: [dev, ...keys].map((k) => ({ address: k.address, balance: t.accountBalance })),
    validators: keys.map((k) => ({ address: k.address, power: t.validatorPower }))
  }
  parseGenesis(genesis)
  const text = JSON.stringify(genesis, null, 2) + '\n'
  const addrs = homes.map((_, i) => peerMultiaddr(LOOPBACK, p2pBase + i, peerIds[i]!))
  for (const [i, h] of homes.entries()) {
    await writeFile(h.genesis, text, { mode: 0o644 })
    await writeConfig(h.home, defaultConfig({
      rpcHost: LOOPBACK, rpcPort: rpcBase + i, p2pHost: LOOPBACK, p2pPort: p2pBase + i,
      bootstrap: addrs.filter((_, j) => j !== i)
    }))
  }
  return {
    out: resolve(out),
    chainId: genesis.chainId,
    homes: homes.map((h, i) => ({
      name: `node${i}`, home: h.home, validator: keys[i]?.address ?? null, peerId: peerIds[i]!,
      rpc: `http://${LOOPBACK}:${rpcBase + i}`, p2p: addrs[i]!
    })),
    dev
  }
}

export interface JoinOptions { rpcPort?: number, p2pPort?: number, bootstrap?: string[] }

export interface JoinResult { paths: HomePaths, chainId: string, peerId: string, config: FullConfig }

/**
 * Makes a home that joins an existing chain: a copy of the genesis in
 * `genesisFile` (checked as `start` would), a node key, a config.json with the
 * defaults (or the ports and bootstrap peers given) and no validator key, so it
 * starts as a full node. Refuses a home that already has a genesis.
 */
export async function joinNetwork (home: string, genesisFile: string, opts: JoinOptions = {}): Promise<JoinResult> {
  const [{ parseGenesis }, { loadOrCreateNodeKey }] = await Promise.all([import('../chain/genesis.ts'), import('../p2p/identity.ts')])
  const paths = homePaths(home)
  if (await hasGenesis(home)) fail(ErrorCode.INVALID_FIELD, `${paths.genesis} already exists`)
  let text: string
  try {
    text = await readFile(genesisFile, 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') fail(ErrorCode.NOT_FOUND, `no genesis file at ${genesisFile}`)
    throw e
  }
  let genesis: Genesis
  try {
    genesis = parseGenesis(JSON.parse(text))
  } catch (e) {
    if (e instanceof SyntaxError) fail(ErrorCode.MALFORMED, `${genesisFile} is not valid JSON`)
    if (e instanceof ChorusError) fail(e.code, `${genesisFile}: ${e.detail}`)
    throw e
  }
  const config = defaultConfig({ rpcPort: opts.rpcPort, p2pPort: opts.p2pPort, bootstrap: opts.bootstrap })
  await mkdir(paths.home, { recursive: true, mode: 0o700 })
  const { peerId } = await loadOrCreateNodeKey(paths.nodeKey)
  await writeConfig(paths.home, config)
  await writeFile(paths.genesis, text, { mode: 0o644 })
  return { paths, chainId: genesis.chainId, peerId, config }
}

export interface InitOptions {
  dev: boolean
  chainId?: string
  blockTimeMs?: number
  password?: string
}

export interface InitResult { paths: HomePaths, validator: KeyFile, dev: KeyFile | null, genesis: GenesisJson, peerId: string }

/**
 * Makes a home for a one-validator chain: the `validator` key, and with `dev`
 * also a funded `dev` key (both insecure, for development), a node key
 * (kept if the home has one) and a config.json with the default addresses, to
 * edit (kept if the home has one). Refuses a home that already has a genesis.
 */
export async function initHome (home: string, opts: InitOptions): Promise<InitResult> {
  const [{ parseGenesis }, { loadOrCreateNodeKey }] = await Promise.all([import('../chain/genesis.ts'), import('../p2p/identity.ts')])
  const paths = homePaths(home)
  if (await hasGenesis(home)) fail(ErrorCode.INVALID_FIELD, `${paths.genesis} already exists`)
  const t = await devnetTemplate()
  await mkdir(paths.home, { recursive: true, mode: 0o700 })
  const validator = await saveKey(paths.home, 'validator', generateSecretKey(), t.addressPrefix, opts.password)
  const dev = opts.dev ? await saveKey(paths.home, 'dev', generateSecretKey(), t.addressPrefix, opts.password) : null
  const { peerId } = await loadOrCreateNodeKey(paths.nodeKey)
  const genesis: GenesisJson = {
    chainId: opts.chainId ?? (opts.dev ? t.chainId : `chorus-${Date.now().toString(36)}`),
    genesisTimeMs: Date.now(),
    addressPrefix: t.addressPrefix,
    params: { ...t.params, ...(opts.blockTimeMs === undefined ? {} : { blockTimeMs: opts.blockTimeMs }) },
    accounts: [validator, ...(dev === null ? [] : [dev])].map((k) => ({ address: k.address, balance: t.accountBalance })),
    validators: [{ address: validator.address, power: t.validatorPower }]
  }
  parseGenesis(genesis) // the same checks a later start makes
  if (await readConfig(paths.home) === null) await writeConfig(paths.home, defaultConfig())
  await writeFile(paths.genesis, JSON.stringify(genesis, null, 2) + '\n', { mode: 0o644 })
  return { paths, validator, dev, genesis, peerId }
}
