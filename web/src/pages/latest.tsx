/** Every post on the chain, newest first: new ones arrive live (the posts subscription), older ones page in. */
import { useEffect, useState } from 'preact/hooks'
import type { PostView } from '../../../src/client/index.ts'
import { withAuthors } from '../authors.ts'
import { type LiveState, subscribeLive } from '../live.ts'
import { LiveStatus } from '../load.tsx'
import { PostsPaged } from '../posts.tsx'
import { rpc } from '../rpc.ts'

/** Live posts kept above the pages; past this the oldest of them fall off (they are in the pages on reload). */
const MAX_LIVE = 200

export function LatestPage () {
  const [live, setLive] = useState<PostView[]>([])
  const [status, setStatus] = useState<LiveState>('connecting')
  useEffect(() => {
    let closed = false
    const stop = subscribeLive('posts', {}, (e) => {
      const { eventId: _, ...post } = e as unknown as PostView & { eventId: string }
      withAuthors([post]).then(([p]) => { if (!closed) setLive((old) => [p!, ...old].sort((a, b) => b.height - a.height).slice(0, MAX_LIVE)) }, () => {})
    }, (s) => { if (!closed) setStatus(s) })
    return () => { closed = true; stop() }
  }, [])
  return (
    <>
      <h1>Latest posts</h1>
      <LiveStatus state={status} live='New posts appear here as they are included' />
      <PostsPaged label='Latest posts' empty='No posts yet.' live={live} fetchPage={async (c) => await rpc.listRecentPosts(c, 20)} />
    </>
  )
}
