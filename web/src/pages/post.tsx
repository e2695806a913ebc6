/** A post with its author and counters, and its replies. */
import { useState } from 'preact/hooks'
import { like, parseHex, repost, unlike, type PostWithAuthorView } from '../../../src/client/index.ts'
import { Actions } from '../key.tsx'
import { Show, useLoad } from '../load.tsx'
import { Paged, PostItem } from '../posts.tsx'
import { rpc } from '../rpc.ts'

export function PostPage ({ id }: { id: string }) {
  const [version, setVersion] = useState(0)
  const loaded = useLoad(id, async () => await rpc.getPost(id), version)
  return (
    <>
      <h1>Post</h1>
      <Show loaded={loaded} what='the post'>{(post: PostWithAuthorView) => (
        <>
          <PostItem post={post} />
          <Actions done={() => setVersion((n) => n + 1)} actions={[
            { label: 'Like', what: 'Your like', body: () => like(parseHex(post.id)!) },
            { label: 'Unlike', what: 'Your unlike', body: () => unlike(parseHex(post.id)!) },
            { label: 'Repost', what: 'Your repost', body: () => repost(parseHex(post.id)!) }
          ]} />
          <h2>Replies</h2>
          <Paged key={post.id} label='Replies' empty='No replies yet.' fetchPage={async (c) => await rpc.listReplies(post.id, c, 20)} render={(r) => <PostItem post={r} />} />
        </>
      )}</Show>
    </>
  )
}
