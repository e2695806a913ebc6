/**
 * Building and signing transactions, for apps (browser-safe: noble only).
 *
 *   const signer = Signer.fromSecretKey(secret)
 *   const tx = signer.sign({ chainId, nonce, body: post('hello') }, { minFeePerByte: 1n })
 *   await rpc.submitTx(tx.hex, { wait: 'commit' })
 */
import { assembleSignedTx, encodeUnsignedTx } from '../codec/tx.ts'
import { encodeAddress, DEFAULT_PREFIX } from '../crypto/address.ts'
import { toHex } from '../crypto/bytes.ts'
import { generateSecretKey, publicKeyOf, signDomain } from '../crypto/keys.ts'
import type { BodyOf, Hash, PublicKey, SignedTx, TxBody, UnsignedTx } from '../protocol/types.ts'

const nfc = (s: string): string => s.normalize('NFC')
const nfcOrNull = (s: string | null | undefined): string | null => s === null || s === undefined ? null : nfc(s)

/** Body builders, one per kind. Text is normalised to NFC, as the codec requires. */
export const transfer = (to: PublicKey, amount: bigint): BodyOf<'transfer'> => ({ kind: 'transfer', to, amount })
export const profile = (fields: { username?: string | null, displayName?: string | null, bio?: string | null, avatarUrl?: string | null }): BodyOf<'profile'> => ({
  kind: 'profile',
  username: nfcOrNull(fields.username),
  displayName: nfcOrNull(fields.displayName),
  bio: nfcOrNull(fields.bio),
  avatarUrl: nfcOrNull(fields.avatarUrl)
})
export const post = (text: string): BodyOf<'post'> => ({ kind: 'post', text: nfc(text), replyTo: null, repostOf: null })
export const reply = (postId: Hash, text: string): BodyOf<'post'> => ({ kind: 'post', text: nfc(text), replyTo: postId, repostOf: null })
export const repost = (postId: Hash, text = ''): BodyOf<'post'> => ({ kind: 'post', text: nfc(text), replyTo: null, repostOf: postId })
export const follow = (target: PublicKey): BodyOf<'follow'> => ({ kind: 'follow', target })
export const unfollow = (target: PublicKey): BodyOf<'unfollow'> => ({ kind: 'unfollow', target })
export const like = (postId: Hash): BodyOf<'like'> => ({ kind: 'like', postId })
export const unlike = (postId: Hash): BodyOf<'unlike'> => ({ kind: 'unlike', postId })
export const stake = (amount: bigint): BodyOf<'stake'> => ({ kind: 'stake', amount })
export const unstake = (amount: bigint): BodyOf<'unstake'> => ({ kind: 'unstake', amount })

export interface TxDraft {
  chainId: string
  nonce: number
  body: TxBody
  /** Omit to pay exactly the minimum for the tx's size. */
  fee?: bigint
}

export interface FeeRule { minFeePerByte: bigint }

/** A signed tx ready to submit: `hex` goes to `tx_submit`. */
export interface SignedTxOut {
  id: string
  hex: string
  tx: SignedTx
}

export class Signer {
  readonly publicKey: PublicKey

  private constructor (private readonly secretKey: Uint8Array) {
    this.publicKey = publicKeyOf(secretKey)
  }

  static generate (): Signer { return new Signer(generateSecretKey()) }
  static fromSecretKey (secretKey: Uint8Array): Signer { return new Signer(secretKey) }

  address (prefix = DEFAULT_PREFIX): string { return encodeAddress(this.publicKey, prefix) }

  /** Signs a draft; without a fee it pays minFeePerByte × its own signed size. */
  sign (draft: TxDraft, feeRule: FeeRule = { minFeePerByte: 1n }): SignedTxOut {
    const unsigned: UnsignedTx = { chainId: draft.chainId, sender: this.publicKey, nonce: draft.nonce, fee: draft.fee ?? 0n, body: draft.body }
    if (draft.fee === undefined) {
      // the fee is part of the size it pays for: settle in at most a few rounds (fee only grows)
      for (;;) {
        const size = signedSize(encodeUnsignedTx(unsigned))
        const need = feeRule.minFeePerByte * BigInt(size)
        if (unsigned.fee >= need) break
        unsigned.fee = need
      }
    }
    const bytes = encodeUnsignedTx(unsigned)
    const tx = assembleSignedTx(bytes, signDomain('tx', bytes, this.secretKey), unsigned)
    return { id: toHex(tx.id), hex: toHex(tx.bytes), tx }
  }

}

/** Size of the signed envelope around `unsignedBytes`: [bin(unsigned), bin(64)]. */
function signedSize (unsignedBytes: Uint8Array): number {
  const n = unsignedBytes.length
  const binHeader = n <= 0xff ? 2 : n <= 0xffff ? 3 : 5
  return 1 + binHeader + n + 2 + 64
}
