/** Signing for the benches: OpenSSL's Ed25519 (the SDK's noble signer is too slow to feed a node), with the key's next nonce. */
import { type KeyObject, createPrivateKey, sign as opensslSign } from 'node:crypto'
import { assembleSignedTx, encodeUnsignedTx } from '../../src/codec/tx.ts'
import { toHex } from '../../src/crypto/bytes.ts'
import { signingBytes } from '../../src/crypto/hash.ts'
import { generateSecretKey, publicKeyOf } from '../../src/crypto/keys.ts'
import type { TxBody, UnsignedTx } from '../../src/protocol/types.ts'

const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex')

export interface SignedOut { id: string, hex: string, nonce: number, size: number }

export class OpenSslSigner {
  readonly publicKey: Uint8Array
  private readonly key: KeyObject
  nonce = 0

  constructor (readonly secretKey: Uint8Array = generateSecretKey()) {
    this.publicKey = publicKeyOf(secretKey)
    this.key = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, secretKey]), format: 'der', type: 'pkcs8' })
  }

  /** As the SDK's Signer.sign: fee = minFeePerByte × the signed size. Takes the next nonce. */
  signTx (chainId: string, body: TxBody, minFeePerByte: bigint): SignedOut {
    const unsigned: UnsignedTx = { chainId, sender: this.publicKey, nonce: this.nonce, fee: 0n, body }
    for (;;) {
      const size = assembleSignedTx(encodeUnsignedTx(unsigned), new Uint8Array(64), unsigned).bytes.length
      const need = minFeePerByte * BigInt(size)
      if (unsigned.fee >= need) break
      unsigned.fee = need
    }
    const bytes = encodeUnsignedTx(unsigned)
    const tx = assembleSignedTx(bytes, new Uint8Array(opensslSign(null, signingBytes('tx', bytes), this.key)), unsigned)
    return { id: toHex(tx.id), hex: toHex(tx.bytes), nonce: this.nonce++, size: tx.bytes.length }
  }
}
