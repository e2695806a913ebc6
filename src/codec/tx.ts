/**
 * Transactions on the wire (DESIGN §6):
 *   signed   = [unsignedBytes: bin, signature: bin(64)]
 *   unsigned = [version=1, chainId, kind, sender: bin(32), nonce, fee, body]
 * id = sha256(unsignedBytes). Both layers are canonical msgpack.
 */
import { sha256 } from '../crypto/hash.ts'
import { ErrorCode, fail } from '../protocol/errors.ts'
import { type SignedTx, TX_VERSION, type TxBody, type TxKind, TxKindCode, type UnsignedTx } from '../protocol/types.ts'
import { type Value, decodeCanonical, encodeCanonical } from './canonical.ts'
import { asAmount, asArray, asBytes, asBytesOrNull, asString, asStringOrNull, asUint } from './schema.ts'

const KIND_BY_CODE = new Map<number, TxKind>(Object.entries(TxKindCode).map(([k, c]) => [c, k as TxKind]))

/** Absolute ceiling before genesis limits apply: no signed tx is ever bigger. */
export const MAX_TX_BYTES_HARD = 64 * 1024

function bodyToValue (b: TxBody): Value {
  switch (b.kind) {
    case 'transfer': return [b.to, b.amount]
    case 'profile': return [b.username, b.displayName, b.bio, b.avatarUrl]
    case 'post': return [b.text, b.replyTo, b.repostOf]
    case 'follow': case 'unfollow': return [b.target]
    case 'like': case 'unlike': return [b.postId]
    case 'stake': case 'unstake': return [b.amount]
  }
}

function bodyFromValue (kind: TxKind, v: Value): TxBody {
  switch (kind) {
    case 'transfer': {
      const [to, amount] = asArray(v, 2, 'transfer')
      return { kind, to: asBytes(to!, 'to', 32), amount: asAmount(amount!, 'amount') }
    }
    case 'profile': {
      const [u, d, b, a] = asArray(v, 4, 'profile')
      return {
        kind,
        username: asStringOrNull(u!, 'username'),
        displayName: asStringOrNull(d!, 'displayName'),
        bio: asStringOrNull(b!, 'bio'),
        avatarUrl: asStringOrNull(a!, 'avatarUrl')
      }
    }
    case 'post': {
      const [text, replyTo, repostOf] = asArray(v, 3, 'post')
      return { kind, text: asString(text!, 'text'), replyTo: asBytesOrNull(replyTo!, 'replyTo', 32), repostOf: asBytesOrNull(repostOf!, 'repostOf', 32) }
    }
    case 'follow': case 'unfollow': {
      const [target] = asArray(v, 1, kind)
      return { kind, target: asBytes(target!, 'target', 32) }
    }
    case 'like': case 'unlike': {
      const [postId] = asArray(v, 1, kind)
      return { kind, postId: asBytes(postId!, 'postId', 32) }
    }
    case 'stake': case 'unstake': {
      const [amount] = asArray(v, 1, kind)
      return { kind, amount: asAmount(amount!, 'amount') }
    }
  }
}

export function encodeUnsignedTx (tx: UnsignedTx): Uint8Array {
  return encodeCanonical([TX_VERSION, tx.chainId, TxKindCode[tx.body.kind], tx.sender, tx.nonce, tx.fee, bodyToValue(tx.body)])
}

export function decodeUnsignedTx (bytes: Uint8Array): UnsignedTx {
  const v = decodeCanonical(bytes, MAX_TX_BYTES_HARD)
  if (!Array.isArray(v)) fail(ErrorCode.MALFORMED, 'tx: expected an array')
  const [version, chainId, kindCode, sender, nonce, fee, body] = asArray(v, 7, 'tx')
  if (version !== TX_VERSION) fail(ErrorCode.UNKNOWN_VERSION, `tx version ${String(version)}`)
  const kind = typeof kindCode === 'number' ? KIND_BY_CODE.get(kindCode) : undefined
  if (kind === undefined) fail(ErrorCode.UNKNOWN_KIND, `tx kind ${String(kindCode)}`)
  return {
    chainId: asString(chainId!, 'chainId'),
    sender: asBytes(sender!, 'sender', 32),
    nonce: asUint(nonce!, 'nonce'),
    fee: asAmount(fee!, 'fee'),
    body: bodyFromValue(kind, body!)
  }
}

/** Puts a signature on encoded unsigned bytes. Does not check it. */
export function assembleSignedTx (unsignedBytes: Uint8Array, signature: Uint8Array, unsigned = decodeUnsignedTx(unsignedBytes)): SignedTx {
  return { unsigned, unsignedBytes, signature, bytes: encodeCanonical([unsignedBytes, signature]), id: sha256(unsignedBytes) }
}

/**
 * Decodes a signed tx of at most `maxBytes`. Structure only: the signature is checked elsewhere.
 * The tx owns its bytes: read out of a larger buffer (a gossip batch, a block, a response) they
 * are copied first, and every byte field is a view into that copy, so keeping the tx (in the
 * mempool, say) never keeps the buffer it came in.
 */
export function decodeSignedTx (bytes: Uint8Array, maxBytes = MAX_TX_BYTES_HARD): SignedTx {
  if (bytes.length > maxBytes) fail(ErrorCode.TOO_LARGE, `${bytes.length} bytes exceeds ${maxBytes}`)
  const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : new Uint8Array(bytes)
  const [unsignedBytes, signature] = asArray(decodeCanonical(own, maxBytes), 2, 'signed tx')
  const u = asBytes(unsignedBytes!, 'unsigned')
  return {
    unsigned: decodeUnsignedTx(u),
    unsignedBytes: u,
    signature: asBytes(signature!, 'signature', 64),
    bytes: own,
    id: sha256(u)
  }
}
