/**
 * Waiting for a tx's block (tx_submit with wait: "commit"): a tx already in the chain is found in
 * the index, and one whose block commits while the index is being read is heard, not missed.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { TxWaiters } from '../../../src/chain/tx-waiters.ts'
import * as b from '../../../src/client/transactions.ts'
import { ErrorCode } from '../../../src/protocol/errors.ts'
import { type Fixture, makeFixture } from '../../support/chain.ts'

let fx: Fixture
let waiters: TxWaiters
beforeEach(async () => {
  fx = await makeFixture()
  waiters = new TxWaiters(fx.chain.events, (id) => fx.pool.droppedReason(id))
})
afterEach(async () => { await fx.close() })

describe('tx waiters', () => {
  it('hear a block that commits while the tx index is read (it read the height before)', async () => {
    const [alice] = fx.users as [b.Signer]
    const tx = await fx.tx(alice, b.post('racing its own block'))
    await fx.pool.submitDecoded(tx)
    const at = await waiters.wait(tx.id, 2_000, async () => {
      const before = await fx.chain.txLocation(tx.id)
      await fx.block() // the block commits, and its event fires, while the lookup is still under way
      return before
    })
    expect(at).toEqual({ height: fx.chain.head.height, index: 0 })
  })

  it('answer from the index for a tx already included, and time out for one that never is', async () => {
    const [alice, bob] = fx.users as [b.Signer, b.Signer]
    const tx = await fx.tx(alice, b.post('already in'))
    await fx.pool.submitDecoded(tx)
    await fx.block()
    const height = fx.chain.head.height
    expect(await waiters.wait(tx.id, 60_000, async () => await fx.chain.txLocation(tx.id))).toEqual({ height, index: 0 })
    const never = await fx.tx(bob, b.post('never submitted'))
    await expect(waiters.wait(never.id, 50, async () => await fx.chain.txLocation(never.id))).rejects.toMatchObject({ code: ErrorCode.TIMEOUT })
  })

  it('time out, or are stopped, while the index is still being read: the caller hears it, and nothing is left unhandled', async () => {
    const [alice] = fx.users as [b.Signer]
    const tx = await fx.tx(alice, b.post('slow lookup'))
    const slowly = async (ms: number) => { await new Promise((resolve) => setTimeout(resolve, ms)); return null }
    await expect(waiters.wait(tx.id, 10, async () => await slowly(60))).rejects.toMatchObject({ code: ErrorCode.TIMEOUT })
    const stopped = waiters.wait(tx.id, 60_000, async () => await slowly(60))
    waiters.close() // the node stopping mid-lookup
    await expect(stopped).rejects.toMatchObject({ code: ErrorCode.UNAVAILABLE })
  })
})
