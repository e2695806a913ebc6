/**
 * A typed JSON-RPC client for apps (browser-safe: uses fetch). Errors come
 * back as RpcClientError with the JSON-RPC code and, for refused txs and
 * other typed failures, `data.code` (e.g. USERNAME_TAKEN).
 *
 * The answers' types come from the RPC's schema (src/api/results.ts),
 * the one the node validates against and the OpenRPC document shows. The
 * import is type-only: no schema code is bundled into an app.
 */
import type * as R from '../api/results.ts'

export type Head = R.HeadView
export type AccountView = R.AccountView
export type ProfileSummary = R.ProfileSummaryView
export type ProfileView = R.ProfileView
/** A post; `post_get` adds its author's profile summary. */
export type PostView = R.PostView & { authorProfile?: ProfileSummary }
export type PostWithAuthorView = R.PostWithAuthorView
export interface Page<T> { items: T[], cursor: string | null }
export type TxView = R.TxView
/** `tx_get`'s answer (R.TxStatusView, a union on `status`), flattened as this SDK has always given it. */
export interface TxStatus { status: R.TxStatusView['status'], height?: number, index?: number, tx?: TxView, id?: string }
export type ChainParamsView = R.ChainParamsView
export type NodeStatusView = R.NodeStatusView
/** A connected peer (`net_peers`). */
export type PeerView = R.PeerView
export type ValidatorView = R.ValidatorView
export type BlockView = R.BlockView
export type EvidenceView = R.EvidenceView
export type MempoolStatusView = R.MempoolStatusView
export type FaucetSentView = R.FaucetSentView

export class RpcClientError extends Error {
  constructor (readonly code: number, message: string, readonly data?: { code?: string, [k: string]: unknown }) {
    super(message)
    this.name = 'RpcClientError'
  }

  /** The typed Chorus error code, when the node gave one. */
  get typedCode (): string | undefined { return this.data?.code }
}

export interface RpcClientOptions {
  /** Per request; a request still waiting then is aborted. */
  timeoutMs?: number
  fetch?: typeof fetch
}

export class RpcClient {
  private nextId = 1
  private readonly timeoutMs: number
  private readonly fetchFn: typeof fetch

  constructor (readonly url: string, opts: RpcClientOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? 60_000
    this.fetchFn = opts.fetch ?? globalThis.fetch.bind(globalThis)
  }

  /** One raw call. */
  async call<T> (method: string, params: unknown[] | Record<string, unknown> = []): Promise<T> {
    const body = await this.post<{ result?: T, error?: { code: number, message: string, data?: { code?: string } } }>({ jsonrpc: '2.0', id: this.nextId++, method, params })
    if (body.error !== undefined) throw new RpcClientError(body.error.code, body.error.message, body.error.data)
    return body.result as T
  }

  /** POSTs one JSON-RPC request (or batch) and parses the answer; UNAVAILABLE when there is none. */
  private async post<A> (request: unknown): Promise<A> {
    let res: Response
    try {
      res = await this.fetchFn(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(request),
        signal: AbortSignal.timeout(this.timeoutMs)
      })
    } catch (e) {
      throw new RpcClientError(-32002, `cannot reach ${this.url}: ${(e as Error).message}`, { code: 'UNAVAILABLE' })
    }
    const text = await res.text()
    try {
      return JSON.parse(text) as A
    } catch {
      throw new RpcClientError(-32700, `the node answered HTTP ${res.status} with non-JSON`, { code: 'UNAVAILABLE' })
    }
  }

  /**
   * Several calls in one JSON-RPC batch (one request, answered in order): each answer is its result,
   * or the RpcClientError it failed with. A failure of the whole request throws, as `call` does.
   */
  async callMany<T> (calls: ReadonlyArray<{ method: string, params?: unknown[] | Record<string, unknown> }>): Promise<Array<T | RpcClientError>> {
    if (calls.length === 0) return []
    const first = this.nextId
    this.nextId += calls.length
    const body = calls.map((c, i) => ({ jsonrpc: '2.0', id: first + i, method: c.method, params: c.params ?? [] }))
    const answers = await this.post<Array<{ id: number, result?: T, error?: { code: number, message: string, data?: { code?: string } } }> | { error?: { code: number, message: string, data?: { code?: string } } }>(body)
    if (!Array.isArray(answers)) {
      const e = answers.error
      throw new RpcClientError(e?.code ?? -32603, e?.message ?? 'the node did not answer the batch', e?.data)
    }
    const byId = new Map(answers.map((a) => [a.id, a]))
    return calls.map((_, i) => {
      const a = byId.get(first + i)
      if (a === undefined) return new RpcClientError(-32603, 'the node left this call unanswered', { code: 'UNAVAILABLE' })
      return a.error !== undefined ? new RpcClientError(a.error.code, a.error.message, a.error.data) : a.result as T
    })
  }

  getHead (): Promise<Head> { return this.call('chain_getHead') }
  getBlock (heightOrHash: number | string, full = false): Promise<BlockView> { return this.call('chain_getBlock', [heightOrHash, { full }]) }
  getParams (): Promise<ChainParamsView> { return this.call('chain_getParams') }
  submitTx (signedTxHex: string, opts: { wait?: 'commit' | 'mempool' } = {}): Promise<{ id: string, height?: number, index?: number }> {
    return this.call('tx_submit', [signedTxHex, opts])
  }
  getTx (id: string): Promise<TxStatus> { return this.call('tx_get', [id]) }
  getAccount (address: string): Promise<AccountView> { return this.call('account_get', [address]) }
  /** With `viewer` (an address or @username), the answer's `viewer` says whether it follows this account and is followed by it. */
  getProfile (addressOrUsername: string, viewer?: string): Promise<ProfileView> { return this.call('profile_get', viewer === undefined ? [addressOrUsername] : [addressOrUsername, viewer]) }
  /** With `viewer`, the answer's `viewer.liked` says whether it likes the post. */
  getPost (id: string, viewer?: string): Promise<PostWithAuthorView> { return this.call('post_get', viewer === undefined ? [id] : [id, viewer]) }
  /** Every post on the chain, newest first. */
  listRecentPosts (cursor: string | null = null, limit = 20): Promise<Page<PostView>> { return this.call('post_listRecent', [cursor, limit]) }
  listPostsByAuthor (address: string, cursor: string | null = null, limit = 20): Promise<Page<PostView>> { return this.call('post_listByAuthor', [address, cursor, limit]) }
  listReplies (id: string, cursor: string | null = null, limit = 20): Promise<Page<PostView>> { return this.call('post_listReplies', [id, cursor, limit]) }
  getFeed (address: string, cursor: string | null = null, limit = 20): Promise<Page<PostView>> { return this.call('feed_get', [address, cursor, limit]) }
  getFollowers (address: string, cursor: string | null = null, limit = 20): Promise<Page<ProfileSummary>> { return this.call('graph_getFollowers', [address, cursor, limit]) }
  getFollowing (address: string, cursor: string | null = null, limit = 20): Promise<Page<ProfileSummary>> { return this.call('graph_getFollowing', [address, cursor, limit]) }
  listLikes (postId: string, cursor: string | null = null, limit = 20): Promise<Page<ProfileSummary>> { return this.call('like_list', [postId, cursor, limit]) }
  listValidators (): Promise<ValidatorView[]> { return this.call('validator_list') }
  listEvidence (cursor: string | null = null, limit = 20): Promise<Page<EvidenceView>> { return this.call('validator_getEvidence', [cursor, limit]) }
  getStatus (): Promise<NodeStatusView> { return this.call('node_getStatus') }
  getPeers (): Promise<{ items: PeerView[] }> { return this.call('net_peers') }
  getMempoolStatus (): Promise<MempoolStatusView> { return this.call('mempool_status') }
  listMempool (cursor: string | null = null, limit = 20): Promise<Page<TxView>> { return this.call('mempool_list', [cursor, limit]) }
  /** On a dev chain only: coins from the node's dev key for `address`, once included. */
  devFaucet (address: string): Promise<FaucetSentView> { return this.call('dev_faucet', [address]) }
}
