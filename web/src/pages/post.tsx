/** A post with its author and counters, and its replies. */
import type { PostWithAuthorView } from '../../../src/client/index.ts'
import { Show, useLoad } from '../load.tsx'
import { Paged, PostItem } from '../posts.tsx'
import { rpc } from '../rpc.ts'

export function PostPage ({ id }: { id: string }) {
  const loaded = useLoad(id, async () => await rpc.getPost(id))
  return (
    <>
      <h1>Post</h1>
      <Show loaded={loaded} what='the post'>{(post: PostWithAuthorView) => (
        <>
          <PostItem post={post} />
          <h2>Replies</h2>
          <Paged key={post.id} label='Replies' empty='No replies yet.' fetchPage={async (c) => await rpc.listReplies(post.id, c, 20)} render={(r) => <PostItem post={r} />} />
        </>
      )}</Show>
    </>
  )
}
