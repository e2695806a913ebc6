/** Shared option parsers and option sets. */
import { InvalidArgumentError } from 'commander'
import { multiaddrProblem, p2pHostProblem, portProblem } from '../config.ts'

export function intOption (value: string): number {
  if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(Number(value))) throw new InvalidArgumentError('expected a non-negative integer')
  return Number(value)
}

/** A TCP port, 0-65535 (0: any free port). */
export function portOption (value: string): number {
  const n = /^[0-9]{1,5}$/.test(value) ? Number(value) : NaN
  if (portProblem(n) !== null) throw new InvalidArgumentError('expected a port from 0 to 65535 (0: any free port)')
  return n
}

/** A comma-separated list of multiaddrs; the option may also be repeated. "" gives an empty list. */
function multiaddrsOption (needPeer: boolean) {
  return (value: string, previous: string[] | undefined): string[] => {
    const list = value.split(',').map((s) => s.trim()).filter((s) => s !== '')
    for (const a of list) {
      const problem = multiaddrProblem(a, needPeer)
      if (problem !== null) throw new InvalidArgumentError(`${a} ${problem}`)
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

export function amountOption (value: string): bigint {
  if (!/^[0-9]{1,20}$/.test(value)) throw new InvalidArgumentError('expected a whole number of coins')
  return BigInt(value)
}

export const DEFAULT_RPC_URL = 'http://127.0.0.1:26657'

/** A libp2p listen IP (v4 or v6 literal). */
export function p2pHostOption (value: string): string {
  const problem = p2pHostProblem(value)
  if (problem !== null) throw new InvalidArgumentError(problem)
  return value
}
