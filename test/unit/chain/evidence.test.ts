import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { EvidencePool } from '../../../src/chain/evidence.ts'
import { encodeProposal, encodeVote } from '../../../src/codec/block.ts'
import { signDomain } from '../../../src/crypto/keys.ts'
import { verifySignature } from '../../../src/crypto/verify.ts'
import type { Vote } from '../../../src/protocol/types.ts'
import { type Fixture, makeFixture } from '../../support/chain.ts'

let fx: Fixture
beforeEach(async () => { fx = await makeFixture() })
afterEach(async () => { await fx.close() })

describe('evidence of equivocation', () => {
  it('stores two conflicting signed votes once, lists them, and refuses anything that is not evidence', async () => {
    const pool = new EvidencePool(fx.store, verifySignature)
    const v = fx.validator
    const vote = (hash: Uint8Array | null): Vote => ({ type: 'precommit', chainId: fx.chain.chainId, height: 3, round: 1, blockHash: hash, validator: v.publicKey })
    const signed = (x: Vote) => ({ vote: x, signature: signDomain('vote', encodeVote(x), v.secretKey) })
    const a = signed(vote(new Uint8Array(32).fill(1)))
    const b = signed(vote(null))
    expect(await pool.add({ kind: 'precommit', first: a, second: b })).toBe(true)
    expect(await pool.add({ kind: 'precommit', first: b, second: a })).toBe(false) // already held
    const p = (hash: Uint8Array) => {
      const proposal = { chainId: fx.chain.chainId, height: 2, round: 0, polRound: -1, blockHash: hash, proposer: v.publicKey }
      return { proposal, signature: signDomain('proposal', encodeProposal(proposal), v.secretKey) }
    }
    expect(await pool.add({ kind: 'proposal', first: p(new Uint8Array(32).fill(7)), second: p(new Uint8Array(32).fill(8)) })).toBe(true)
    const page = await pool.list(null, 1)
    expect(page.items[0]!.kind).toBe('proposal') // height 2 sorts first
    const rest = await pool.list(page.cursor, 10)
    expect(rest.items.map((e) => e.kind)).toEqual(['precommit'])
    expect(rest.cursor).toBeNull()

    await expect(pool.add({ kind: 'precommit', first: a, second: a })).rejects.toMatchObject({ code: 'INVALID_FIELD' })
    const forged = { ...b, signature: b.signature.map((x) => x ^ 1) }
    await expect(pool.add({ kind: 'precommit', first: a, second: forged })).rejects.toMatchObject({ code: 'INVALID_FIELD' })
    const otherRound = signed({ ...vote(null), round: 2 })
    await expect(pool.add({ kind: 'precommit', first: a, second: otherRound })).rejects.toMatchObject({ code: 'INVALID_FIELD' })
  })
})
