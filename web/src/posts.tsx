/** A post in a list, and a list that pages on with the RPC's cursor. */
import type { ComponentChildren } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import { Link } from 'wouter-preact'
import type { Page, PostView } from '../../src/client/index.ts'
import { AddressLink, time } from './load.tsx'
import { inWords } from './rpc.ts'

export function PostItem ({ post }: { post: PostView }) {
  const who = post.authorProfile
  return (
    <article class='post' data-post-id={post.id}>
      <p class='meta'>
        <AddressLink address={post.author} label={who === undefined ? null : (who.displayName !== '' ? who.displayName : who.username === null ? null : `@${who.username}`)} />
        {' · '}<Link href={`/post/${post.id}`}><time dateTime={new Date(post.timeMs).toISOString()}>{time(post.timeMs)}</time></Link>
        {post.replyTo !== null && <> · reply to <Link href={`/post/${post.replyTo}`}>a post</Link></>}
        {post.repostOf !== null && <> · repost of <Link href={`/post/${post.repostOf}`}>a post</Link></>}
      </p>
      <p class='text'>{post.text}</p>
      <p class='counts'>{post.likeCount} {post.likeCount === 1 ? 'like' : 'likes'} · {post.replyCount} {post.replyCount === 1 ? 'reply' : 'replies'} · {post.repostCount} {post.repostCount === 1 ? 'repost' : 'reposts'}</p>
    </article>
  )
}

/** Items from `fetchPage`, newest first as the RPC gives them, with a button for the next page while there is one. */
export function Paged<T> ({ fetchPage, render, empty, label }: { fetchPage: (cursor: string | null) => Promise<Page<T>>, render: (item: T) => ComponentChildren, empty: string, label: string }) {
  const [items, setItems] = useState<T[]>([])
  const [cursor, setCursor] = useState<string | null>(null)
  const [state, setState] = useState<'loading' | 'idle' | 'done'>('loading')
  const [problem, setProblem] = useState<string | null>(null)
  const load = (from: string | null) => {
    setState('loading')
    fetchPage(from).then((page) => {
      setItems((old) => from === null ? page.items : [...old, ...page.items])
      setCursor(page.cursor)
      setState(page.cursor === null ? 'done' : 'idle')
      setProblem(null)
    }, (e: unknown) => { setProblem(inWords(e)); setState('idle') })
  }
  useEffect(() => { load(null) }, [])
  return (
    <section aria-label={label}>
      {items.length === 0 && state === 'done' && <p>{empty}</p>}
      <ol class='items'>{items.map((item, i) => <li key={i}>{render(item)}</li>)}</ol>
      {problem !== null && <p class='problem' role='alert'>{problem}</p>}
      {state === 'loading' && <p aria-busy='true'>Loading…</p>}
      {state === 'idle' && cursor !== null && <button type='button' onClick={() => load(cursor)}>Older</button>}
    </section>
  )
}
