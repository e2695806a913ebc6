/**
 * One example per method for the OpenRPC document: params from the example world
 * (examples.ts), which the schema test makes on a live node and runs every example
 * against; results as such a node answers them (heights, hashes and times vary).
 * Each result must match its method's schema (the test checks).
 */
import { encodeAddress } from '../../crypto/address.ts'
import { toHex, utf8 } from '../../crypto/bytes.ts'
import { sha256 } from '../../crypto/hash.ts'
import { VERSION } from '../../version.ts'
import type { ExampleWorld } from './examples.ts'

export interface MethodExample {
  name: string
  /** Positional, in the method's param order (trailing optional params may be left out). */
  params: unknown[]
  result: unknown
}

/** A made-up 32-byte value, as hex. */
const h = (seed: string): string => toHex(sha256(utf8.encode(seed)))
const sig = (seed: string): string => h(`${seed} r`) + h(`${seed} s`)
const T0 = 1_767_225_600_000

export function methodExamples (w: ExampleWorld): Record<string, MethodExample> {
  const alice = w.alice.address()
  const bob = w.bob.address()
  const validator = encodeAddress(sha256(utf8.encode('chorus example key: validator')))
  const postId = w.post.id
  const aliceSummary = { address: alice, username: 'alice', displayName: 'Alice', avatarUrl: 'https://example.com/alice.png' }
  const bobSummary = { address: bob, username: 'bob', displayName: 'Bob', avatarUrl: '' }
  const hello = { id: postId, author: alice, text: 'Hello, Chorus!', replyTo: null, repostOf: null, height: 2, timeMs: T0 + 2000, likeCount: 1, replyCount: 1, repostCount: 0 }
  const welcome = { id: w.reply.id, author: bob, text: 'Welcome!', replyTo: postId, repostOf: null, height: 3, timeMs: T0 + 3000, likeCount: 0, replyCount: 0, repostCount: 0 }
  const helloTx = {
    id: postId, chainId: w.chainId, kind: 'post', sender: alice, nonce: '1', fee: String(w.post.tx.unsigned.fee), size: w.post.tx.bytes.length,
    body: { kind: 'post', text: 'Hello, Chorus!', replyTo: null, repostOf: null }, signature: toHex(w.post.tx.signature)
  }
  const gmTx = {
    id: w.next.id, chainId: w.chainId, kind: 'post', sender: alice, nonce: '2', fee: String(w.next.tx.unsigned.fee), size: w.next.tx.bytes.length,
    body: { kind: 'post', text: 'gm', replyTo: null, repostOf: null }, signature: toHex(w.next.tx.signature)
  }
  const commit = (height: number) => ({ height, round: 0, blockHash: h(`block ${height}`), signatures: [{ validator, signature: sig(`commit ${height}`) }] })
  const page = <T>(items: T[]) => ({ items, cursor: null })
  return {
    chain_getHead: { name: 'the head', params: [], result: { height: 42, hash: h('block 42'), timeMs: T0 + 42_000, stateRoot: h('state 42') } },
    chain_getBlock: {
      name: 'block 2, tx ids only',
      params: [2],
      result: {
        height: 2,
        hash: h('block 2'),
        header: { version: 1, chainId: w.chainId, height: 2, timeMs: T0 + 2000, prevHash: h('block 1'), txRoot: h('txs 2'), stateRoot: h('state 2'), proposer: validator, validatorsHash: h('validators'), lastCommitHash: h('commit 1') },
        txs: [postId],
        lastCommit: commit(1),
        commit: commit(2)
      }
    },
    chain_getParams: {
      name: 'the dev chain',
      params: [],
      result: {
        chainId: w.chainId, addressPrefix: 'chorus', genesisTimeMs: T0,
        params: { blockTimeMs: 1000, maxTxBytes: 8192, maxBlockBytes: 2097152, maxBlockTxs: 5000, maxPostBytes: 4096, maxBioBytes: 512, maxUrlBytes: 256, maxDisplayNameBytes: 64, minFeePerByte: '1', epochBlocks: 100, unbondingBlocks: 1000, maxValidators: 100, minValidatorStake: '1' }
      }
    },
    tx_submit: { name: 'a post, into the mempool', params: [w.next.hex], result: { id: w.next.id } },
    tx_get: { name: 'an included post', params: [postId], result: { status: 'included', height: 2, index: 0, tx: helloTx } },
    account_get: { name: 'an account', params: [alice], result: { address: alice, balance: '999999000', nonce: '2', stake: '0', unbonding: '0', pendingNonce: '2' } },
    profile_get: {
      name: 'a profile by @username, as bob sees it',
      params: ['@alice', bob],
      result: { ...aliceSummary, bio: 'Writes about consensus.', postCount: 1, followerCount: 1, followingCount: 0, viewer: { following: true, followedBy: false } }
    },
    post_get: { name: 'a post, as bob sees it', params: [postId, '@bob'], result: { ...hello, authorProfile: aliceSummary, viewer: { liked: true } } },
    post_listByAuthor: { name: 'an author\'s posts', params: ['@alice', null, 10], result: page([hello]) },
    post_listRecent: { name: 'the latest posts', params: [null, 2], result: { items: [welcome, hello], cursor: null } },
    post_listReplies: { name: 'replies to a post', params: [postId], result: page([welcome]) },
    feed_get: { name: 'what bob follows', params: [bob, null, 20], result: page([hello]) },
    graph_getFollowers: { name: 'alice\'s followers', params: [alice], result: page([bobSummary]) },
    graph_getFollowing: { name: 'whom bob follows', params: ['@bob'], result: page([aliceSummary]) },
    like_list: { name: 'who likes a post', params: [postId], result: page([bobSummary]) },
    validator_list: { name: 'one validator', params: [], result: [{ address: validator, stake: '100', power: '100', proposerPriority: '0' }] },
    validator_getEvidence: { name: 'none seen', params: [null, 20], result: page([]) },
    node_getStatus: {
      name: 'a dev validator',
      params: [],
      result: { version: VERSION, chainId: w.chainId, height: 42, syncing: false, syncTarget: null, peerCount: 0, peerId: null, listenAddrs: [], validator, lastBlockAgeMs: 412 }
    },
    net_peers: {
      name: 'one peer',
      params: [],
      result: { items: [{ peerId: '12D3KooWRBhwfeP2Y4TCx1SM6s9rUoHhR5STiGwxBhgFRcw3UERE', remoteAddr: '/ip4/127.0.0.1/tcp/26656/p2p/12D3KooWRBhwfeP2Y4TCx1SM6s9rUoHhR5STiGwxBhgFRcw3UERE', direction: 'outbound', score: 0 }] }
    },
    mempool_status: { name: 'one pending tx', params: [], result: { count: 1, bytes: w.next.tx.bytes.length, feePerByte: { min: '1', median: '1', max: '1' } } },
    mempool_list: { name: 'the first page', params: [null, 10], result: page([gmTx]) },
    dev_faucet: { name: 'coins for a new key, on a dev chain', params: [bob], result: { id: h('faucet transfer'), height: 7, index: 0, amount: '1000000000' } }
  }
}

/** Examples for `subscribe` and `unsubscribe` (WebSocket only). */
export function subscriptionExamples (w: ExampleWorld): Record<string, MethodExample[]> {
  return {
    subscribe: [
      { name: 'new heads', params: ['newHeads'], result: '0x1' },
      { name: 'posts by accounts bob follows, replayed from block 1', params: ['posts', { followedBy: '@bob', fromEventId: '1:0' }], result: '0x2' },
      { name: 'a tx\'s inclusion', params: ['txStatus', { id: w.post.id }], result: '0x3' }
    ],
    unsubscribe: [{ name: 'an active subscription', params: ['0x1'], result: true }]
  }
}
