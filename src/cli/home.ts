/**
 * A node's home directory:
 *   genesis.json       the chain's genesis
 *   keys/NAME.json     keys (validator = this node's validator key)
 *   data/              LevelDB: state and blocks
 *   sign-state.json    what the validator signed at the current height (double-sign guard)
 *   consensus.wal      the validator's consensus inputs for the current height
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { type Genesis, type GenesisJson, parseGenesis } from '../chain/genesis.ts'
import { generateSecretKey } from '../crypto/keys.ts'
import { ErrorCode, fail } from '../protocol/errors.ts'
import { type KeyFile, saveKey } from './keystore.ts'

export const DEFAULT_HOME = '.chorus'

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

export interface HomePaths { home: string, genesis: string, data: string, signState: string, wal: string }

export function homePaths (home: string): HomePaths {
  const h = resolve(home)
  return { home: h, genesis: join(h, 'genesis.json'), data: join(h, 'data'), signState: join(h, 'sign-state.json'), wal: join(h, 'consensus.wal') }
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

export interface NetworkResult { out: string, chainId: string, homes: Array<{ home: string, validator: string }>, dev: KeyFile }

/**
 * Makes homes for an N-validator chain under `out`: node0 … node{N-1}, each with
 * its own validator key and the same genesis (every validator with equal power;
 * a funded `dev` key in node0). Refuses an `out` that already has node0.
 */
export async function initNetwork (out: string, validators: number, opts: { chainId?: string, blockTimeMs?: number } = {}): Promise<NetworkResult> {
  if (!Number.isInteger(validators) || validators < 1 || validators > 100) fail(ErrorCode.INVALID_FIELD, '--validators must be 1 to 100')
  const t = await devnetTemplate()
  const homes = Array.from({ length: validators }, (_, i) => homePaths(join(out, `node${i}`)))
  if (await hasGenesis(homes[0]!.home)) fail(ErrorCode.INVALID_FIELD, `${homes[0]!.genesis} already exists`)
  const keys: KeyFile[] = []
  for (const h of homes) {
    await mkdir(h.home, { recursive: true, mode: 0o700 })
    keys.push(await saveKey(h.home, 'validator', generateSecretKey(), t.addressPrefix))
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
  for (const h of homes) await writeFile(h.genesis, text, { mode: 0o644 })
  return { out: resolve(out), chainId: genesis.chainId, homes: homes.map((h, i) => ({ home: h.home, validator: keys[i]!.address })), dev }
}

export interface InitOptions {
  dev: boolean
  chainId?: string
  blockTimeMs?: number
  password?: string
}

export interface InitResult { paths: HomePaths, validator: KeyFile, dev: KeyFile | null, genesis: GenesisJson }

/**
 * Makes a home for a one-validator chain: the `validator` key, and with `dev`
 * also a funded `dev` key (both insecure, for development). Refuses a home
 * that already has a genesis.
 */
export async function initHome (home: string, opts: InitOptions): Promise<InitResult> {
  const paths = homePaths(home)
  if (await hasGenesis(home)) fail(ErrorCode.INVALID_FIELD, `${paths.genesis} already exists`)
  const t = await devnetTemplate()
  await mkdir(paths.home, { recursive: true, mode: 0o700 })
  const validator = await saveKey(paths.home, 'validator', generateSecretKey(), t.addressPrefix, opts.password)
  const dev = opts.dev ? await saveKey(paths.home, 'dev', generateSecretKey(), t.addressPrefix, opts.password) : null
  const genesis: GenesisJson = {
    chainId: opts.chainId ?? (opts.dev ? t.chainId : `chorus-${Date.now().toString(36)}`),
    genesisTimeMs: Date.now(),
    addressPrefix: t.addressPrefix,
    params: { ...t.params, ...(opts.blockTimeMs === undefined ? {} : { blockTimeMs: opts.blockTimeMs }) },
    accounts: [validator, ...(dev === null ? [] : [dev])].map((k) => ({ address: k.address, balance: t.accountBalance })),
    validators: [{ address: validator.address, power: t.validatorPower }]
  }
  parseGenesis(genesis) // the same checks a later start makes
  await writeFile(paths.genesis, JSON.stringify(genesis, null, 2) + '\n', { mode: 0o644 })
  return { paths, validator, dev, genesis }
}
