/** Shared option parsers and option sets. */
import { InvalidArgumentError } from 'commander'

export function intOption (value: string): number {
  if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(Number(value))) throw new InvalidArgumentError('expected a non-negative integer')
  return Number(value)
}

export function amountOption (value: string): bigint {
  if (!/^[0-9]{1,20}$/.test(value)) throw new InvalidArgumentError('expected a whole number of coins')
  return BigInt(value)
}

export const DEFAULT_RPC_URL = 'http://127.0.0.1:26657'
