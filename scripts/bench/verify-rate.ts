/**
 * Signature verification rates in this process (one core): the items verify.ts and
 * load.ts measure on, and the baseline they compare against, OpenSSL's Ed25519 verify
 * through node:crypto with the public key's KeyObject made once and cached.
 */
import { type KeyObject, createPublicKey, verify as opensslVerify } from 'node:crypto'
import { Signer, post } from '../../src/client/transactions.ts'
import { signingBytes } from '../../src/crypto/hash.ts'

export interface VerifyItem { key: Uint8Array, msg: Uint8Array, sig: Uint8Array }

/** `count` signed post txs from 50 keys: (public key, signing bytes, signature). */
export function verifyItems (count: number): VerifyItem[] {
  const signers = Array.from({ length: 50 }, () => Signer.generate())
  return Array.from({ length: count }, (_, i) => {
    const tx = signers[i % signers.length]!.sign({ chainId: 'bench', nonce: i, body: post(`post number ${i}`) }).tx
    return { key: tx.unsigned.sender, msg: signingBytes('tx', tx.unsignedBytes), sig: tx.signature }
  })
}

/** Verifications per second of `f` over `n` items (after a warm-up of up to 200); throws if any valid one is refused. */
export function verifyRate (name: string, items: VerifyItem[], n: number, f: (x: VerifyItem) => boolean): number {
  for (let i = 0; i < Math.min(n, 200); i++) f(items[i % items.length]!) // warm up (JIT, key caches)
  const t0 = performance.now()
  let ok = 0
  for (let i = 0; i < n; i++) if (f(items[i % items.length]!)) ok++
  const perSec = n / ((performance.now() - t0) / 1000)
  if (ok !== n) throw new Error(`${name}: ${n - ok} valid signatures rejected`)
  return perSec
}

export function spki (k: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), k]), format: 'der', type: 'spki' })
}

/** One core's node:crypto Ed25519 verify rate with a cached KeyObject (no rule on top): the throughput baseline. */
export function cachedKeyVerify (items: VerifyItem[]): (x: VerifyItem) => boolean {
  const keyObjects = new Map<Uint8Array, KeyObject>()
  for (const x of items) if (!keyObjects.has(x.key)) keyObjects.set(x.key, spki(x.key))
  return (x) => opensslVerify(null, x.msg, keyObjects.get(x.key)!, x.sig)
}
