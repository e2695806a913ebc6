/**
 * Builds the signature edge cases of "Taming the many EdDSAs" (Chalkias et al.)
 * from scratch: small-order and mixed-order keys and R, non-canonical encodings,
 * S ≥ L, S = 0, and signatures crafted by a key owner who knows the scalar.
 * Randomness comes from a seeded generator so a failure replays.
 */
import { ed25519 } from '@noble/curves/ed25519.js'
import { sha512 } from '../../src/crypto/hash.ts'
import { L, SMALL_ORDER_ENCODINGS } from '../../src/crypto/signature-rule.ts'
import { concatBytes, utf8 } from '../../src/crypto/bytes.ts'

const Point = ed25519.Point
type Point = InstanceType<typeof Point>
const P = Point.Fp.ORDER

export interface Case { label: string, publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array }

/** xorshift128+: deterministic bytes for a seed. */
export function rng (seed: number) {
  let s0 = BigInt(seed) * 0x9e3779b97f4a7c15n + 1n
  let s1 = BigInt(seed) ^ 0xdeadbeefcafebaben
  const mask = (1n << 64n) - 1n
  const next = (): bigint => {
    let x = s0; const y = s1
    s0 = y; x ^= (x << 23n) & mask; x ^= x >> 17n; x ^= y ^ (y >> 26n); s1 = x
    return (s0 + s1) & mask
  }
  return {
    bytes (n: number): Uint8Array {
      const out = new Uint8Array(n)
      for (let i = 0; i < n; i += 8) {
        let v = next()
        for (let j = i; j < Math.min(n, i + 8); j++) { out[j] = Number(v & 0xffn); v >>= 8n }
      }
      return out
    },
    int (n: number): number { return Number(next() % BigInt(n)) },
    scalar (): bigint { return (leToBig(this.bytes(64)) % (L - 1n)) + 1n }
  }
}
export type Rng = ReturnType<typeof rng>

export function leToBig (b: Uint8Array): bigint {
  let n = 0n
  for (let i = b.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(b[i]!)
  return n
}
export function bigToLe (n: bigint, len = 32): Uint8Array {
  const out = new Uint8Array(len)
  for (let i = 0; i < len; i++) { out[i] = Number(n & 0xffn); n >>= 8n }
  return out
}

const TORSION: Point[] = SMALL_ORDER_ENCODINGS.map((e) => Point.fromBytes(e, false))
const challenge = (R: Uint8Array, A: Uint8Array, M: Uint8Array): bigint => leToBig(sha512(R, A, M)) % L
const mod = (a: bigint, m: bigint): bigint => ((a % m) + m) % m

/** A signature by scalar `a` whose key bytes are `A` and nonce point is rB + T. */
function craft (a: bigint, A: Uint8Array, M: Uint8Array, r: bigint, T: Point = Point.ZERO): Uint8Array {
  const R = Point.BASE.multiply(r).add(T).toBytes()
  const S = mod(r + challenge(R, A, M) * a, L)
  return concatBytes(R, bigToLe(S))
}

/** All encodings of y = v + p that still fit in 255 bits: non-canonical aliases of small y. */
function nonCanonicalEncodings (): Uint8Array[] {
  const out: Uint8Array[] = []
  for (let d = 0n; d < 19n; d++) {
    for (const sign of [0, 0x80]) {
      const enc = bigToLe(P + d)
      enc[31] = (enc[31]! & 0x7f) | sign
      out.push(enc)
    }
  }
  // x = 0 with the sign bit set: y = 1 (identity) and y = p - 1 (order 2)
  for (const y of [1n, P - 1n]) { const enc = bigToLe(y); enc[31]! |= 0x80; out.push(enc) }
  return out
}

export function edgeCases (r: Rng): Case[] {
  const cases: Case[] = []
  const msg = utf8.encode('chorus edge case')
  const a = r.scalar()
  const A = Point.BASE.multiply(a)
  const Ab = A.toBytes()
  const valid = craft(a, Ab, msg, r.scalar())
  cases.push({ label: 'valid', publicKey: Ab, message: msg, signature: valid })

  // small-order A; with A = O any R = [S]B satisfies the equation, cofactored or not
  for (const [i, T] of TORSION.entries()) {
    const S = r.scalar()
    const Rb = Point.BASE.multiply(S).add(T.multiplyUnsafe(challenge(new Uint8Array(32), T.toBytes(), msg))).toBytes()
    cases.push({ label: `small-order A #${i}`, publicKey: T.toBytes(), message: msg, signature: concatBytes(Rb, bigToLe(S)) })
    for (let k = 0; k < 4; k++) {
      const Sk = r.scalar()
      const Rk = Point.BASE.multiply(Sk).toBytes()
      cases.push({ label: `small-order A #${i} R=[S]B`, publicKey: T.toBytes(), message: msg, signature: concatBytes(Rk, bigToLe(Sk)) })
    }
    // small-order R with a real key
    cases.push({ label: `small-order R #${i}`, publicKey: Ab, message: msg, signature: concatBytes(T.toBytes(), valid.subarray(32)) })
    cases.push({ label: `small-order R #${i}, S=0`, publicKey: Ab, message: msg, signature: concatBytes(T.toBytes(), new Uint8Array(32)) })
  }

  // mixed-order A = aB + T, signed by the owner of a; mixed-order R = rB + T
  for (const T of TORSION.slice(1)) {
    const Am = A.add(T).toBytes()
    for (let k = 0; k < 6; k++) {
      cases.push({ label: 'mixed-order A', publicKey: Am, message: r.bytes(16), signature: craft(a, Am, msg, r.scalar()) })
      const m = r.bytes(16)
      cases.push({ label: 'mixed-order R', publicKey: Ab, message: m, signature: craft(a, Ab, m, r.scalar(), T) })
      cases.push({ label: 'mixed-order A and R', publicKey: Am, message: m, signature: craft(a, Am, m, r.scalar(), T) })
    }
  }

  // non-canonical encodings of A and of R
  for (const enc of nonCanonicalEncodings()) {
    cases.push({ label: 'non-canonical A', publicKey: enc, message: msg, signature: valid })
    cases.push({ label: 'non-canonical R', publicKey: Ab, message: msg, signature: concatBytes(enc, valid.subarray(32)) })
  }
  // a non-canonical alias of a real R: the same point, other bytes
  for (let k = 0; k < 20; k++) {
    const rr = r.scalar()
    const Rpt = Point.BASE.multiply(rr)
    const y = Rpt.toAffine().y
    if (y + P < 1n << 255n) {
      const enc = bigToLe(y + P); enc[31]! |= Rpt.toBytes()[31]! & 0x80
      const S = mod(rr + challenge(enc, Ab, msg) * a, L)
      cases.push({ label: 'non-canonical alias of R', publicKey: Ab, message: msg, signature: concatBytes(enc, bigToLe(S)) })
    }
  }

  // S ≥ L: S + L, S + 2L ... and the extremes
  const S0 = leToBig(valid.subarray(32))
  for (const S of [S0 + L, S0 + 2n * L, S0 + 15n * L, L, (1n << 256n) - 1n, (1n << 253n)]) {
    if (S < 1n << 256n) cases.push({ label: 'S >= L', publicKey: Ab, message: msg, signature: concatBytes(valid.subarray(0, 32), bigToLe(S)) })
  }
  cases.push({ label: 'S = 0', publicKey: Ab, message: msg, signature: concatBytes(valid.subarray(0, 32), new Uint8Array(32)) })
  // S = 0 with R = -[k]A satisfies the equation only if the signer can predict k: use R = O-like identity
  cases.push({ label: 'S = 0, R = identity', publicKey: Ab, message: msg, signature: new Uint8Array(64).fill(0).map((_, i) => i === 0 ? 1 : 0) })
  return cases
}

/** Thousands of random, mutated and signer-crafted signatures. */
export function randomCases (r: Rng, count: number): Case[] {
  const cases: Case[] = []
  for (let i = 0; i < count; i++) {
    const a = r.scalar()
    const A = Point.BASE.multiply(a)
    const Ab = A.toBytes()
    const msg = r.bytes(1 + r.int(64))
    const T = TORSION[1 + r.int(7)]!
    switch (i % 6) {
      case 0: cases.push({ label: 'random valid', publicKey: Ab, message: msg, signature: craft(a, Ab, msg, r.scalar()) }); break
      case 1: {
        const sig = craft(a, Ab, msg, r.scalar())
        sig[r.int(64)]! ^= 1 << r.int(8)
        cases.push({ label: 'mutated signature', publicKey: Ab, message: msg, signature: sig }); break
      }
      case 2: {
        const pk = Ab.slice(); pk[r.int(32)]! ^= 1 << r.int(8)
        cases.push({ label: 'mutated key', publicKey: pk, message: msg, signature: craft(a, Ab, msg, r.scalar()) }); break
      }
      case 3: cases.push({ label: 'crafted R + torsion', publicKey: Ab, message: msg, signature: craft(a, Ab, msg, r.scalar(), T) }); break
      case 4: {
        const Am = A.add(T).toBytes()
        cases.push({ label: 'crafted key + torsion', publicKey: Am, message: msg, signature: craft(a, Am, msg, r.scalar()) }); break
      }
      default: cases.push({ label: 'random bytes', publicKey: r.bytes(32), message: msg, signature: r.bytes(64) })
    }
  }
  return cases
}
