/** The protocol's data types (DESIGN §4, §6, §7). Encodings live in codec/. */

/** A 32-byte Ed25519 public key; its text form is a bech32m address. */
export type PublicKey = Uint8Array
/** A 32-byte SHA-256 digest: tx ids, post ids, block hashes, roots. */
export type Hash = Uint8Array

export const TX_VERSION = 1
export const BLOCK_VERSION = 1

/** Wire codes of the transaction kinds; a kind's code is never reused. */
export const TxKindCode = {
  transfer: 0,
  profile: 1,
  post: 2,
  follow: 3,
  unfollow: 4,
  like: 5,
  unlike: 6,
  stake: 7,
  unstake: 8
} as const satisfies Record<string, number>
export type TxKind = keyof typeof TxKindCode
export const TX_KINDS = Object.keys(TxKindCode) as TxKind[]

/** Bodies by kind. In a profile, null leaves a field unchanged and "" clears it. */
export type TxBody =
  | { kind: 'transfer', to: PublicKey, amount: bigint }
  | { kind: 'profile', username: string | null, displayName: string | null, bio: string | null, avatarUrl: string | null }
  | { kind: 'post', text: string, replyTo: Hash | null, repostOf: Hash | null }
  | { kind: 'follow', target: PublicKey }
  | { kind: 'unfollow', target: PublicKey }
  | { kind: 'like', postId: Hash }
  | { kind: 'unlike', postId: Hash }
  | { kind: 'stake', amount: bigint }
  | { kind: 'unstake', amount: bigint }

export type BodyOf<K extends TxKind> = Extract<TxBody, { kind: K }>

export interface UnsignedTx {
  chainId: string
  sender: PublicKey
  /** Must equal the sender's next nonce when executed. */
  nonce: number
  fee: bigint
  body: TxBody
}

/** A decoded, signed transaction with the bytes it came from. */
export interface SignedTx {
  unsigned: UnsignedTx
  /** The canonical encoding of `unsigned`; the signature covers `chorus/tx/v1 || unsignedBytes`. */
  unsignedBytes: Uint8Array
  signature: Uint8Array
  /** The canonical encoding of `[unsignedBytes, signature]`; its length is the fee size. */
  bytes: Uint8Array
  /** sha256(unsignedBytes); also the id of the post a post tx creates. */
  id: Hash
}

export interface BlockHeader {
  version: number
  chainId: string
  height: number
  timeMs: number
  prevHash: Hash
  txRoot: Hash
  /** The state root after this block's transactions. */
  stateRoot: Hash
  proposer: PublicKey
  validatorsHash: Hash
  lastCommitHash: Hash
}

export interface CommitSignature { validator: PublicKey, signature: Uint8Array }

/** Precommits of more than 2/3 of the stake for `blockHash` at (height, round). */
export interface Commit {
  height: number
  round: number
  blockHash: Hash
  signatures: CommitSignature[]
}

export interface Block {
  header: BlockHeader
  txs: SignedTx[]
  /** The commit of the parent block; null at height 1. */
  lastCommit: Commit | null
}

export type VoteType = 'prevote' | 'precommit'
export const VoteTypeCode = { prevote: 1, precommit: 2 } as const satisfies Record<VoteType, number>

export interface Vote {
  type: VoteType
  chainId: string
  height: number
  round: number
  /** null is a vote for nil. */
  blockHash: Hash | null
  validator: PublicKey
}
export interface SignedVote { vote: Vote, signature: Uint8Array }

export interface Proposal {
  chainId: string
  height: number
  round: number
  /** The round of the proof-of-lock this proposal re-proposes, or -1. */
  polRound: number
  blockHash: Hash
  proposer: PublicKey
}
export interface SignedProposal { proposal: Proposal, signature: Uint8Array }

export const ZERO_HASH: Hash = new Uint8Array(32)
