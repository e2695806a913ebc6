/**
 * What the RPC answers, as JSON Schema (TypeBox): every object is closed
 * (`additionalProperties: false`), so an answer that gains, loses or changes a
 * field fails the schema test until the schema says so (names are a public
 * contract: add, never rename). Views (views.ts) build these shapes; `Static`
 * gives their TypeScript types.
 */
import Type, { type Static, type TObject, type TProperties, type TSchema } from 'typebox'
import { TX_KINDS, type TxKind as TxKindName } from '../protocol/types.ts'
import { Address, Decimal, EventId, Hash, Height, PeerId, SignatureHex, SignedDecimal, SubscriptionId, TimeMs, Uint } from './values.ts'

/** A closed object: every field required unless Optional, nothing else allowed. */
export const closed = <P extends TProperties>(properties: P, description?: string): TObject<P> =>
  Type.Object(properties, { additionalProperties: false, ...(description === undefined ? {} : { description }) })

const nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()])

/** `{items, cursor}`: cursor is null on the last page. */
export const Page = <T extends TSchema>(item: T, description?: string) =>
  closed({ items: Type.Array(item), cursor: nullable(Type.String({ description: 'pass it back for the next page; null on the last page' })) }, description)

export const Head = closed({ height: Height, hash: Hash, timeMs: TimeMs, stateRoot: Hash }, 'the latest committed block')

export const Account = closed({
  address: Address,
  balance: Decimal,
  nonce: Type.String({ pattern: '^(0|[1-9][0-9]*)$', description: 'the nonce the next tx in a block must carry' }),
  stake: Decimal,
  unbonding: Type.String({ pattern: '^(0|[1-9][0-9]*)$', description: 'coins unstaked and waiting out the unbonding period' }),
  pendingNonce: Type.String({ pattern: '^(0|[1-9][0-9]*)$', description: 'the nonce after the account\'s pending txs' })
}, 'an account')

export const ProfileSummary = closed({
  address: Address,
  username: nullable(Type.String()),
  displayName: Type.String(),
  avatarUrl: Type.String()
}, 'who an account is, in brief')

export const Profile = closed({
  ...ProfileSummary.properties,
  bio: Type.String(),
  postCount: Uint,
  followerCount: Uint,
  followingCount: Uint,
  viewer: Type.Optional(closed({
    following: Type.Boolean({ description: 'the viewer follows this account' }),
    followedBy: Type.Boolean({ description: 'this account follows the viewer' })
  }, 'how the viewer (the viewer param) and this account are related; only when a viewer is given'))
}, 'a profile, with its counters')

export const Post = closed({
  id: Hash,
  author: Address,
  text: Type.String(),
  replyTo: nullable(Hash),
  repostOf: nullable(Hash),
  height: Height,
  timeMs: TimeMs,
  likeCount: Uint,
  replyCount: Uint,
  repostCount: Uint
}, 'a post')

export const PostWithAuthor = closed({
  ...Post.properties,
  authorProfile: ProfileSummary,
  viewer: Type.Optional(closed({ liked: Type.Boolean({ description: 'the viewer likes this post' }) }, 'the viewer\'s (the viewer param) relation to this post; only when a viewer is given'))
}, 'a post and its author\'s profile summary')

/** A tx's body, one shape per kind. */
export const TxBody = Type.Union([
  closed({ kind: Type.Literal('transfer'), to: Address, amount: Decimal }),
  closed({ kind: Type.Literal('profile'), username: nullable(Type.String()), displayName: nullable(Type.String()), bio: nullable(Type.String()), avatarUrl: nullable(Type.String()) }),
  closed({ kind: Type.Literal('post'), text: Type.String(), replyTo: nullable(Hash), repostOf: nullable(Hash) }),
  closed({ kind: Type.Union([Type.Literal('follow'), Type.Literal('unfollow')]), target: Address }),
  closed({ kind: Type.Union([Type.Literal('like'), Type.Literal('unlike')]), postId: Hash }),
  closed({ kind: Type.Union([Type.Literal('stake'), Type.Literal('unstake')]), amount: Decimal })
], { description: 'what a tx does; `null` in a profile tx leaves that field as it was' })

export const TxKind = Type.Unsafe<TxKindName>(Type.Union(TX_KINDS.map((k) => Type.Literal(k))))

export const Tx = closed({
  id: Hash,
  chainId: Type.String(),
  kind: TxKind,
  sender: Address,
  nonce: Decimal,
  fee: Decimal,
  body: TxBody,
  signature: SignatureHex,
  size: Type.Integer({ minimum: 1, description: 'encoded bytes, signature included' })
}, 'a decoded, signed tx')

export const BlockHeader = closed({
  version: Uint,
  chainId: Type.String(),
  height: Height,
  timeMs: TimeMs,
  prevHash: Hash,
  txRoot: Hash,
  stateRoot: Hash,
  proposer: Address,
  validatorsHash: Hash,
  lastCommitHash: Hash
}, 'a block header')

export const Commit = closed({
  height: Height,
  round: Uint,
  blockHash: Hash,
  signatures: Type.Array(closed({ validator: Address, signature: SignatureHex }))
}, 'precommits of more than 2/3 of the stake for a block')

export const Block = closed({
  height: Height,
  hash: Hash,
  header: BlockHeader,
  txs: Type.Union([Type.Array(Hash), Type.Array(Tx)], { description: 'tx ids, or decoded txs with {full: true}' }),
  lastCommit: nullable(Commit),
  commit: nullable(Commit)
}, 'a block, with its parent\'s commit and its own (null until known)')

export const ChainParams = closed({
  chainId: Type.String(),
  addressPrefix: Type.String({ pattern: '^[a-z]{1,16}$' }),
  genesisTimeMs: TimeMs,
  params: closed({
    blockTimeMs: Uint,
    maxTxBytes: Uint,
    maxBlockBytes: Uint,
    maxBlockTxs: Uint,
    maxPostBytes: Uint,
    maxBioBytes: Uint,
    maxUrlBytes: Uint,
    maxDisplayNameBytes: Uint,
    minFeePerByte: Decimal,
    epochBlocks: Uint,
    unbondingBlocks: Uint,
    maxValidators: Uint,
    minValidatorStake: Decimal
  }, 'the genesis parameters (genesis/README.md)')
}, 'what a client needs to build and price a tx')

export const TxSubmitted = Type.Union([
  closed({ id: Hash }),
  closed({ id: Hash, height: Height, index: Uint })
], { description: '{id} once in the mempool; {id, height, index} once included (with wait: "commit")' })

export const FaucetSent = closed({ id: Hash, height: Height, index: Uint, amount: Decimal }, 'the dev key\'s transfer, included')

export const TxStatus = Type.Union([
  closed({ status: Type.Literal('pending'), tx: Tx }),
  closed({ status: Type.Literal('included'), height: Height, index: Uint, tx: Tx }),
  closed({ status: Type.Literal('unknown'), id: Hash })
], { description: 'a tx and where it is' })

export const Validator = closed({ address: Address, stake: Decimal, power: Decimal, proposerPriority: SignedDecimal }, 'a validator of the next height')

const signedProposal = closed({ blockHash: Hash, polRound: Type.Integer({ minimum: -1 }), signature: SignatureHex })
const signedVote = closed({ blockHash: nullable(Hash), signature: SignatureHex })

export const Evidence = Type.Union([
  closed({ kind: Type.Literal('proposal'), height: Height, round: Uint, validator: Address, first: signedProposal, second: signedProposal }),
  closed({ kind: Type.Union([Type.Literal('prevote'), Type.Literal('precommit')]), height: Height, round: Uint, validator: Address, first: signedVote, second: signedVote })
], { description: 'two conflicting signed proposals or votes by one validator at one height, round and step' })

export const NodeStatus = closed({
  version: Type.String(),
  chainId: Type.String(),
  height: Height,
  syncing: Type.Boolean(),
  syncTarget: nullable(Height),
  peerCount: Uint,
  peerId: nullable(PeerId),
  listenAddrs: Type.Array(Type.String({ description: 'a multiaddr ending in /p2p/<peerId>' })),
  validator: nullable(Address),
  lastBlockAgeMs: Uint
}, 'the node\'s version, chain, height and peers')

export const Peer = closed({
  peerId: PeerId,
  remoteAddr: Type.String(),
  direction: Type.Union([Type.Literal('inbound'), Type.Literal('outbound')]),
  score: Type.Number({ description: 'the gossipsub score: 0 for a well-behaved peer, negative for misbehaviour' })
}, 'a connected peer')

export const Peers = closed({ items: Type.Array(Peer) }, 'the connected peers')

/** A fee per encoded byte: a decimal with at most 6 fractional digits (rounded down). */
export const FeePerByte = Type.String({ pattern: '^(0|[1-9][0-9]*)(\\.[0-9]{1,6})?$', description: 'a fee per encoded byte, as a decimal string (at most 6 fractional digits, rounded down)' })

export const MempoolStatus = closed({
  count: Uint,
  bytes: Type.Integer({ minimum: 0, description: 'encoded bytes of the pending txs' }),
  feePerByte: nullable(closed({ min: FeePerByte, median: FeePerByte, max: FeePerByte }, 'fee per encoded byte of the pending txs'))
}, 'the pending txs: how many, their bytes, and what they pay per byte (null when there are none)')

// ---- WebSocket: subscription events and notifications

/** The subscription topics (subscriptions.ts TOPICS; a test checks they agree). */
export const TOPIC_NAMES = ['newHeads', 'posts', 'txStatus'] as const
export const Topic = Type.Union(TOPIC_NAMES.map((t) => Type.Literal(t)), { description: 'newHeads, posts or txStatus' })

export const NewHeadEvent = closed({ eventId: EventId, height: Height, hash: Hash, timeMs: TimeMs, stateRoot: Hash, txs: Type.Integer({ minimum: 0, description: 'how many txs the block holds' }) }, 'a committed block (topic newHeads)')

export const PostEvent = closed({ ...Post.properties, eventId: EventId }, 'a committed post (topic posts)')

export const TxStatusEvent = closed({ eventId: EventId, txId: Hash, status: Type.Literal('included'), height: Height, index: Uint }, 'a tx included in a block (topic txStatus)')

/** `{"jsonrpc":"2.0","method":"subscription","params":{...}}`: one event of a subscription. */
export const SubscriptionNotification = closed({
  jsonrpc: Type.Literal('2.0'),
  method: Type.Literal('subscription'),
  params: closed({ subscription: SubscriptionId, result: Type.Union([NewHeadEvent, PostEvent, TxStatusEvent]) })
}, 'an event, sent to the subscription\'s connection')

/** The last notification of each subscription of a connection dropped for its load (websocket.ts). */
export const SubscriptionDropped = closed({
  jsonrpc: Type.Literal('2.0'),
  method: Type.Literal('subscriptionDropped'),
  params: closed({
    subscription: SubscriptionId,
    reason: Type.Union([Type.Literal('SLOW_READER'), Type.Literal('RATE_LIMITED'), Type.Literal('BUSY')]),
    lastEventId: nullable(EventId),
    fromEventId: Type.Union([EventId, Type.Null()], { description: 'what to subscribe again with (filter.fromEventId) to miss and repeat nothing; null: subscribe afresh' }),
    message: Type.String()
  })
}, 'sent before the node closes a connection it dropped (close code 4008, 4029 or 1013)')

export type HeadView = Static<typeof Head>
export type AccountView = Static<typeof Account>
export type ProfileSummaryView = Static<typeof ProfileSummary>
export type ProfileView = Static<typeof Profile>
export type PostView = Static<typeof Post>
export type TxView = Static<typeof Tx>
export type BlockView = Static<typeof Block>
export type MempoolStatusView = Static<typeof MempoolStatus>
export type TxBodyView = Static<typeof TxBody>
export type BlockHeaderView = Static<typeof BlockHeader>
export type CommitView = Static<typeof Commit>
export type EvidenceView = Static<typeof Evidence>
export type ValidatorView = Static<typeof Validator>
export type NodeStatusView = Static<typeof NodeStatus>
export type PeerView = Static<typeof Peer>
export type ChainParamsView = Static<typeof ChainParams>
export type TxStatusView = Static<typeof TxStatus>
export type TxSubmittedView = Static<typeof TxSubmitted>
export type FaucetSentView = Static<typeof FaucetSent>
export type PostWithAuthorView = Static<typeof PostWithAuthor>
export type NewHeadEventView = Static<typeof NewHeadEvent>
export type PostEventView = Static<typeof PostEvent>
export type TxStatusEventView = Static<typeof TxStatusEvent>
export type SubscriptionDroppedView = Static<typeof SubscriptionDropped>

/** The schemas the OpenRPC document names in components.schemas (and refers to wherever they occur). */
export const NAMED_SCHEMAS: Record<string, TSchema> = {
  Head, Account, ProfileSummary, Profile, Post, PostWithAuthor, TxBody, Tx, BlockHeader, Commit, Block, ChainParams,
  TxSubmitted, FaucetSent, TxStatus, Validator, Evidence, NodeStatus, Peer, MempoolStatus,
  NewHeadEvent, PostEvent, TxStatusEvent, SubscriptionNotification, SubscriptionDropped
}
