/**
 * A deterministic simulation of N validators: the real consensus driver, state
 * machine, chain and mempool of each node, over a simulated network in virtual
 * time. Delays, loss, duplication, reordering, partitions, crashes (with the
 * WAL losing what was not synced, and crashes between signing and sending),
 * equivocating validators and twins all come from one seed, so a failing run
 * replays exactly from the seed it prints.
 *
 * Checked at every commit: agreement (honest nodes commit the same block at a
 * height), validity (an auditor chain checks each agreed block and its
 * commit), integrity (a node commits each height once, in order); and at every
 * vote, the lock invariant the safety proof rests on. Checked at the end: liveness (after the faults stop, every honest node reaches the
 * target height within a bounded time).
 */
import { MemoryLevel } from 'memory-level'
import { Chain } from '../../src/chain/chain.ts'
import { checkEvidence } from '../../src/chain/evidence.ts'
import { parseGenesis, type Genesis } from '../../src/chain/genesis.ts'
import { Signer, transfer } from '../../src/client/transactions.ts'
import { blockHash, encodeProposal, encodeVote } from '../../src/codec/block.ts'
import { type ConsensusGossip, decodeConsensusGossip, encodeConsensusGossip } from '../../src/codec/gossip.ts'
import { CrashForTest, type Timeouts } from '../../src/consensus/driver.ts'
import { memorySignStore } from '../../src/consensus/sign-state.ts'
import type { ConsensusBugs } from '../../src/consensus/state-machine.ts'
import { memoryWal } from '../../src/consensus/wal.ts'
import { encodeAddress } from '../../src/crypto/address.ts'
import { toHex, u32be, utf8 } from '../../src/crypto/bytes.ts'
import { sha256, signingBytes } from '../../src/crypto/hash.ts'
import { publicKeyOf } from '../../src/crypto/keys.ts'
import { opensslSigner, verifySignature } from '../../src/crypto/verify.ts'
import { type Level, type Logger, createLogger, silentLogger } from '../../src/logger.ts'
import { ChorusNode } from '../../src/node.ts'
import { type Link, MemoryHub } from '../../src/p2p/memory-transport.ts'
import { verifyCommit } from '../../src/protocol/commit.ts'
import { ChorusError } from '../../src/protocol/errors.ts'
import type { Block, Commit, PublicKey, SignedVote } from '../../src/protocol/types.ts'
import { Store } from '../../src/state/store.ts'
import { SimClock, prng } from './sim-clock.ts'

export type Fault = 'delay' | 'drop' | 'dup' | 'reorder' | 'partition' | 'crash'
export const ALL_FAULTS: Fault[] = ['delay', 'drop', 'dup', 'reorder', 'partition', 'crash']
export type Bug = 'ignore-lock' | 'no-quorum-check'

export interface SimOptions {
  validators: number
  heights: number
  seed: number
  faults: Fault[]
  /** Validators that equivocate (sign two proposals and conflicting votes). */
  byzantine: number
  /** Validator keys run on two nodes at once. */
  twins: number
  bug?: Bug
}

export interface SimResult {
  seed: number
  /** The lowest height every honest node reached. */
  height: number
  safety: string[]
  liveness: string | null
  virtualMs: number
  messages: number
  evidence: number
}

const TIMEOUTS: Timeouts = { propose: 300, prevote: 150, precommit: 150, delta: 100, gossip: 250 }
const BLOCK_TIME_MS = 100
/** Sync in virtual time: a node that fell behind asks for the gap every second. */
// (no pause between windows: the simulation awaits each sync round whole, in virtual time)
const SYNC = { pollMs: 1_000, rangeSize: 32, parallel: 2, nearHead: 2, benchMs: 2_000, progressMs: 60_000, minWindowMs: 0 }
/** After the faults stop, every honest node must reach the target within this much virtual time (and 2 s a height). */
const LIVENESS_BOUND_MS = 60_000

interface SimNode {
  id: string
  index: number
  key: { secretKey: Uint8Array, publicKey: PublicKey }
  honest: boolean
  byzantine: boolean
  db: MemoryLevel<Uint8Array, Uint8Array>
  store: Store | null
  node: ChorusNode | null
  signStore: ReturnType<typeof memorySignStore>
  wal: ReturnType<typeof memoryWal>
  up: boolean
  committed: number
  crashAtNextSend: boolean
}

function traceLogger (id: string, clock: SimClock): Logger {
  return createLogger({ level: (process.env.SIM_TRACE as Level | '') || 'warn', json: false, write: (l) => console.error(`[t=${clock.now()} ${id}] ${l.slice(25)}`) })
}

/** A verification cache shared by all simulated nodes: each signature is checked once, not N times. */
function sharedVerify (): typeof verifySignature {
  const cache = new Map<string, boolean>()
  return (pk, msg, sig) => {
    const k = toHex(sig) + toHex(sha256(pk, msg))
    let v = cache.get(k)
    if (v === undefined) {
      v = verifySignature(pk, msg, sig)
      cache.set(k, v)
      if (cache.size > 200_000) cache.clear()
    }
    return v
  }
}

export async function simulate (o: SimOptions): Promise<SimResult> {
  const rnd = prng(o.seed)
  const clock = new SimClock()
  const verify = sharedVerify()
  const faults = new Set(o.faults)
  const result: SimResult = { seed: o.seed, height: 0, safety: [], liveness: null, virtualMs: 0, messages: 0, evidence: 0 }

  // keys from the seed; the lowest-powered validators are the faulty ones
  const keys = Array.from({ length: o.validators }, (_, i) => {
    const secretKey = sha256(utf8.encode(`chorus-sim/${o.seed}/${i}`))
    return { secretKey, publicKey: publicKeyOf(secretKey) }
  })
  const powers = keys.map(() => BigInt(rnd.between(8, 12)))
  const order = keys.map((_, i) => i).sort((a, b) => Number(powers[a]! - powers[b]!) || a - b)
  const faulty = new Set(order.slice(0, o.byzantine + o.twins))
  const byzantine = new Set(order.slice(0, o.byzantine))
  const twinned = order.slice(o.byzantine, o.byzantine + o.twins)
  const dev = Signer.fromSecretKey(sha256(utf8.encode(`chorus-sim/${o.seed}/dev`)))
  const genesis: Genesis = parseGenesis({
    chainId: 'chorus-sim', genesisTimeMs: 0,
    params: { blockTimeMs: BLOCK_TIME_MS, epochBlocks: 1_000_000 },
    accounts: [{ address: dev.address(), balance: '1000000000000' }],
    validators: keys.map((k, i) => ({ address: encodeAddress(k.publicKey), power: powers[i]!.toString() }))
  })

  const makeNode = (index: number, id: string): SimNode => ({
    id, index, key: keys[index]!, honest: !faulty.has(index), byzantine: byzantine.has(index),
    db: new MemoryLevel<Uint8Array, Uint8Array>({ keyEncoding: 'view', valueEncoding: 'view' }),
    store: null, node: null,
    signStore: memorySignStore(), wal: memoryWal(), up: false, committed: 0, crashAtNextSend: false
  })
  const nodes: SimNode[] = keys.map((_, i) => makeNode(i, `v${i}`))
  for (const i of twinned) nodes.push(makeNode(i, `v${i}-twin`))

  // ---- network: the nodes' real network code over a hub whose link the faults control ----
  let partition: Map<string, number> | null = null
  let faultsOn = true
  const linked = (a: string, b: string): boolean => partition === null || partition.get(a) === partition.get(b)
  const byId = (id: string): SimNode => nodes.find((n) => n.id === id)!
  const link: Link = {
    published: (from, topic, data) => {
      if (topic !== 'consensus') return
      const msg = decodeConsensusGossip(data)
      if (msg.type === 'vote') checkLock(byId(from), msg.vote)
    },
    gossip: (fromId, toId, topic, data, deliver) => {
      const from = byId(fromId)
      if (!from.up) return
      let bytes = data
      if (from.byzantine && topic === 'consensus') bytes = equivocate(from, toId, data)
      if (faultsOn && faults.has('drop') && rnd.chance(0.05)) return
      if (faultsOn && !linked(fromId, toId)) return
      const spread = faultsOn && faults.has('reorder') ? 120 : 15
      const base = faultsOn && faults.has('delay') ? rnd.between(5, 60) : 5
      const arrive = () => {
        if (!byId(toId).up || !linked(fromId, toId)) return
        result.messages++
        deliver(bytes)
      }
      clock.after(base + rnd.int(spread), arrive)
      if (faultsOn && faults.has('dup') && rnd.chance(0.03)) clock.after(base + rnd.int(spread * 3), arrive)
    },
    reachable: (a, b) => byId(a).up && byId(b).up && linked(a, b)
  }
  const hub = new MemoryHub(link)

  /** Its own proposals and votes (not ones it forwards) are what a Byzantine validator equivocates on. */
  const authoredBy = (node: SimNode, msg: ConsensusGossip): boolean =>
    (msg.type === 'vote' && toHex(msg.vote.vote.validator) === toHex(node.key.publicKey)) ||
    (msg.type === 'proposal' && toHex(msg.proposal.proposal.proposer) === toHex(node.key.publicKey))

  /**
   * The adversary's plan for each (height, round) it takes part in: one split of its peers,
   * kept for every message of the round so its lies are consistent. Side A gets the real
   * proposal and votes; side B a fresh proposal of its own (polRound -1) and votes for it.
   * Its real precommit goes to one peer only, so one node may commit while the others,
   * locked, move on to a round where only their lock keeps them from the fresh value.
   * Returns the bytes peer `to` gets.
   */
  const plans = new Map<string, { sideA: Set<string>, victim: string, alt: Uint8Array | null }>()
  const conflicting = new Map<string, { other: Uint8Array, to: Set<string> }>()
  let lieSeq = 1_000_000_000
  const equivocate = (node: SimNode, to: string, data: Uint8Array): Uint8Array => {
    const msg = decodeConsensusGossip(data)
    if (!authoredBy(node, msg)) return data
    const peers = nodes.filter((n) => n !== node)
    const id = toHex(msg.type === 'vote' ? msg.vote.signature : msg.proposal.signature)
    let e = conflicting.get(id)
    if (e === undefined) {
      const { height, round } = msg.type === 'vote' ? msg.vote.vote : msg.proposal.proposal
      const planKey = `${node.id}/${height}/${round}`
      let plan = plans.get(planKey)
      if (plan === undefined) {
        const sideA = new Set(peers.filter(() => rnd.chance(0.5)).map((n) => n.id))
        plan = { sideA, victim: peers[rnd.int(peers.length)]!.id, alt: null }
        plans.set(planKey, plan)
      }
      const sign = opensslSigner(node.key.secretKey)
      let other: ConsensusGossip
      if (msg.type === 'vote') {
        const v = msg.vote.vote
        const lie = plan.alt ?? (v.blockHash === null ? sha256(utf8.encode(`fake/${v.height}/${v.round}`)) : null)
        const vote = { ...v, blockHash: lie !== null && v.blockHash !== null && toHex(lie) === toHex(v.blockHash) ? null : lie }
        other = { type: 'vote', vote: { vote, signature: sign(signingBytes('vote', encodeVote(vote))) } }
      } else {
        const block = { ...msg.block, header: { ...msg.block.header, timeMs: msg.block.header.timeMs + 1 } }
        const proposal = { ...msg.proposal.proposal, polRound: -1, blockHash: blockHash(block.header) }
        plan.alt = proposal.blockHash
        other = { type: 'proposal', proposal: { proposal, signature: sign(signingBytes('proposal', encodeProposal(proposal))) }, block }
      }
      const realTo = msg.type === 'vote' && msg.vote.vote.type === 'precommit' ? new Set([plan.victim]) : plan.sideA
      e = { other: encodeConsensusGossip(other, lieSeq++), to: new Set(peers.filter((p) => !realTo.has(p.id)).map((p) => p.id)) }
      conflicting.set(id, e)
      if (other.type === 'vote') notePrevote(other.vote)
    }
    return e.to.has(to) ? e.other : data
  }

  /**
   * The lock invariant behind Tendermint's safety proof: an honest validator that precommitted
   * A in round r prevotes another value B in a later round r' only if 2f+1 prevotes for B were
   * cast in some round in [r, r'). Checked on every vote an honest node sends.
   */
  const prevotePower = new Map<string, Map<string, bigint>>() // h/r/hash -> validator -> power
  const precommitsOf = new Map<string, Array<{ round: number, hash: string }>>() // node/h -> its block precommits
  const notePrevote = (sv: SignedVote) => {
    const v = sv.vote
    if (v.type !== 'prevote' || v.blockHash === null) return
    const k = `${v.height}/${v.round}/${toHex(v.blockHash)}`
    const m = prevotePower.get(k) ?? new Map<string, bigint>()
    m.set(toHex(v.validator), powers[keys.findIndex((x) => toHex(x.publicKey) === toHex(v.validator))]!)
    prevotePower.set(k, m)
  }
  const totalPower = powers.reduce((a, b) => a + b, 0n)
  const pol = (h: number, r: number, hash: string): boolean => {
    let p = 0n
    for (const w of (prevotePower.get(`${h}/${r}/${hash}`) ?? new Map<string, bigint>()).values()) p += w
    return p * 3n > totalPower * 2n
  }
  const checkLock = (node: SimNode, sv: SignedVote) => {
    notePrevote(sv)
    // only its own votes (a node also forwards others' prevotes as proofs of lock)
    if (!node.honest || sv.vote.blockHash === null || toHex(sv.vote.validator) !== toHex(node.key.publicKey)) return
    const v = sv.vote
    const hash = toHex(v.blockHash!)
    const mine = precommitsOf.get(`${node.id}/${v.height}`) ?? []
    if (v.type === 'precommit') {
      if (!mine.some((x) => x.round === v.round)) mine.push({ round: v.round, hash })
      precommitsOf.set(`${node.id}/${v.height}`, mine)
      return
    }
    for (const lock of mine) {
      if (lock.round >= v.round || lock.hash === hash) continue
      let justified = false
      for (let q = lock.round; q < v.round && !justified; q++) justified = pol(v.height, q, hash)
      if (!justified) violation(`lock: ${node.id} precommitted ${lock.hash.slice(0, 12)} in round ${lock.round} of height ${v.height}, then prevoted ${hash.slice(0, 12)} in round ${v.round} with no proof of lock`)
    }
  }

  // ---- checks ----
  const agreed = new Map<number, string>()
  const auditorStore = await Store.wrap(new MemoryLevel<Uint8Array, Uint8Array>({ keyEncoding: 'view', valueEncoding: 'view' }))
  const auditor = await Chain.open(auditorStore, genesis, verify)
  const auditQueue = new Map<number, { block: Block, commit: Commit }>()
  const violation = (what: string) => { if (result.safety.length < 20) result.safety.push(what) }
  const audit = async () => {
    for (let h = auditor.head.height + 1; auditQueue.has(h); h++) {
      const { block, commit } = auditQueue.get(h)!
      auditQueue.delete(h)
      try {
        verifyCommit(commit, auditor.validators, auditor.chainId, verify)
        await auditor.commitBlock(await auditor.checkBlock(block), commit)
      } catch (e) {
        violation(`validity: block ${h} fails the auditor: ${e instanceof ChorusError ? e.code + ' ' + e.detail : String(e)}`)
        return
      }
    }
  }
  const onCommit = (node: SimNode, block: Block, commit: Commit) => {
    const h = block.header.height
    if (h !== node.committed + 1) violation(`integrity: ${node.id} committed height ${h} after ${node.committed}`)
    node.committed = h
    if (!node.honest) return
    const hash = toHex(blockHash(block.header))
    const first = agreed.get(h)
    if (first === undefined) {
      agreed.set(h, hash)
      auditQueue.set(h, { block, commit })
    } else if (first !== hash) violation(`agreement: ${node.id} committed ${hash.slice(0, 12)} at height ${h}, others ${first.slice(0, 12)}`)
  }

  // ---- node lifecycle: every node built by the node's own composition root ----
  const bugs: ConsensusBugs = o.bug === 'ignore-lock' ? { ignoreLock: true } : o.bug === 'no-quorum-check' ? { noQuorumCheck: true } : {}
  const boot = async (node: SimNode) => {
    node.store = node.store ?? await Store.wrap(node.db)
    node.node = await ChorusNode.start({
      dataDir: '', genesis, validator: { secretKey: node.key.secretKey, signStatePath: '', walPath: '' }, rpc: null, p2p: null, timeouts: TIMEOUTS, sync: SYNC
    }, {
      logger: process.env.SIM_TRACE === undefined ? silentLogger : traceLogger(node.id, clock),
      clock, transport: hub.transport(node.id), store: node.store, signStore: node.signStore, wal: node.wal, verify, bugs,
      onEvidence: (e) => {
        try { checkEvidence(e, verify); result.evidence++ } catch (err) { violation(`evidence: ${node.id} reported false evidence: ${(err as Error).message}`) }
      },
      beforeSend: () => {
        if (node.crashAtNextSend) { node.crashAtNextSend = false; node.up = false; throw new CrashForTest() }
      }
    })
    // a WAL replay may commit during start: count from the head the node came up at
    node.committed = node.node.chain.head.height
    const n = node.node
    n.chain.events.onCommitted(({ checked, commit }) => { if (node.node === n) onCommit(node, checked.block, commit) })
    node.up = true
  }
  /** Kills a node where it stands; its WAL loses what was not synced. */
  const crash = (node: SimNode) => {
    node.up = false
    node.node?.halt()
    node.node = null
    node.wal.crash()
  }
  const tasks: Array<Promise<void>> = []
  for (const n of nodes) await boot(n)

  // ---- the run ----
  const honest = nodes.filter((n) => n.honest)
  const minHonest = () => Math.min(...honest.map((n) => n.committed))
  const maxHonest = () => Math.max(...honest.map((n) => n.committed))
  const faultUntil = Math.floor(o.heights * 0.7)
  const faultTimeLimit = o.heights * 1000
  let faultsEndedAt: number | null = null
  let nextFaultAt = 500
  let nonce = 0
  let lastTrace = 0
  const settle = async () => {
    for (let i = 0; i < 3; i++) {
      while (tasks.length > 0) await tasks.shift()
      await hub.idle()
      for (const n of nodes) if (n.node !== null) { await n.node.driver?.idle(); await n.node.syncer.idle() }
    }
    await audit()
  }

  while (minHonest() < o.heights) {
    if (!clock.runNext()) { result.liveness = 'nothing left to do: every node is idle'; break }
    await settle()
    if (result.safety.length > 0) break
    const now = clock.now()

    // faults come and go until 70% of the heights (or a time limit: progress under faults is not
    // promised), then the network heals and crashed nodes return
    if (faultsOn && (maxHonest() >= faultUntil || now >= faultTimeLimit)) {
      faultsOn = false
      partition = null
      faultsEndedAt = now
      for (const n of nodes) {
        n.crashAtNextSend = false
        if (!n.up) { crash(n); await boot(n) }
      }
    }
    if (faultsOn && now >= nextFaultAt) {
      nextFaultAt = now + rnd.between(300, 2500)
      if (faults.has('partition') && partition === null && rnd.chance(0.3)) {
        // half the time a random split, half the time one node cut off from the rest
        const alone = rnd.chance(0.5) ? nodes[rnd.int(nodes.length)]!.id : null
        partition = new Map(nodes.map((n) => [n.id, alone === null ? rnd.int(2) : n.id === alone ? 1 : 0]))
        if (o.twins > 0 && rnd.chance(0.5)) {
          // the Twins scenario: each twin pair split across the two sides
          for (const n of nodes) if (n.id.endsWith('-twin')) { partition.set(n.id, 1); partition.set(`v${n.index}`, 0) }
        }
        clock.after(rnd.between(500, 4000), () => { partition = null })
      }
      if (faults.has('crash') && rnd.chance(0.3)) {
        const victim = nodes[rnd.int(nodes.length)]!
        if (victim.up && nodes.filter((n) => !n.up).length * 3 < nodes.length) {
          if (rnd.chance(0.5)) victim.crashAtNextSend = true // dies after signing, before sending
          else crash(victim)
          clock.after(rnd.between(300, 3000), () => {
            victim.crashAtNextSend = false
            if (!victim.up && faultsOn) { crash(victim); tasks.push(boot(victim)) }
          })
        }
      }
      // a few transactions, so blocks are not all empty
      if (rnd.chance(0.5)) {
        const n = nodes[rnd.int(nodes.length)]!
        if (n.up && n.node !== null) {
          const tx = dev.sign({ chainId: 'chorus-sim', nonce: nonce, body: transfer(sha256(u32be(nonce)), 1n) }).tx
          try { await n.node.pool.submitDecoded(tx); nonce++ } catch { /* stale nonce on this node */ }
        }
      }
    }
    // a node that died in beforeSend has halted: finish the crash (its WAL loses unsynced records)
    for (const n of nodes) if (!n.up && n.node !== null) crash(n)
    if (process.env.SIM_TRACE !== undefined && Math.floor(now / 1000) !== Math.floor(lastTrace / 1000)) {
      lastTrace = now
      console.error(`t=${now} ${nodes.map((n) => `${n.id}${n.byzantine ? '(byz)' : ''}:${n.up ? n.node?.driver?.describe() : 'down'}`).join(' | ')} partition=${partition !== null}`)
    }
    if (faultsEndedAt !== null && now - faultsEndedAt > LIVENESS_BOUND_MS + 2000 * o.heights) {
      result.liveness = `after the faults stopped at ${faultsEndedAt} ms, honest heights were ${honest.map((n) => `${n.id}:${n.committed}`).join(' ')} at ${now} ms`
      break
    }
  }
  for (const n of nodes) await n.node?.stop()
  result.height = minHonest()
  result.virtualMs = clock.now()
  return result
}
