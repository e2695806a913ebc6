/**
 * Who wrote a post: lists of posts (feeds, replies, the latest posts) carry only the author's
 * address, so the page asks for the authors' profile summaries, all of a page in one JSON-RPC
 * batch, and remembers them for the page's life (a bounded number).
 */
import { RpcClientError, type PostView, type ProfileView } from '../../src/client/index.ts'
import { rpc } from './rpc.ts'

const MAX_KNOWN = 2_000
const known = new Map<string, ProfileView | null>()

/** `posts` with `authorProfile` filled in where the node knows the author (missing ones are asked for at once). */
export async function withAuthors (posts: PostView[]): Promise<PostView[]> {
  const missing = [...new Set(posts.filter((p) => p.authorProfile === undefined && !known.has(p.author)).map((p) => p.author))]
  if (missing.length > 0) {
    const answers = await rpc.callMany<ProfileView>(missing.map((a) => ({ method: 'profile_get', params: [a] })))
    if (known.size + missing.length > MAX_KNOWN) known.clear()
    missing.forEach((a, i) => { const r = answers[i]; known.set(a, r instanceof RpcClientError || r === undefined ? null : r) })
  }
  return posts.map((p) => {
    const who = p.authorProfile ?? known.get(p.author) ?? undefined
    return who === undefined ? p : { ...p, authorProfile: { address: who.address, username: who.username, displayName: who.displayName, avatarUrl: who.avatarUrl } }
  })
}

/** After the user's own profile changes: ask again next time. */
export function forgetAuthor (address: string): void {
  known.delete(address)
}
