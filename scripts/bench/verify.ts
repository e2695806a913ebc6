/**
 * Signature verification throughput: the node's fast path against the noble
 * reference and stock verifiers, in the same run.
 *   npx tsx scripts/bench/verify.ts [count]
 */
import { verify as opensslVerify, createPublicKey } from 'node:crypto'
import { ed25519 } from '@noble/curves/ed25519.js'
import { Signer, post } from '../../src/client/transactions.ts'
import { signingBytes } from '../../src/crypto/hash.ts'
import { verifyReference } from '../../src/crypto/signature-rule.ts'
import { verifySignature } from '../../src/crypto/verify.ts'

const count = Number(process.argv[2] ?? 2000)
const signers = Array.from({ length: 50 }, () => Signer.generate())
const items = Array.from({ length: count }, (_, i) => {
  const tx = signers[i % signers.length]!.sign({ chainId: 'bench', nonce: i, body: post(`post number ${i}`) }).tx
  return { key: tx.unsigned.sender, msg: signingBytes('tx', tx.unsignedBytes), sig: tx.signature }
})

function bench (name: string, n: number, f: (x: typeof items[number]) => boolean): number {
  for (let i = 0; i < Math.min(n, 200); i++) f(items[i]!) // warm up (JIT, key caches)
  const t0 = performance.now()
  let ok = 0
  for (let i = 0; i < n; i++) if (f(items[i % items.length]!)) ok++
  const perSec = n / ((performance.now() - t0) / 1000)
  if (ok !== n) throw new Error(`${name}: ${n - ok} valid signatures rejected`)
  console.log(`${name.padEnd(36)} ${perSec.toFixed(0).padStart(8)} verifications/s`)
  return perSec
}

function spki (k: Uint8Array) { return createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), k]), format: 'der', type: 'spki' }) }
const keyObjects = new Map(signers.map((s) => [s.publicKey, spki(s.publicKey)]))
const bare = bench('OpenSSL, cached KeyObject, no rule', count, (x) => opensslVerify(null, x.msg, keyObjects.get(x.key)!, x.sig))
const fast = bench('chorus fast path (cached keys)', count, (x) => verifySignature(x.key, x.msg, x.sig))
const stock = bench('stock crypto.verify (key per call)', count, (x) => opensslVerify(null, x.msg, spki(x.key), x.sig))
const small = Math.min(count, 400)
const ref = bench('chorus reference (noble Point)', small, (x) => verifyReference(x.key, x.msg, x.sig))
const noble = bench('stock noble ed25519.verify', small, (x) => ed25519.verify(x.sig, x.msg, x.key))
console.log(`fast path / bare OpenSSL: ${(fast / bare).toFixed(2)}x (the rule's own cost)`)
console.log(`fast path / reference: ${(fast / ref).toFixed(1)}x   fast path / stock OpenSSL: ${(fast / stock).toFixed(2)}x   fast path / stock noble: ${(fast / noble).toFixed(1)}x`)
