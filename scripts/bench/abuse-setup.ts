/**
 * The history every abuse-bench node starts from (scripts/bench/abuse.ts): accounts
 * funded from the dev key, followers that follow the posting accounts, and one block
 * of ~maxBlockBytes of max-size posts. Signing is OpenSSL's (as in network.ts), checked
 * against the SDK's bytes once.
 */
import type { Agent } from 'node:http'
import * as b from '../../src/client/transactions.ts'
import { encodeAddress } from '../../src/crypto/address.ts'
import type { TxBody } from '../../src/protocol/types.ts'
import { ownAgent, rpcBatch, rpcCall, sleep } from './abuse-measure.ts'
import { OpenSslSigner, type SignedOut } from './openssl-signer.ts'

export interface ChainInfo {
  chainId: string
  prefix: string
  minFee: bigint
  blockTimeMs: number
  maxBlockBytes: number
  maxPostBytes: number
}

export async function chainInfo (port: number, agent: Agent): Promise<ChainInfo> {
  const p = await rpcCall<{ chainId: string, addressPrefix: string, params: Record<string, string | number> }>(port, 'chain_getParams', [], { agent })
  return {
    chainId: p.chainId, prefix: p.addressPrefix, minFee: BigInt(p.params.minFeePerByte!),
    blockTimeMs: Number(p.params.blockTimeMs), maxBlockBytes: Number(p.params.maxBlockBytes), maxPostBytes: Number(p.params.maxPostBytes)
  }
}

export type { SignedOut }

/** A key that signs with OpenSSL (the SDK's noble signer is slower) and keeps its next nonce. */
export class Sender extends OpenSslSigner {
  address (chain: ChainInfo): string { return encodeAddress(this.publicKey, chain.prefix) }

  /** As Signer.sign: fee = minFeePerByte × the signed size. Takes the next nonce. */
  sign (chain: ChainInfo, body: TxBody): SignedOut {
    return this.signTx(chain.chainId, body, chain.minFee)
  }

  /** Takes the node's next nonce for this key (counting its mempool). */
  async syncNonce (port: number, chain: ChainInfo, agent: Agent): Promise<void> {
    this.nonce = Number((await rpcCall<{ pendingNonce: string }>(port, 'account_get', [this.address(chain)], { agent })).pendingNonce)
  }
}

/** Throws unless the OpenSSL signer makes the SDK's bytes. */
export function checkSigner (chain: ChainInfo, secret: Uint8Array): void {
  const sdk = b.Signer.fromSecretKey(secret).sign({ chainId: chain.chainId, nonce: 7, body: b.post('same bytes?') }, { minFeePerByte: chain.minFee })
  const s = new Sender(secret)
  s.nonce = 7
  if (s.sign(chain, b.post('same bytes?')).hex !== sdk.hex) throw new Error('the OpenSSL signer disagrees with the SDK')
}

const RETRY = new Set(['RATE_LIMITED', 'BUSY', 'UNAVAILABLE', 'TIMEOUT', 'BAD_NONCE'])

/**
 * Submits txs in batches of `batch`, in order (a sender's nonces arrive in order). A call
 * refused for load (or for a nonce ahead of a refused one) is sent again, in order, after a
 * pause; ALREADY_KNOWN counts as accepted. Throws on any other refusal.
 */
export async function submitAll (port: number, txs: SignedOut[], what: string, agent: Agent, localAddress = '127.0.0.1', batch = 50): Promise<void> {
  for (let i = 0; i < txs.length; i += batch) {
    let part = txs.slice(i, i + batch)
    for (let attempt = 0; part.length > 0; attempt++) {
      const r = await rpcBatch(port, part.map((t) => ['tx_submit', [t.hex]]), { agent, localAddress, timeoutMs: 60_000 })
      const codes = r.map((x) => x.error === undefined ? 'ok' : (x.error.data?.code ?? String(x.error.code)))
      const bad = codes.find((c) => c !== 'ok' && c !== 'ALREADY_KNOWN' && !RETRY.has(c))
      if (bad !== undefined || attempt === 20) throw new Error(`${what} refused: ${JSON.stringify(r.find((x) => x.error !== undefined)?.error)}`)
      part = part.filter((_, k) => RETRY.has(codes[k]!))
      if (part.length > 0) await sleep(200)
    }
  }
}

/** Waits until every tx is included; returns each one's height. */
export async function waitIncluded (port: number, ids: string[], what: string, agent: Agent, timeoutMs = 60_000): Promise<Map<string, number>> {
  const heights = new Map<string, number>()
  const end = Date.now() + timeoutMs
  while (heights.size < ids.length) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} (${heights.size} of ${ids.length} included)`)
    const todo = ids.filter((id) => !heights.has(id))
    for (let i = 0; i < todo.length; i += 100) {
      const part = todo.slice(i, i + 100)
      const r = await rpcBatch(port, part.map((id) => ['tx_get', [id]]), { agent })
      r.forEach((x, k) => { if (x.result?.status === 'included') heights.set(part[k]!, x.result.height as number) })
    }
    if (heights.size < ids.length) await sleep(250)
  }
  return heights
}

export interface History {
  /** Post in attack 4, ten a second each; also the big block's posters. */
  writers: Sender[]
  /** Each follows every writer: the `followedBy` accounts of attack 4. */
  followers: Sender[]
  big: { height: number, bytes: number, txs: number, txId: string }
}

const POSTERS = 20
const WRITERS = 10
const FOLLOWERS = 20

/**
 * Funds the accounts, commits the follows, then submits about twice maxBlockBytes of
 * max-size posts at once (so that, wherever the block boundary falls, one block is full)
 * and finds the largest block, its size confirmed by chain_getBlock(h, {full: true}).
 */
export async function buildHistory (port: number, chain: ChainInfo, devSecret: Uint8Array, say: (s: string) => void): Promise<History> {
  const agent = ownAgent(4)
  try {
    checkSigner(chain, devSecret)
    const dev = new Sender(devSecret)
    await dev.syncNonce(port, chain, agent)
    const posters = Array.from({ length: POSTERS }, () => new Sender())
    const followers = Array.from({ length: FOLLOWERS }, () => new Sender())
    const funding = [...posters, ...followers].map((s) => dev.sign(chain, b.transfer(s.publicKey, 10_000_000_000n)))
    await submitAll(port, funding, 'funding', agent)
    await waitIncluded(port, funding.map((t) => t.id), 'the funding transfers', agent)
    const writers = posters.slice(0, WRITERS)
    const follows: SignedOut[] = []
    for (const w of writers) for (const f of followers) follows.push(f.sign(chain, b.follow(w.publicKey)))
    await submitAll(port, follows, 'follows', agent)
    await waitIncluded(port, follows.map((t) => t.id), 'the follows', agent)
    say(`  funded ${POSTERS + FOLLOWERS} accounts; ${FOLLOWERS} followers each follow ${WRITERS} writers`)

    // ~2 × maxBlockBytes of max-size posts, each poster's in nonce order, four lanes at once
    const filler = 'Chorus abuse bench: a post as long as the chain allows. '
    const text = (i: number): string => `${i} `.concat(filler.repeat(Math.ceil(chain.maxPostBytes / filler.length))).slice(0, chain.maxPostBytes)
    const probe = new Sender().sign(chain, b.post(text(0)))
    const perPoster = Math.ceil(2.1 * chain.maxBlockBytes / probe.size / POSTERS)
    const lanes: SignedOut[][] = [[], [], [], []]
    for (let n = 0; n < perPoster; n++) posters.forEach((p, i) => lanes[i % lanes.length]!.push(p.sign(chain, b.post(text(n * POSTERS + i)))))
    const all = lanes.flat()
    const t0 = Date.now()
    await Promise.all(lanes.map(async (txs, i) => await submitAll(port, txs, 'big posts', agent, `127.0.0.${11 + i}`)))
    say(`  submitted ${all.length} posts of ${probe.size} bytes (${(all.length * probe.size / 1048576).toFixed(1)} MiB) in ${Date.now() - t0} ms`)
    const heights = await waitIncluded(port, all.map((t) => t.id), 'the big posts', agent, 120_000)
    const sizes = new Map<number, { bytes: number, txs: number, txId: string }>()
    for (const h of new Set(heights.values())) {
      const blk = await rpcCall<{ txs: Array<{ id: string, size: number }> }>(port, 'chain_getBlock', [h, { full: true }], { agent, timeoutMs: 30_000 })
      sizes.set(h, { bytes: blk.txs.reduce((s, t) => s + t.size, 0), txs: blk.txs.length, txId: blk.txs[Math.floor(blk.txs.length / 2)]!.id })
    }
    const [height, best] = [...sizes].sort((x, y) => y[1].bytes - x[1].bytes)[0]!
    say(`  blocks of the big posts: ${[...sizes].sort((x, y) => x[0] - y[0]).map(([h, s]) => `${h}: ${s.txs} txs, ${s.bytes.toLocaleString('en-US')} B`).join('; ')}`)
    if (best.bytes < 0.95 * chain.maxBlockBytes) throw new Error(`no block near maxBlockBytes (${chain.maxBlockBytes}): the largest is ${best.bytes} bytes`)
    return { writers, followers, big: { height, ...best } }
  } finally {
    agent.destroy()
  }
}
