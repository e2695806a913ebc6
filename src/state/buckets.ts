/**
 * Every LevelDB sublevel, with what maps to what. Numbers are big-endian so
 * LevelDB order is numeric order. A name is never reused for another layout.
 *
 * State buckets (hashed into the state root), chain buckets, then node-local
 * derived indexes (rebuilt from the state when their version changes).
 */
export const Bucket = {
  /** address(32) -> Account */
  account: 'acct',
  /** username(utf8) -> address(32) */
  username: 'name',
  /** postId(32) -> Post */
  post: 'post',
  /** author(32) ‖ height(u64) ‖ index(u32) -> postId(32); newest last */
  postByAuthor: 'pba',
  /** parentId(32) ‖ height(u64) ‖ index(u32) -> replyId(32); oldest first */
  reply: 'rep',
  /** follower(32) ‖ target(32) -> height(u64) */
  following: 'fwg',
  /** target(32) ‖ follower(32) -> height(u64) */
  follower: 'fwr',
  /** postId(32) ‖ liker(32) -> height(u64) */
  like: 'lk',
  /** liker(32) ‖ postId(32) -> height(u64) */
  likedBy: 'lkb',
  /** releaseHeight(u64) ‖ address(32) -> amount (canonical int) */
  unbonding: 'unb',
  /** address(32) -> stake (canonical int), for every account with stake > 0: the validator candidates */
  staker: 'stk',

  /** height(u64) -> block bytes */
  block: 'blk',
  /** height(u64) -> the Commit that finalised the block at that height */
  commit: 'cmt',
  /** blockHash(32) -> height(u64) */
  blockHash: 'bh',
  /** txId(32) -> [height, index] */
  txIndex: 'tx',
  /** 'head' -> Head; 'validators' -> the validator set with priorities; 'genesis' -> genesis hash */
  meta: 'meta',
  /** height(u64) -> evidence of equivocation seen at that height */
  evidence: 'ev',

  /** height(u64) ‖ index(u32) -> postId(32): every post in chain order (a derived index, chain/derived-indexes.ts) */
  postOrder: 'pord',
  /** reader(32) ‖ height(u64) ‖ tag(u32) -> post indices: home timelines (a derived index, feed/timeline-rows.ts) */
  timeline: 'tl',
  /** author(32) -> height(u64) it became one: authors read by merge rather than fanned out (feed/timeline-indexer.ts) */
  celebrity: 'celb'
} as const
export type Bucket = typeof Bucket[keyof typeof Bucket]

export const STATE_BUCKETS: readonly Bucket[] = [
  Bucket.account, Bucket.username, Bucket.post, Bucket.postByAuthor, Bucket.reply,
  Bucket.following, Bucket.follower, Bucket.like, Bucket.likedBy, Bucket.unbonding, Bucket.staker
]
export const ALL_BUCKETS: readonly Bucket[] = Object.values(Bucket)
