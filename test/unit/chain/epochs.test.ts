import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import * as b from '../../../src/client/transactions.ts'
import { toHex } from '../../../src/crypto/bytes.ts'
import { type Fixture, makeFixture } from '../../support/chain.ts'

let fx: Fixture
beforeEach(async () => { fx = await makeFixture({ params: { epochBlocks: 3, unbondingBlocks: 2, maxValidators: 2 } }) })
afterEach(async () => { await fx.close() })

const powers = (fx: Fixture) => new Map(fx.chain.validators.validators.map((v) => [toHex(v.address), v.power]))

describe('validator set changes at epoch boundaries', () => {
  it('admits stakers, keeps the largest, drops those who unstake, and never changes mid-epoch', async () => {
    const [alice, bob] = fx.users as [b.Signer, b.Signer]
    const genesisSet = fx.chain.validators.hash()
    await fx.pool.submitDecoded(await fx.tx(alice, b.stake(500n)))
    await fx.pool.submitDecoded(await fx.tx(bob, b.stake(50n)))
    await fx.block() // height 1: staked, but the epoch has not ended
    expect(toHex(fx.chain.validators.hash())).toBe(toHex(genesisSet))
    await fx.block([]) // 2
    expect(toHex(fx.chain.validators.hash())).toBe(toHex(genesisSet))
    const third = await fx.block([]) // 3: the epoch ends
    expect(toHex(third.block.header.validatorsHash)).toBe(toHex(genesisSet)) // block 3 itself was validated by the old set
    // maxValidators = 2: alice (500) and the genesis validator (100) make it, bob (50) does not
    expect(powers(fx)).toEqual(new Map([[toHex(alice.publicKey), 500n], [toHex(fx.validator.publicKey), 100n]]))
    const newcomer = fx.chain.validators.validators.find((v) => toHex(v.address) === toHex(alice.publicKey))!
    expect(newcomer.priority).toBeLessThan(0n) // joins at the back of the proposer queue

    await fx.pool.submitDecoded(await fx.tx(alice, b.unstake(500n)))
    await fx.block() // 4 (blocks are still built by the genesis validator's key in this fixture)
    await fx.block([]) // 5
    await fx.block([]) // 6: epoch end: alice left, bob now qualifies
    expect(powers(fx)).toEqual(new Map([[toHex(fx.validator.publicKey), 100n], [toHex(bob.publicKey), 50n]]))
  })
})
