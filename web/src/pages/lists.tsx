/** Lists of an account: its followers, whom it follows, and its home feed (posts of those it follows), each paged. */
import { Link } from 'wouter-preact'
import type { ProfileSummary, ProfileView } from '../../../src/client/index.ts'
import { AddressLink, Show, useLoad } from '../load.tsx'
import { Paged, PostsPaged, nameOf } from '../posts.tsx'
import { rpc } from '../rpc.ts'

export type ListKind = 'followers' | 'following' | 'feed'
const TITLES: Record<ListKind, string> = { followers: 'Followers of', following: 'Followed by', feed: 'Home feed of' }

function Person ({ p }: { p: ProfileSummary }) {
  return <p class='person'><AddressLink address={p.address} label={nameOf(p)} />{p.username !== null && p.displayName !== '' && <span class='username'> @{p.username}</span>}</p>
}

export function ListPage ({ who, kind }: { who: string, kind: ListKind }) {
  const loaded = useLoad(who, async () => await rpc.getProfile(who))
  return (
    <Show loaded={loaded} what={`the profile ${who}`}>{(p: ProfileView) => {
      const name = p.username !== null ? `@${p.username}` : p.address
      return (
        <>
          <h1>{TITLES[kind]} {name}</h1>
          <p><Link href={`/profile/${p.address}`}>Back to the profile</Link></p>
          {kind === 'feed'
            ? <PostsPaged key={`feed:${p.address}`} label='Feed' empty='Nothing yet: no posts by accounts this one follows.' fetchPage={async (c) => await rpc.getFeed(p.address, c, 20)} />
            : <Paged key={`${kind}:${p.address}`} label={kind} empty={kind === 'followers' ? 'No followers yet.' : 'Follows nobody yet.'}
              fetchPage={async (c) => kind === 'followers' ? await rpc.getFollowers(p.address, c, 50) : await rpc.getFollowing(p.address, c, 50)} render={(x) => <Person p={x} />} />}
        </>
      )
    }}</Show>
  )
}
