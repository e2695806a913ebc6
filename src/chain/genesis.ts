/**
 * Genesis: the chain's id, parameters, first balances and first validators.
 * The file is JSON (amounts as decimal strings); its hash is over a canonical
 * encoding, so whitespace and key order in the file do not matter.
 */
import { encodeCanonical } from '../codec/canonical.ts'
import { decodeAddress, DEFAULT_PREFIX } from '../crypto/address.ts'
import { toHex } from '../crypto/bytes.ts'
import { sha256 } from '../crypto/hash.ts'
import { ErrorCode, fail } from '../protocol/errors.ts'
import { type ChainParams, DEFAULT_PARAMS } from '../protocol/params.ts'
import type { Hash, PublicKey } from '../protocol/types.ts'
import { ValidatorSet } from '../protocol/validator-set.ts'
import { Bucket } from '../state/buckets.ts'
import { accountKey } from '../state/keys.ts'
import { emptyAccount, encodeAccount, encodeAmount } from '../state/records.ts'
import type { Write } from '../state/view.ts'

export interface Genesis {
  chainId: string
  genesisTimeMs: number
  addressPrefix: string
  params: ChainParams
  accounts: Array<{ address: PublicKey, balance: bigint }>
  validators: Array<{ address: PublicKey, power: bigint }>
}

/** The JSON form of a genesis file. */
export interface GenesisJson {
  chainId: string
  genesisTimeMs: number
  addressPrefix?: string
  params?: Partial<Record<keyof ChainParams, number | string>>
  accounts: Array<{ address: string, balance: string }>
  validators: Array<{ address: string, power: string }>
}

const CHAIN_ID = /^[a-z0-9][a-z0-9-]{0,48}$/

function bad (detail: string): never {
  return fail(ErrorCode.INVALID_FIELD, `genesis: ${detail}`)
}

function amount (s: unknown, what: string): bigint {
  if (typeof s !== 'string' || !/^[0-9]{1,20}$/.test(s)) bad(`${what} must be a decimal string`)
  const n = BigInt(s as string)
  if (n >= 1n << 64n) bad(`${what} is above 2^64-1`)
  return n
}

/** Parses and checks a genesis document; throws INVALID_FIELD naming what is wrong. */
export function parseGenesis (json: unknown): Genesis {
  const g = json as GenesisJson
  if (typeof g !== 'object' || g === null) bad('not an object')
  if (typeof g.chainId !== 'string' || !CHAIN_ID.test(g.chainId)) bad('chainId must match [a-z0-9][a-z0-9-]*')
  if (!Number.isSafeInteger(g.genesisTimeMs) || g.genesisTimeMs < 0) bad('genesisTimeMs must be a non-negative integer')
  const prefix = g.addressPrefix ?? DEFAULT_PREFIX
  if (!/^[a-z]{1,16}$/.test(prefix)) bad('addressPrefix must be 1-16 lowercase letters')
  const params: ChainParams = { ...DEFAULT_PARAMS }
  for (const [k, v] of Object.entries(g.params ?? {})) {
    if (!(k in DEFAULT_PARAMS)) bad(`unknown param ${k}`)
    if (k === 'minFeePerByte' || k === 'minValidatorStake') params[k] = amount(String(v), k)
    else {
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) bad(`param ${k} must be a non-negative integer`)
      ;(params as unknown as Record<string, number>)[k] = v as number
    }
  }
  if (params.unbondingBlocks < 1 || params.epochBlocks < 1 || params.maxValidators < 1) bad('epochBlocks, unbondingBlocks and maxValidators must be at least 1')
  const address = (s: unknown, what: string): PublicKey => (typeof s === 'string' ? decodeAddress(s, prefix) : null) ?? bad(`${what} is not a ${prefix} address`)
  if (!Array.isArray(g.accounts) || !Array.isArray(g.validators)) bad('accounts and validators must be arrays')
  if (g.validators.length === 0) bad('at least one validator is needed')
  const validators = g.validators.map((v, i) => ({ address: address(v.address, `validators[${i}].address`), power: amount(v.power, `validators[${i}].power`) }))
  if (validators.some((v) => v.power === 0n)) bad('a validator needs power above 0')
  return {
    chainId: g.chainId,
    genesisTimeMs: g.genesisTimeMs,
    addressPrefix: prefix,
    params,
    accounts: g.accounts.map((a, i) => ({ address: address(a.address, `accounts[${i}].address`), balance: amount(a.balance, `accounts[${i}].balance`) })),
    validators
  }
}

export function genesisHash (g: Genesis): Hash {
  const p = g.params
  return sha256(encodeCanonical([
    g.chainId, g.genesisTimeMs, g.addressPrefix,
    [p.blockTimeMs, p.maxTxBytes, p.maxBlockBytes, p.maxBlockTxs, p.maxPostBytes, p.maxBioBytes, p.maxUrlBytes, p.maxDisplayNameBytes, p.minFeePerByte, p.epochBlocks, p.unbondingBlocks, p.maxValidators, p.minValidatorStake],
    g.accounts.map((a) => [a.address, a.balance]),
    g.validators.map((v) => [v.address, v.power])
  ]))
}

export function genesisValidators (g: Genesis): ValidatorSet {
  return ValidatorSet.fromPowers(g.validators)
}

/** The state genesis writes: balances, and each validator's stake (and its staker entry). */
export function genesisWrites (g: Genesis): Write[] {
  const accounts = new Map<string, { address: PublicKey, balance: bigint, stake: bigint }>()
  const entry = (address: PublicKey) => {
    const k = toHex(address)
    let e = accounts.get(k)
    if (e === undefined) { e = { address, balance: 0n, stake: 0n }; accounts.set(k, e) }
    return e
  }
  for (const a of g.accounts) entry(a.address).balance += a.balance
  for (const v of g.validators) entry(v.address).stake += v.power
  return [...accounts.values()].flatMap((e): Write[] => [
    { bucket: Bucket.account, key: accountKey(e.address), value: encodeAccount({ ...emptyAccount(), balance: e.balance, stake: e.stake }) },
    ...(e.stake > 0n ? [{ bucket: Bucket.staker, key: e.address, value: encodeAmount(e.stake) }] : [])
  ])
}
