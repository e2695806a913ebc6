/**
 * Signature verification throughput: the node's fast path against the noble
 * reference and stock verifiers, in the same run.
 *   npx tsx scripts/bench/verify.ts [count]
 */
import { verify as opensslVerify } from 'node:crypto'
import { ed25519 } from '@noble/curves/ed25519.js'
import { verifyReference } from '../../src/crypto/signature-rule.ts'
import { verifySignature } from '../../src/crypto/verify.ts'
import { type VerifyItem, cachedKeyVerify, spki, verifyItems, verifyRate } from './verify-rate.ts'

const count = Number(process.argv[2] ?? 2000)
const items = verifyItems(count)

function bench (name: string, n: number, f: (x: VerifyItem) => boolean): number {
  const perSec = verifyRate(name, items, n, f)
  console.log(`${name.padEnd(36)} ${perSec.toFixed(0).padStart(8)} verifications/s`)
  return perSec
}

const bare = bench('OpenSSL, cached KeyObject, no rule', count, cachedKeyVerify(items))
const fast = bench('chorus fast path (cached keys)', count, (x) => verifySignature(x.key, x.msg, x.sig))
const stock = bench('stock crypto.verify (key per call)', count, (x) => opensslVerify(null, x.msg, spki(x.key), x.sig))
const small = Math.min(count, 400)
const ref = bench('chorus reference (noble Point)', small, (x) => verifyReference(x.key, x.msg, x.sig))
const noble = bench('stock noble ed25519.verify', small, (x) => ed25519.verify(x.sig, x.msg, x.key))
console.log(`fast path / bare OpenSSL: ${(fast / bare).toFixed(2)}x (the rule's own cost)`)
console.log(`fast path / reference: ${(fast / ref).toFixed(1)}x   fast path / stock OpenSSL: ${(fast / stock).toFixed(2)}x   fast path / stock noble: ${(fast / noble).toFixed(1)}x`)
