/**
 * JSON shapes of the RPC (DESIGN §9): amounts and nonces as decimal strings, bytes as
 * hex, addresses bech32m. Each view's type is its schema's (api/results.ts), so a
 * field added here and not there, or the other way, does not compile.
 */
import { encodeAddress } from '../crypto/address.ts'
import { binaryKey, toHex } from '../crypto/bytes.ts'
import type { Head } from '../chain/chain.ts'
import type { Evidence } from '../chain/evidence.ts'
import type { Block, BlockHeader, Commit, PublicKey, SignedProposal, SignedTx, SignedVote, TxBody } from '../protocol/types.ts'
import type { ValidatorSet } from '../protocol/validator-set.ts'
import type { Account, Post } from '../state/records.ts'
import type * as R from '../api/results.ts'
import { BoundedMap } from '../util/bounded-map.ts'

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json }

/**
 * Addresses kept once encoded: bech32m costs ~2.8 µs a key (Node 24), and pages name the
 * same accounts again and again (a feed page's 20 posts, by the few hundred accounts the
 * busiest readers follow). 16,384 entries, ~2.5 MB at most (two short strings and a slot each).
 */
const ADDRESSES_KEPT = 16_384

export class Views {
  /** binaryKey(public key) -> its address */
  private readonly addresses = new BoundedMap<string, string>(ADDRESSES_KEPT)

  constructor (readonly prefix: string) {}

  address (k: PublicKey): string {
    const key = binaryKey(k)
    let a = this.addresses.get(key)
    if (a === undefined) this.addresses.set(key, a = encodeAddress(k, this.prefix))
    return a
  }

  head (h: Head): R.HeadView {
    return { height: h.height, hash: toHex(h.hash), timeMs: h.timeMs, stateRoot: toHex(h.stateRoot) }
  }

  account (address: PublicKey, a: Account, pending: number): R.AccountView {
    return {
      address: this.address(address), balance: a.balance.toString(), nonce: a.nonce.toString(),
      stake: a.stake.toString(), unbonding: a.unbonding.toString(), pendingNonce: (a.nonce + pending).toString()
    }
  }

  profile (address: PublicKey, a: Account): R.ProfileView {
    return {
      address: this.address(address), username: a.username, displayName: a.displayName, bio: a.bio, avatarUrl: a.avatarUrl,
      postCount: a.postCount, followerCount: a.followerCount, followingCount: a.followingCount
    }
  }

  profileSummary (address: PublicKey, a: Account): R.ProfileSummaryView {
    return { address: this.address(address), username: a.username, displayName: a.displayName, avatarUrl: a.avatarUrl }
  }

  post (id: Uint8Array, p: Post): R.PostView {
    return {
      id: toHex(id), author: this.address(p.author), text: p.text,
      replyTo: p.replyTo === null ? null : toHex(p.replyTo), repostOf: p.repostOf === null ? null : toHex(p.repostOf),
      height: p.height, timeMs: p.timeMs, likeCount: p.likeCount, replyCount: p.replyCount, repostCount: p.repostCount
    }
  }

  body (b: TxBody): R.TxBodyView {
    switch (b.kind) {
      case 'transfer': return { kind: b.kind, to: this.address(b.to), amount: b.amount.toString() }
      case 'profile': return { kind: b.kind, username: b.username, displayName: b.displayName, bio: b.bio, avatarUrl: b.avatarUrl }
      case 'post': return { kind: b.kind, text: b.text, replyTo: b.replyTo === null ? null : toHex(b.replyTo), repostOf: b.repostOf === null ? null : toHex(b.repostOf) }
      case 'follow': case 'unfollow': return { kind: b.kind, target: this.address(b.target) }
      case 'like': case 'unlike': return { kind: b.kind, postId: toHex(b.postId) }
      case 'stake': case 'unstake': return { kind: b.kind, amount: b.amount.toString() }
    }
  }

  tx (t: SignedTx): R.TxView {
    const u = t.unsigned
    return {
      id: toHex(t.id), chainId: u.chainId, kind: u.body.kind, sender: this.address(u.sender),
      nonce: u.nonce.toString(), fee: u.fee.toString(), body: this.body(u.body), signature: toHex(t.signature), size: t.bytes.length
    }
  }

  header (h: BlockHeader): R.BlockHeaderView {
    return {
      version: h.version, chainId: h.chainId, height: h.height, timeMs: h.timeMs, prevHash: toHex(h.prevHash),
      txRoot: toHex(h.txRoot), stateRoot: toHex(h.stateRoot), proposer: this.address(h.proposer),
      validatorsHash: toHex(h.validatorsHash), lastCommitHash: toHex(h.lastCommitHash)
    }
  }

  commit (c: Commit | null): R.CommitView | null {
    if (c === null) return null
    return {
      height: c.height, round: c.round, blockHash: toHex(c.blockHash),
      signatures: c.signatures.map((s) => ({ validator: this.address(s.validator), signature: toHex(s.signature) }))
    }
  }

  /** A block with its txs decoded (`txs`), or as ids only (`txIds`, chain.getBlockTxIds). */
  block (hash: Uint8Array, b: Omit<Block, 'txs'> & ({ txs: SignedTx[] } | { txIds: Uint8Array[] }), commit: Commit | null): R.BlockView {
    return {
      height: b.header.height, hash: toHex(hash), header: this.header(b.header),
      txs: 'txs' in b ? b.txs.map((t) => this.tx(t)) : b.txIds.map((id) => toHex(id)),
      lastCommit: this.commit(b.lastCommit), commit: this.commit(commit)
    }
  }

  evidence (e: Evidence): R.EvidenceView {
    if (e.kind === 'proposal') {
      const one = (p: SignedProposal) => ({ blockHash: toHex(p.proposal.blockHash), polRound: p.proposal.polRound, signature: toHex(p.signature) })
      return { kind: e.kind, height: e.first.proposal.height, round: e.first.proposal.round, validator: this.address(e.first.proposal.proposer), first: one(e.first), second: one(e.second) }
    }
    const one = (v: SignedVote) => ({ blockHash: v.vote.blockHash === null ? null : toHex(v.vote.blockHash), signature: toHex(v.signature) })
    return { kind: e.kind, height: e.first.vote.height, round: e.first.vote.round, validator: this.address(e.first.vote.validator), first: one(e.first), second: one(e.second) }
  }

  validators (set: ValidatorSet): R.ValidatorView[] {
    return set.validators.map((v) => ({ address: this.address(v.address), stake: v.power.toString(), power: v.power.toString(), proposerPriority: v.priority.toString() }))
  }
}
