/** The node this page came from: its JSON-RPC at POST / and its WebSocket at /ws (the page talks to nothing else). */
import { LiveClient, RpcClient, RpcClientError } from '../../src/client/index.ts'

export const rpc = new RpcClient(location.origin)

export const wsUrl = `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/ws`

/** One WebSocket for the page, opened on first use, and again after it closes. */
let live: Promise<LiveClient> | null = null
export function liveClient (): Promise<LiveClient> {
  if (live === null) {
    const opening = LiveClient.connect(wsUrl)
    live = opening
    opening.then((c) => c.onClose(() => { if (live === opening) live = null }), () => { if (live === opening) live = null })
  }
  return live
}

/** A typed error code in plain words. */
const WORDS: Record<string, string> = {
  NOT_FOUND: 'not found',
  USERNAME_TAKEN: 'that username is taken',
  INVALID_USERNAME: 'a username is 3 to 20 lowercase letters, digits and underscores',
  ALREADY_FOLLOWING: 'you follow this account already',
  NOT_FOLLOWING: 'you do not follow this account',
  ALREADY_LIKED: 'you like this post already',
  NOT_LIKED: 'you do not like this post',
  SELF_FOLLOW: 'you cannot follow yourself',
  TOO_LARGE: 'that is too long',
  INVALID_ADDRESS: 'that is not a valid address',
  MALFORMED: 'that is not well formed',
  INSUFFICIENT_FUNDS: 'not enough funds for this and its fee',
  BAD_NONCE: 'the nonce is out of order: try again',
  FEE_TOO_LOW: 'the fee is too low',
  RATE_LIMITED: 'the node is busy with your requests: try again in a moment',
  BUSY: 'the node is busy: try again in a moment',
  UNAVAILABLE: 'the node cannot be reached',
  TIMEOUT: 'the node took too long to answer'
}

export function inWords (e: unknown): string {
  if (e instanceof RpcClientError) {
    const code = e.data?.code
    if (typeof code === 'string' && WORDS[code] !== undefined) return `${WORDS[code]} (${code})`
    return code === undefined ? e.message : `${e.message} (${code})`
  }
  return e instanceof Error ? e.message : String(e)
}

export function isNotFound (e: unknown): boolean {
  return e instanceof RpcClientError && e.data?.code === 'NOT_FOUND'
}
