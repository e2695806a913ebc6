/**
 * dev_faucet: on a dev chain only, coins from the home's dev key for a key made
 * elsewhere (a browser's, in the web app), so a new user can post without the CLI.
 * The dev key never leaves the node; the node signs one transfer per call.
 * An account that already holds a faucet's worth, or has a transfer on its way, gets
 * nothing more (a dev chain's faucet: a caller making fresh keys can still ask for each).
 */
import { Signer, transfer } from '../client/transactions.ts'
import { toHex } from '../crypto/bytes.ts'
import { ErrorCode, fail } from '../protocol/errors.ts'
import type { PublicKey } from '../protocol/types.ts'
import { Lock } from '../util/lock.ts'
import type { RpcContext } from './context.ts'

/** What one call sends: enough for some hundred thousand posts at the dev chain's fees. */
export const FAUCET_AMOUNT = 1_000_000_000n

export class Faucet {
  private readonly signer: Signer
  /** One transfer at a time: each takes the dev key's next nonce. */
  private readonly lock = new Lock()
  /** Addresses with a transfer on its way: asking again before it lands gets nothing more. */
  private readonly pending = new Set<string>()

  constructor (devSecretKey: Uint8Array) {
    this.signer = Signer.fromSecretKey(devSecretKey)
  }

  /** Sends FAUCET_AMOUNT to `to` and resolves once it is included. */
  async send (ctx: RpcContext, to: PublicKey): Promise<{ id: string, height: number, index: number, amount: string }> {
    const who = toHex(to)
    const tx = await this.lock.run(async () => {
      if (this.pending.has(who)) fail(ErrorCode.INVALID_AMOUNT, 'a faucet transfer to this account is on its way already')
      const held = (await ctx.queries.account(to)).balance
      if (held >= FAUCET_AMOUNT) fail(ErrorCode.INVALID_AMOUNT, `the account already holds ${held}: the faucet gives to accounts with less than ${FAUCET_AMOUNT}`)
      const self = this.signer.publicKey
      const nonce = (await ctx.queries.account(self)).nonce + ctx.pool.mempool.pendingFor(self).length
      const signed = this.signer.sign({ chainId: ctx.chain.chainId, nonce, body: transfer(to, FAUCET_AMOUNT) }, { minFeePerByte: ctx.chain.rules.params.minFeePerByte })
      const submitted = await ctx.pool.submitDecoded(signed.tx)
      this.pending.add(who)
      return submitted
    })
    const at = await ctx.waitForInclusion(tx.id, ctx.commitWaitMs).finally(() => this.pending.delete(who))
    return { id: toHex(tx.id), height: at.height, index: at.index, amount: FAUCET_AMOUNT.toString() }
  }
}
