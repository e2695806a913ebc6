import { verify as opensslVerify, createPublicKey } from 'node:crypto'
import { ed25519 } from '@noble/curves/ed25519.js'
import { describe, expect, it } from 'vitest'
import { verifyReference } from '../../../src/crypto/signature-rule.ts'
import { inlineBatchVerify, packChecks, verifyPacked } from '../../../src/crypto/signature-batch.ts'
import { CheckedKeys, verifySignature, verifyWith } from '../../../src/crypto/verify.ts'
import { VerifyPool } from '../../../src/crypto/verify-pool.ts'
import { type Case, edgeCases, randomCases, rng } from '../../support/ed25519-cases.ts'
import { waitFor } from '../../support/wait.ts'

const SEED = 20261126

function stockOpenssl (c: Case): boolean {
  try {
    const key = createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), c.publicKey]), format: 'der', type: 'spki' })
    return opensslVerify(null, c.message, key, c.signature)
  } catch {
    return false
  }
}
function stockNoble (c: Case, zip215: boolean): boolean {
  try { return ed25519.verify(c.signature, c.message, c.publicKey, { zip215 }) } catch { return false }
}

describe('Chorus-Ed25519-v1: fast path and reference agree', () => {
  const r = rng(SEED)
  const edges = edgeCases(r)
  const randoms = randomCases(r, 3000)
  // the reference is slow (noble arithmetic): compute each answer once
  const refOf = new Map<Case, boolean>()
  const ref = (c: Case): boolean => {
    let v = refOf.get(c)
    if (v === undefined) { v = verifyReference(c.publicKey, c.message, c.signature); refOf.set(c, v) }
    return v
  }

  it('covers every edge-case category, with both answers present', () => {
    const labels = new Set(edges.map((c) => c.label.replace(/ #\d+.*/, '')))
    for (const l of ['small-order A', 'small-order R', 'mixed-order A', 'mixed-order R', 'non-canonical A', 'non-canonical R', 'S >= L', 'S = 0']) {
      expect(labels.has(l), l).toBe(true)
    }
    expect(edges.some((c) => ref(c))).toBe(true)
    expect(edges.filter((c) => !ref(c)).length).toBeGreaterThan(100)
  })

  it(`gives identical answers on ${edges.length} edge cases (seed ${SEED})`, () => {
    for (const c of edges) {
      expect(verifySignature(c.publicKey, c.message, c.signature), c.label).toBe(ref(c))
    }
  })

  it('gives identical answers on 3000 random, mutated and signer-crafted signatures', { timeout: 120_000 }, () => {
    let accepted = 0
    for (const c of randoms) {
      const want = ref(c)
      expect(verifySignature(c.publicKey, c.message, c.signature), c.label).toBe(want)
      if (want) accepted++
    }
    expect(accepted).toBeGreaterThanOrEqual(500) // the valid sixth, at least
  })

  it('gives identical answers through the verify pool: its worker threads, this thread\'s share of a large batch or of a worker\'s backlog, and this thread in place of a worker that dies', { timeout: 120_000 }, async () => {
    const all = [...edges, ...randoms]
    const pool = new VerifyPool(2)
    try {
      // one batch large enough to be split, then small ones interleaved
      const whole = await pool.verifyBatch(all)
      expect(whole.map((v, i) => v === ref(all[i]!) ? '' : all[i]!.label).filter(Boolean)).toEqual([])
      expect(pool.sharedHere).toBeGreaterThan(0) // a block's worth: this thread took a share
      const small = await Promise.all(edges.map(async (c) => (await pool.verifyBatch([c]))[0]))
      expect(small).toEqual(edges.map(ref))
      // a worker that dies with work in hand: that work is answered here, by the same rule
      // (under a block's worth, so all of it is with the workers when one dies)
      const held = all.slice(0, 1000)
      const pending = pool.verifyBatch(held)
      await pool.killWorkerForTest()
      expect(await pending).toEqual(held.map(ref))
      expect(pool.answeredHere).toBeGreaterThan(0)
      expect(await pool.verifyBatch(all.slice(200, 400))).toEqual(all.slice(200, 400).map(ref))
    } finally {
      await pool.close()
    }
    // a worker holds two jobs; the rest wait, and this thread takes them on its idle turns, by the same rule
    const silent = new VerifyPool(1, verifySignature, new URL('../../support/silent-verify-worker.mjs', import.meta.url))
    try {
      const jobs = Array.from({ length: 5 }, (_, i) => all.slice(i * 20, (i + 1) * 20))
      const answers = jobs.map(async (j) => await silent.verifyBatch(j))
      expect(await Promise.all(answers.slice(2))).toEqual(jobs.slice(2).map((j) => j.map(ref)))
      expect(silent.sharedHere).toBe(60)
      const held = Promise.all(answers.slice(0, 2))
      await silent.close() // the two the worker never answered are answered here
      expect(await held).toEqual(jobs.slice(0, 2).map((j) => j.map(ref)))
      expect(silent.answeredHere).toBe(40)
    } finally {
      await silent.close()
    }
    // a worker that cannot start (its file missing) is tried a few times, then left: this thread answers
    const broken = new VerifyPool(1, verifySignature, new URL('./no-such-worker.js', import.meta.url))
    try {
      expect(await broken.verifyBatch(edges)).toEqual(edges.map(ref))
      await waitFor(() => broken.workers === 0 || undefined, 'the broken worker given up')
      expect(await broken.verifyBatch(edges.slice(0, 10))).toEqual(edges.slice(0, 10).map(ref))
    } finally {
      await broken.close()
    }
    // a key or signature of the wrong length is refused, not misread
    const good = randoms.find((c) => ref(c))!
    expect(await inlineBatchVerify(verifySignature)([{ ...good, publicKey: good.publicKey.subarray(0, 31) }])).toEqual([false])
    const packed = packChecks([{ ...good, signature: good.signature.subarray(0, 63) }, good])
    expect(Array.from(verifyPacked(packed, verifySignature))).toEqual([0, 1])
  })

  it('gives identical answers when the key caches are too small for the keys: KeyObjects dropped, validity remembered or dropped too', { timeout: 120_000 }, () => {
    const all = [...edges, ...randoms.slice(0, 1000)] // every check of a small cache is a subgroup check (~650 µs): a third of the randoms
    for (const keys of [new CheckedKeys(4, 1_000_000), new CheckedKeys(4, 16), new CheckedKeys(1, 1)]) {
      for (let pass = 0; pass < 2; pass++) {
        const wrong = all.filter((c) => verifyWith(keys, c.publicKey, c.message, c.signature) !== ref(c))
        expect(wrong.map((c) => c.label)).toEqual([])
      }
    }
  })

  it('runs the subgroup check once per valid key while it is remembered, though its KeyObject was dropped', () => {
    const pairs = Array.from({ length: 40 }, () => {
      const sk = ed25519.utils.randomSecretKey()
      const message = Uint8Array.of(1, 2, 3)
      return { publicKey: ed25519.getPublicKey(sk), message, signature: ed25519.sign(message, sk) }
    })
    const remembering = new CheckedKeys(8, 1_000)
    const forgetting = new CheckedKeys(8, 8)
    for (let pass = 0; pass < 3; pass++) {
      for (const p of pairs) {
        expect(verifyWith(remembering, p.publicKey, p.message, p.signature)).toBe(true)
        expect(verifyWith(forgetting, p.publicKey, p.message, p.signature)).toBe(true)
      }
    }
    expect(remembering.subgroupChecks).toBe(pairs.length)
    expect(forgetting.subgroupChecks).toBe(3 * pairs.length)
  })

  it('stock verifiers each disagree with the rule somewhere, so this test can fail', { timeout: 120_000 }, () => {
    const all = [...edges, ...randoms.slice(0, 600)]
    const disagree = (f: (c: Case) => boolean) => all.filter((c) => f(c) !== ref(c))
    const openssl = disagree(stockOpenssl)
    const nobleZip = disagree((c) => stockNoble(c, true))
    const nobleStrict = disagree((c) => stockNoble(c, false))
    expect(openssl.length).toBeGreaterThan(0)
    expect(nobleZip.length).toBeGreaterThan(0)
    expect(nobleStrict.length).toBeGreaterThan(0)
    // the known shapes of each disagreement
    expect(openssl.some((c) => c.label.includes('small-order A') || c.label.includes('key + torsion') || c.label.includes('mixed-order A'))).toBe(true)
    expect(nobleZip.some((c) => c.label.includes('R + torsion') || c.label.includes('mixed-order R'))).toBe(true)
  })
})

describe('OpenSSL signing for a node\'s own key', () => {
  it('signs exactly as noble does (Ed25519 is deterministic)', async () => {
    const { opensslSigner } = await import('../../../src/crypto/verify.ts')
    const r = rng(7)
    for (let i = 0; i < 50; i++) {
      const secret = r.bytes(32)
      const msg = r.bytes(1 + r.int(200))
      expect(opensslSigner(secret)(msg)).toEqual(ed25519.sign(msg, secret))
    }
  })
})
