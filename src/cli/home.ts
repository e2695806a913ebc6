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
