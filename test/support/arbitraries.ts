/** fast-check generators for protocol values. */
import fc from 'fast-check'
import type { Value } from '../../src/codec/canonical.ts'
import type { Block, BlockHeader, Commit, TxBody, UnsignedTx } from '../../src/protocol/types.ts'

export const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 })
export const amount = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })
const text = (maxLength: number) => fc.string({ unit: 'grapheme', maxLength }).map((s) => s.normalize('NFC'))
const optText = fc.option(text(40), { nil: null })

export const value: fc.Arbitrary<Value> = fc.letrec<{ v: Value }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
    fc.maxSafeInteger(),
    fc.bigInt({ min: -(1n << 63n), max: (1n << 64n) - 1n }),
    fc.string(),
    fc.uint8Array({ maxLength: 300 }),
    fc.array(tie('v'), { maxLength: 20 })
  )
})).v

export const txBody: fc.Arbitrary<TxBody> = fc.oneof(
  fc.record({ kind: fc.constant('transfer' as const), to: bytes32, amount }),
  fc.record({ kind: fc.constant('profile' as const), username: optText, displayName: optText, bio: optText, avatarUrl: optText }),
  fc.record({ kind: fc.constant('post' as const), text: text(200), replyTo: fc.option(bytes32, { nil: null }), repostOf: fc.option(bytes32, { nil: null }) }),
  fc.record({ kind: fc.constantFrom('follow' as const, 'unfollow' as const), target: bytes32 }),
  fc.record({ kind: fc.constantFrom('like' as const, 'unlike' as const), postId: bytes32 }),
  fc.record({ kind: fc.constantFrom('stake' as const, 'unstake' as const), amount })
)

export const unsignedTx: fc.Arbitrary<UnsignedTx> = fc.record({
  chainId: fc.stringMatching(/^[a-z0-9-]{1,20}$/),
  sender: bytes32,
  nonce: fc.nat(),
  fee: amount,
  body: txBody
})

const header: fc.Arbitrary<BlockHeader> = fc.record({
  version: fc.constant(1),
  chainId: fc.stringMatching(/^[a-z0-9-]{1,20}$/),
  height: fc.nat(),
  timeMs: fc.nat(),
  prevHash: bytes32,
  txRoot: bytes32,
  stateRoot: bytes32,
  proposer: bytes32,
  validatorsHash: bytes32,
  lastCommitHash: bytes32
})

export const commit: fc.Arbitrary<Commit> = fc.record({
  height: fc.nat(),
  round: fc.nat(100),
  blockHash: bytes32,
  signatures: fc.array(fc.record({ validator: bytes32, signature: fc.uint8Array({ minLength: 64, maxLength: 64 }) }), { maxLength: 5 })
})

export const blockShape = fc.record({ header, lastCommit: fc.option(commit, { nil: null }) })
export type BlockShape = Omit<Block, 'txs'>
