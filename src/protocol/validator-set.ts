/**
 * The validator set and CometBFT's proposer selection (weighted round-robin by
 * proposer priority). Deterministic and pure: every node computes the same
 * proposer for every (height, round) from the same set.
 *
 * Each step: every priority += power; the highest (ties: lowest address)
 * proposes and pays back the total power. Priorities are re-centred around 0
 * and the spread kept within 2 × total power, as CometBFT does, so a validator
 * that joins late neither waits forever nor proposes a long run.
 */
import { encodeCanonical } from '../codec/canonical.ts'
import { asAmount, asArray, asBytes, asInt, asList } from '../codec/schema.ts'
import { compareBytes, equalBytes } from '../crypto/bytes.ts'
import { sha256 } from '../crypto/hash.ts'
import { decodeCanonical } from '../codec/canonical.ts'
import type { Hash, PublicKey } from './types.ts'

export interface Validator {
  address: PublicKey
  power: bigint
  priority: bigint
}

export class ValidatorSet {
  /** Sorted by address. */
  readonly validators: readonly Validator[]
  readonly totalPower: bigint

  constructor (validators: readonly Validator[]) {
    this.validators = [...validators].sort((a, b) => compareBytes(a.address, b.address)).map((v) => ({ ...v }))
    this.totalPower = this.validators.reduce((s, v) => s + v.power, 0n)
  }

  static fromPowers (entries: ReadonlyArray<{ address: PublicKey, power: bigint }>): ValidatorSet {
    return new ValidatorSet(entries.map((e) => ({ address: e.address, power: e.power, priority: 0n })))
  }

  get size (): number { return this.validators.length }

  indexOf (address: PublicKey): number {
    return this.validators.findIndex((v) => equalBytes(v.address, address))
  }

  powerOf (address: PublicKey): bigint {
    const i = this.indexOf(address)
    return i < 0 ? 0n : this.validators[i]!.power
  }

  /** Commits to addresses and powers (not priorities): the header's validatorsHash. */
  hash (): Hash {
    return sha256(encodeCanonical(this.validators.map((v) => [v.address, v.power])))
  }

  /**
   * The set for a new epoch: the stakers with the most stake (ties: lower address),
   * at most `max`, each with at least `min`. Validators that stay keep their
   * priority; newcomers start at −1.125 × the total power, as in CometBFT, so a
   * join does not hand them the next proposal. Null when no staker qualifies
   * (the caller then keeps the old set: a chain with no validators would halt).
   */
  nextEpoch (stakers: ReadonlyArray<{ address: PublicKey, stake: bigint }>, max: number, min: bigint): ValidatorSet | null {
    const chosen = stakers.filter((s) => s.stake >= min && s.stake > 0n)
      .sort((a, b) => (a.stake === b.stake ? compareBytes(a.address, b.address) : a.stake > b.stake ? -1 : 1))
      .slice(0, max)
    if (chosen.length === 0) return null
    const total = chosen.reduce((t, s) => t + s.stake, 0n)
    return new ValidatorSet(chosen.map((s) => {
      const i = this.indexOf(s.address)
      return { address: s.address, power: s.stake, priority: i >= 0 ? this.validators[i]!.priority : -(total * 9n) / 8n }
    }))
  }

  /** One proposer round: the set after it, and who proposed in it. */
  step (): { next: ValidatorSet, proposer: PublicKey } {
    const next = new ValidatorSet(this.validators)
    const vs = next.validators as Validator[]
    rescale(vs, 2n * next.totalPower)
    centre(vs)
    for (const v of vs) v.priority += v.power
    const p = proposerOf(vs)
    p.priority -= next.totalPower
    return { next, proposer: p.address }
  }

  /** The set after `rounds` proposer rounds (a height committed at round r advances r + 1). */
  advance (rounds: number): ValidatorSet {
    let s: ValidatorSet = this
    for (let i = 0; i < rounds; i++) s = s.step().next
    return s
  }

  /** The proposer of `round` at the height this set is for. */
  proposerAt (round: number): PublicKey {
    return this.advance(round).step().proposer
  }

  encode (): Uint8Array {
    return encodeCanonical(this.validators.map((v) => [v.address, v.power, v.priority]))
  }

  static decode (bytes: Uint8Array): ValidatorSet {
    return new ValidatorSet(asList(decodeCanonical(bytes, 1 << 20), 'validators', 10_000).map((e) => {
      const [address, power, priority] = asArray(e, 3, 'validator')
      return { address: asBytes(address!, 'address', 32), power: asAmount(power!, 'power'), priority: BigInt(typeof priority === 'bigint' ? priority : asInt(priority!, 'priority')) }
    }))
  }
}

function proposerOf (vs: Validator[]): Validator {
  let best = vs[0]!
  for (const v of vs) if (v.priority > best.priority) best = v // sorted by address: first max wins ties
  return best
}

function rescale (vs: Validator[], maxSpread: bigint): void {
  let min = vs[0]!.priority
  let max = min
  for (const v of vs) { if (v.priority < min) min = v.priority; if (v.priority > max) max = v.priority }
  const spread = max - min
  if (spread <= maxSpread || maxSpread === 0n) return
  const ratio = (spread + maxSpread - 1n) / maxSpread
  for (const v of vs) v.priority /= ratio
}

function centre (vs: Validator[]): void {
  const sum = vs.reduce((s, v) => s + v.priority, 0n)
  const n = BigInt(vs.length)
  // floor division, as Go's big.Int Div does for the average
  const avg = sum >= 0n ? sum / n : -((-sum + n - 1n) / n)
  for (const v of vs) v.priority -= avg
}
