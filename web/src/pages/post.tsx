/** A post in its thread: the posts it replies to above, its replies below; with a key, like, repost and reply. */
import { useState } from 'preact/hooks'
import { like, parseHex, reply, repost, unlike, type PostWithAuthorView, type Signer } from '../../../src/client/index.ts'
import { Actions, useKey, useSend } from '../key.tsx'
import { Show, useLoad } from '../load.tsx'
import { PostItem, PostsPaged } from '../posts.tsx'
import { rpc } from '../rpc.ts'

/** How far up a thread the page reads: a reply to a reply to … shows its nearest ancestors. */
const ANCESTORS = 8

interface Thread { post: PostWithAuthorView, ancestors: PostWithAuthorView[], truncated: boolean }

async function loadThread (id: string, viewer: string | undefined): Promise<Thread> {
  const post = await rpc.getPost(id, viewer)
  const ancestors: PostWithAuthorView[] = []
  let parent = post.replyTo
  while (parent !== null && ancestors.length < ANCESTORS) {
    const p = await rpc.getPost(parent)
    ancestors.unshift(p)
    parent = p.replyTo
  }
  return { post, ancestors, truncated: parent !== null }
}

function ReplyForm ({ signer, to, done }: { signer: Signer, to: string, done: () => void }) {
  const [text, setText] = useState('')
  const replying = useSend(signer, () => { setText(''); done() })
  return (
    <form onSubmit={(e) => { e.preventDefault(); replying.send('Your reply', reply(parseHex(to)!, text)) }}>
      <label for='reply-text'>Your reply</label>
      <textarea id='reply-text' rows={3} value={text} onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} />
      <button type='submit' disabled={replying.busy || text.trim() === ''}>Reply</button>
      {replying.line}
    </form>
  )
}

export function PostPage ({ id }: { id: string }) {
  const [version, setVersion] = useState(0)
  const { signer } = useKey()
  const viewer = signer?.address()
  const refresh = () => setVersion((n) => n + 1)
  const loaded = useLoad(`${id} ${viewer ?? ''}`, async () => await loadThread(id, viewer), version)
  return (
    <>
      <h1>Post</h1>
      <Show loaded={loaded} what='the post'>{({ post, ancestors, truncated }: Thread) => (
        <>
          {ancestors.length > 0 && (
            <section class='thread' aria-label='In reply to'>
              {truncated && <p class='hint'>Earlier posts in this thread are not shown.</p>}
              <ol class='items'>{ancestors.map((a) => <li key={a.id}><PostItem post={a} /></li>)}</ol>
            </section>
          )}
          <div class='focus'><PostItem post={post} /></div>
          <Actions done={refresh} actions={[
            post.viewer?.liked === true
              ? { label: 'Unlike', what: 'Your unlike', body: () => unlike(parseHex(post.id)!) }
              : { label: 'Like', what: 'Your like', body: () => like(parseHex(post.id)!) },
            { label: 'Repost', what: 'Your repost', body: () => repost(parseHex(post.id)!) }
          ]} />
          {signer !== null && <ReplyForm signer={signer} to={post.id} done={refresh} />}
          <h2>Replies</h2>
          <PostsPaged key={`${post.id} ${version}`} label='Replies' empty='No replies yet.' fetchPage={async (c) => await rpc.listReplies(post.id, c, 20)} />
        </>
      )}</Show>
    </>
  )
}
