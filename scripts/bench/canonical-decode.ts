/**
 * Canonical decode of a signed tx, as the node does it for every tx it is sent (two nested
 * decodes: the signed pair, then the unsigned bytes inside): the one-pass reader in
 * src/codec/canonical.ts against the decoder it replaced (test/support/canonical-reference.ts:
 * depth walk, msgpackr, normalize, re-encode, compare), alternating rounds in the same run.
 *   npx tsx scripts/bench/canonical-decode.ts [decodes per round] [rounds]
 */
import { post, Signer } from '../../src/client/transactions.ts'
import { type Value, decodeCanonical } from '../../src/codec/canonical.ts'
import { decodeCanonicalReference } from '../../test/support/canonical-reference.ts'

const n = Number(process.argv[2] ?? 100_000)
const rounds = Number(process.argv[3] ?? 5)

const signer = Signer.generate()
const tx = signer.sign({ chainId: 'chorus-bench', nonce: 41, body: post('A post of a realistic length: a sentence or two, one link, about 200 bytes signed. #chorus') }).tx
const LIMIT = 64 * 1024

type Decode = (bytes: Uint8Array, maxBytes: number) => Value

/** Both layers of the signed tx; returns something derived so the work is not dropped. */
function decodeTx (decode: Decode): number {
  const [unsigned] = decode(tx.bytes, LIMIT) as [Uint8Array, Uint8Array]
  const fields = decode(unsigned, LIMIT) as Value[]
  return fields.length
}

/** ns per signed tx over `n` decodes. */
function time (decode: Decode): number {
  let sink = 0
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < n; i++) sink += decodeTx(decode)
  const ns = Number(process.hrtime.bigint() - t0) / n
  if (sink !== n * 7) throw new Error('decoded something else')
  return ns
}

console.log(`signed post: ${tx.bytes.length} bytes (unsigned ${tx.unsignedBytes.length}); ${n} decodes × ${rounds} rounds, alternating`)
time(decodeCanonical); time(decodeCanonicalReference) // warm-up: both optimised before anything counts
const fresh: number[] = []
const ref: number[] = []
for (let r = 0; r < rounds; r++) {
  fresh.push(time(decodeCanonical))
  ref.push(time(decodeCanonicalReference))
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!
const show = (xs: number[]): string => xs.map((x) => x.toFixed(0)).join(' ')
const line = (name: string, xs: number[]): string =>
  `${name.padEnd(16)} ${(median(xs) / 2).toFixed(0).padStart(5)} ns/decode, ${median(xs).toFixed(0).padStart(5)} ns per signed tx (2 decodes; rounds: ${show(xs)})`
console.log(line('one-pass reader:', fresh))
console.log(line('reference:', ref))
console.log(`speed-up: ${(median(ref) / median(fresh)).toFixed(1)}x`)
