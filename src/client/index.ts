/**
 * The Chorus app SDK: build, sign and submit transactions; query the chain.
 * Browser-safe: nothing here imports a `node:` module (a test checks).
 */
export * from './rpc-client.ts'
export * from './transactions.ts'
export * from './live.ts'
export { decodeAddress, encodeAddress } from '../crypto/address.ts'
export { parseHex, toHex } from '../crypto/bytes.ts'
export { verifyReference as verifySignature } from '../crypto/signature-rule.ts'
export { decodeSignedTx } from '../codec/tx.ts'
export { ErrorCode } from '../protocol/errors.ts'
export type { TxBody, TxKind, SignedTx } from '../protocol/types.ts'
