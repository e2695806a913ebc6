/** A post in a list, and a list that pages on with the RPC's cursor. */
import type { ComponentChildren } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import { Link } from 'wouter-preact'
import type { Page, PostView, ProfileSummary } from '../../src/client/index.ts'
import { withAuthors } from './authors.ts'
import { AddressLink, time } from './load.tsx'
import { inWords } from './rpc.ts'

const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`

/** How a person is named: display name, else @username, else (null) their address. */
export const nameOf = (p: ProfileSummary | undefined): string | null =>
  p === undefined ? null : p.displayName !== '' ? p.displayName : p.username === null ? null : `@${p.username}`

export function PostItem ({ post }: { post: PostView }) {
  return (
    <article class='post' data-post-id={post.id}>
      <p class='meta'>
        <AddressLink address={post.author} label={nameOf(post.authorProfile)} />
        {' · '}<Link href={`/post/${post.id}`}><time dateTime={new Date(post.timeMs).toISOString()}>{time(post.timeMs)}</time></Link>
        {post.replyTo !== null && <> · reply to <Link href={`/post/${post.replyTo}`}>a post</Link></>}
        {post.repostOf !== null && <> · repost of <Link href={`/post/${post.repostOf}`}>a post</Link></>}
      </p>
      {post.text !== '' && <p class='text'>{post.text}</p>}
      <p class='counts'>
        {plural(post.likeCount, 'like', 'likes')} · <Link href={`/post/${post.id}`}>{plural(post.replyCount, 'reply', 'replies')}</Link> · {plural(post.repostCount, 'repost', 'reposts')}
      </p>
    </article>
  )
}

/**
 * Items from `fetchPage`, in the order the RPC gives them, with a button for the next page while
 * there is one. `live` items (arrived since, newest first) go above, leaving out any the pages hold.
 */
export function Paged<T> ({ fetchPage, render, empty, label, live = [], keyOf }: {
  fetchPage: (cursor: string | null) => Promise<Page<T>>
  render: (item: T) => ComponentChildren
  empty: string
  label: string
  live?: T[]
  keyOf?: (item: T) => string
}) {
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
  const paged = keyOf === undefined ? null : new Set(items.map(keyOf))
  const shown = [...live.filter((x) => paged === null || !paged.has(keyOf!(x))), ...items]
  return (
    <section aria-label={label}>
      {shown.length === 0 && state === 'done' && <p>{empty}</p>}
      <ol class='items'>{shown.map((item, i) => <li key={keyOf === undefined ? i : keyOf(item)}>{render(item)}</li>)}</ol>
      {problem !== null && <p class='problem' role='alert'>{problem}</p>}
      {state === 'loading' && <p aria-busy='true'>Loading…</p>}
      {state === 'idle' && cursor !== null && <button type='button' onClick={() => load(cursor)}>Older</button>}
    </section>
  )
}

/** Posts from `fetchPage`, paged, each with its author named (lists of posts carry only addresses). */
export function PostsPaged ({ fetchPage, empty, label, live }: { fetchPage: (cursor: string | null) => Promise<Page<PostView>>, empty: string, label: string, live?: PostView[] }) {
  return (
    <Paged label={label} empty={empty} live={live} keyOf={(p) => p.id} render={(p) => <PostItem post={p} />}
      fetchPage={async (c) => { const page = await fetchPage(c); return { ...page, items: await withAuthors(page.items) } }} />
  )
}
