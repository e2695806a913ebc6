/** A profile: who, the counters, and their posts newest first, paged. */
import { useState } from 'preact/hooks'
import { Link } from 'wouter-preact'
import { decodeAddress, follow, unfollow, type ProfileView } from '../../../src/client/index.ts'
import { Actions, useKey } from '../key.tsx'
import { Show, useLoad } from '../load.tsx'
import { Paged, PostItem } from '../posts.tsx'
import { rpc } from '../rpc.ts'

export function ProfilePage ({ who }: { who: string }) {
  const [version, setVersion] = useState(0)
  const { signer } = useKey()
  const viewer = signer?.address()
  const loaded = useLoad(`${who} ${viewer ?? ''}`, async () => await rpc.getProfile(who, viewer), version)
  return (
    <Show loaded={loaded} what={`the profile ${who}`}>{(p: ProfileView) => (
      <>
        <h1>{p.displayName !== '' ? p.displayName : p.username !== null ? `@${p.username}` : 'An account'}</h1>
        {p.username !== null && <p class='username'>@{p.username}</p>}
        <p><code class='id'>{p.address}</code></p>
        {p.bio !== '' && <p class='bio'>{p.bio}</p>}
        {p.avatarUrl !== '' && <p class='avatar'>Avatar: <span class='text'>{p.avatarUrl}</span> (not loaded: this page makes no request to other sites)</p>}
        <ul class='counters' aria-label='Counters'>
          <li><strong data-testid='post-count'>{p.postCount}</strong> {p.postCount === 1 ? 'post' : 'posts'}</li>
          <li><Link href={`/profile/${p.address}/followers`}><strong data-testid='follower-count'>{p.followerCount}</strong> {p.followerCount === 1 ? 'follower' : 'followers'}</Link></li>
          <li><Link href={`/profile/${p.address}/following`}><strong data-testid='following-count'>{p.followingCount}</strong> following</Link></li>
        </ul>
        <p><Link href={`/profile/${p.address}/feed`}>Home feed</Link></p>
        {p.viewer?.followedBy === true && <p class='hint'>Follows you</p>}
        {signer !== null && signer.address() !== p.address && (
          <Actions done={() => setVersion((n) => n + 1)} actions={[
            p.viewer?.following === true
              ? { label: 'Unfollow', what: 'Your unfollow', body: () => unfollow(decodeAddress(p.address)!) }
              : { label: 'Follow', what: 'Your follow', body: () => follow(decodeAddress(p.address)!) }
          ]} />
        )}
        <h2>Posts</h2>
        <Paged key={p.address} label='Posts' empty='No posts yet.' fetchPage={async (c) => await rpc.listPostsByAuthor(p.address, c, 20)} render={(post) => <PostItem post={{ ...post, authorProfile: post.authorProfile ?? p }} />} />
      </>
    )}</Show>
  )
}
