/**
 * The RPC's value types as JSON Schema (TypeBox): what every param and result
 * field is made of (DESIGN §9). Amounts and nonces are decimal strings, bytes are
 * hex, addresses bech32m. Each schema's `description` is a noun phrase: a bad
 * param is told "<name> must be <description>" (params.ts).
 */
import Type from 'typebox'

/** A non-negative integer below 2^53 (heights, indexes, counts, times in ms). */
export const Uint = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'a non-negative integer' })

/** A block height. */
export const Height = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'a block height' })

/** Unix time in milliseconds. */
export const TimeMs = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'a Unix time in milliseconds' })

/** An amount, nonce or stake: a non-negative integer as a decimal string (it may pass 2^53). */
export const Decimal = Type.String({ pattern: '^(0|[1-9][0-9]*)$', description: 'a non-negative integer as a decimal string' })

/** A signed integer as a decimal string (a proposer priority). */
export const SignedDecimal = Type.String({ pattern: '^(0|-?[1-9][0-9]*)$', description: 'an integer as a decimal string' })

/** What a node answers with: 32 bytes, lowercase hex. */
export const Hash = Type.String({ pattern: '^[0-9a-f]{64}$', description: '32 bytes in lowercase hex' })

/** A signature as answered: 64 bytes, lowercase hex. */
export const SignatureHex = Type.String({ pattern: '^[0-9a-f]{128}$', description: '64 bytes in lowercase hex' })

/** A 32-byte id or hash as a param: hex, either case, with or without 0x. */
export const Hash32Param = Type.String({ pattern: '^(0x)?[0-9a-fA-F]{64}$', description: '32 bytes in hex (64 hex digits)' })

/** Bytes of any length as a param: hex, either case, with or without 0x. */
export const BytesParam = Type.String({ pattern: '^(0x)?([0-9a-fA-F]{2})*$', description: 'bytes in hex (an even number of hex digits)' })

/** A bech32m address as answered (the chain's prefix, then 58 characters: a 32-byte key and the checksum). */
export const Address = Type.String({ pattern: '^[a-z]{1,16}1[02-9ac-hj-np-z]{58}$', description: 'a bech32m address' })

/**
 * An account as a param: a bech32m address (checked against the chain's prefix and
 * checksum by the node) or `@username`.
 */
export const AccountParam = Type.String({
  pattern: '^(@.*|[a-z]{1,16}1[02-9ac-hj-np-z]{58}|[A-Z]{1,16}1[02-9AC-HJ-NP-Z]{58})$',
  description: 'a bech32m address or @username'
})

/** An opaque page cursor, as the previous page returned it. */
export const Cursor = Type.String({ pattern: '^[A-Za-z0-9_-]*$', maxLength: 256, description: 'the cursor a previous page returned' })

/** A page size. */
/** The most items a page holds. */
export const MAX_PAGE = 100
export const Limit = Type.Integer({ minimum: 1, maximum: MAX_PAGE, description: `an integer in 1..${MAX_PAGE}` })

/** The place of an event in the chain, "height:index" (index 0 for a head). */
export const EventId = Type.String({ pattern: '^[0-9]{1,15}:[0-9]{1,9}$', description: 'an event id, "height:index"' })

/** A libp2p peer id. */
export const PeerId = Type.String({ minLength: 1, description: 'a libp2p peer id' })

/** A subscription's id, as `subscribe` returned it. */
export const SubscriptionId = Type.String({ pattern: '^0x[0-9a-f]+$', description: 'a subscription id' })
