/**
 * Signature checks when the signers outnumber the KeyObjects a thread keeps (crypto/verify.ts,
 * CheckedKeys): a social chain's active signers can be many more than 16,384. N distinct keys
 * (default 20,000) sign one message each; verified in order, twice, through the node's rule:
 *   1. every key new: checks 1–2 run (the subgroup check, ~650 µs in JS), then a KeyObject is made;
 *   2. again, after the first keys' KeyObjects were dropped: with the valid keys remembered
 *      (the node's CheckedKeys) and without (valid keys forgotten with their KeyObject, as before).
 * Beside one core's node:crypto verify rate with a cached KeyObject (verify-rate.ts), the baseline.
 *   npx tsx scripts/bench/cold-keys.ts [N]
 */
import { generateKeyPairSync, sign } from 'node:crypto'
import { CheckedKeys, verifyWith } from '../../src/crypto/verify.ts'
import { type VerifyItem, cachedKeyVerify, verifyRate } from './verify-rate.ts'

const N = Number(process.argv[2] ?? 20_000)
if (!(N >= 1)) throw new Error('usage: cold-keys.ts [N]')

const message = new TextEncoder().encode('a post from one of many signers')
const items: VerifyItem[] = Array.from({ length: N }, () => {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519')
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url')
  return { key: new Uint8Array(raw), msg: message, sig: new Uint8Array(sign(null, message, privateKey)) }
})

/** Verifications per second over every item once, in order; throws if a valid one is refused. */
function pass (keys: CheckedKeys): number {
  const t0 = performance.now()
  for (const x of items) if (!verifyWith(keys, x.key, x.msg, x.sig)) throw new Error('a valid signature was refused')
  return N / ((performance.now() - t0) / 1000)
}

const baseline = verifyRate('cached key', items, Math.min(N, 20_000), cachedKeyVerify(items))
const remembering = new CheckedKeys()
const forgetting = new CheckedKeys(undefined, 1)
const first = pass(remembering)
pass(forgetting)
const again = pass(remembering)
const againForgetting = pass(forgetting)
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US')
console.log(`${fmt(N)} distinct signers, one signature each (KeyObjects kept: 16,384)`)
console.log(`cached KeyObject, node:crypto (baseline)        ${fmt(baseline)} verify/s`)
console.log(`first sight of every key (checks 1–2 each)      ${fmt(first)} verify/s (${remembering.subgroupChecks.toLocaleString('en-US')} subgroup checks)`)
console.log(`again, valid keys remembered (the node)         ${fmt(again)} verify/s (${remembering.subgroupChecks.toLocaleString('en-US')} subgroup checks in all)`)
console.log(`again, valid keys forgotten with the KeyObject  ${fmt(againForgetting)} verify/s (${forgetting.subgroupChecks.toLocaleString('en-US')} subgroup checks in all)`)
