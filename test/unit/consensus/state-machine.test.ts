import { describe, expect, it } from 'vitest'
import { toHex } from '../../../src/crypto/bytes.ts'
import { generateSecretKey, publicKeyOf } from '../../../src/crypto/keys.ts'
import { type ConsensusState, initialState, step } from '../../../src/consensus/state-machine.ts'
import type { Action, Event } from '../../../src/consensus/types.ts'
import { ValidatorSet } from '../../../src/protocol/validator-set.ts'

const key = () => publicKeyOf(generateSecretKey())
const sig = new Uint8Array(64)
const H = (c: string) => c.repeat(64)

/** N state machines wired directly: every broadcast reaches every node at once, in order. */
function network (n: number, powers?: bigint[]) {
  const keys = Array.from({ length: n }, key)
  const set = ValidatorSet.fromPowers(keys.map((address, i) => ({ address, power: powers?.[i] ?? 10n })))
  const states: ConsensusState[] = keys.map((k) => initialState(k, set))
  const commits: Array<Extract<Action, { type: 'commit' }>> = []
  const timeouts: Array<Extract<Action, { type: 'scheduleTimeout' }>> = []
  const queue: Array<[number, Event]> = []
  const deliver = (from: number, a: Action) => {
    const who = keys[from]!
    if (a.type === 'broadcastVote') {
      for (let i = 0; i < n; i++) queue.push([i, { type: 'vote', vote: { type: a.voteType, height: a.height, round: a.round, blockHash: a.blockHash, validator: who, signature: sig } }])
    } else if (a.type === 'broadcastProposal') {
      for (let i = 0; i < n; i++) queue.push([i, { type: 'proposal', height: a.height, round: a.round, polRound: a.polRound, blockHash: a.blockHash, proposer: who }])
    } else if (a.type === 'validateBlock') {
      queue.push([from, { type: 'blockValidity', height: a.height, blockHash: a.blockHash, valid: true }])
    } else if (a.type === 'buildProposal') {
      queue.push([from, { type: 'proposalBuilt', height: a.height, round: a.round, blockHash: H((a.height % 10).toString()) }])
    } else if (a.type === 'commit') {
      if (from === 0) commits.push(a)
    } else if (a.type === 'scheduleTimeout') {
      timeouts.push(a)
    }
  }
  const send = (i: number, e: Event, drop: (to: number, e: Event) => boolean = () => false) => {
    queue.push([i, e])
    while (queue.length > 0) {
      const [to, ev] = queue.shift()!
      if (drop(to, ev)) continue
      const r = step(states[to]!, ev)
      states[to] = r.state
      for (const a of r.actions) deliver(to, a)
    }
  }
  /** Every node enters the height before any message moves (as the driver's buffering gives). */
  const startAll = (drop?: (to: number, e: Event) => boolean, only = keys.map((_, i) => i)) => {
    const pending: Array<[number, Action]> = []
    for (const i of only) {
      const r = step(states[i]!, { type: 'startHeight', height: 1, validators: set })
      states[i] = r.state
      for (const a of r.actions) pending.push([i, a])
    }
    for (const [i, a] of pending) deliver(i, a)
    const [first] = queue.splice(0, 1)
    if (first !== undefined) send(first[0], first[1], drop)
  }
  return { keys, set, states, commits, timeouts, send, startAll }
}

describe('Tendermint state machine', () => {
  it('commits at once with a single validator', () => {
    const net = network(1)
    net.send(0, { type: 'startHeight', height: 1, validators: net.set })
    expect(net.commits).toHaveLength(1)
    expect(net.commits[0]).toMatchObject({ height: 1, round: 0, blockHash: H('1') })
    expect(net.states[0]!.step).toBe('commit')
  })

  it('commits with four validators when all are honest and on time', () => {
    const net = network(4)
    net.startAll()
    expect(net.states.every((s) => s.step === 'commit' && s.decided === H('1'))).toBe(true)
    expect(net.commits[0]!.signatures.length).toBeGreaterThanOrEqual(3)
  })

  it('moves to the next round when the proposer is silent, and commits there', () => {
    const net = network(4)
    const proposer0 = toHex(net.set.proposerAt(0))
    const silent = net.keys.findIndex((k) => toHex(k) === proposer0)
    const dropSilent = (_to: number, e: Event) => e.type === 'proposalBuilt' && e.round === 0
    net.startAll(dropSilent)
    expect(net.commits).toHaveLength(0)
    for (let i = 0; i < 4; i++) if (i !== silent) net.send(i, { type: 'timeout', step: 'propose', height: 1, round: 0 })
    // 3 of 4 prevote nil: the prevote timer starts, then precommit nil, then the precommit timer
    for (let i = 0; i < 4; i++) net.send(i, { type: 'timeout', step: 'prevote', height: 1, round: 0 })
    for (let i = 0; i < 4; i++) net.send(i, { type: 'timeout', step: 'precommit', height: 1, round: 0 })
    expect(net.commits).toHaveLength(1)
    expect(net.commits[0]!.round).toBeGreaterThan(0)
  })

  it('does not commit without more than 2/3 of the power', () => {
    const net = network(4, [10n, 10n, 10n, 31n]) // the last holds over 1/3
    const heavy = 3
    const muteHeavy = (to: number, e: Event) => to === heavy || (e.type === 'vote' && toHex(e.vote.validator) === toHex(net.keys[heavy]!))
    net.startAll(muteHeavy, [0, 1, 2])
    for (let i = 0; i < 3; i++) net.send(i, { type: 'timeout', step: 'propose', height: 1, round: 0 }, muteHeavy)
    expect(net.commits).toHaveLength(0)
    expect(net.states.slice(0, 3).every((s) => s.step !== 'commit')).toBe(true)
  })

  it('reports equivocation: two different votes from one validator', () => {
    const net = network(4)
    for (let i = 0; i < 4; i++) net.states[i] = step(net.states[i]!, { type: 'startHeight', height: 1, validators: net.set }).state
    const v = (hash: string | null) => ({ type: 'vote' as const, vote: { type: 'prevote' as const, height: 1, round: 0, blockHash: hash, validator: net.keys[1]!, signature: sig } })
    net.states[0] = step(net.states[0]!, v(H('a'))).state
    const { actions } = step(net.states[0]!, v(H('b')))
    expect(actions).toContainEqual(expect.objectContaining({ type: 'evidence', kind: 'prevote', first: H('a'), second: H('b') }))
  })

  it('ignores votes from non-validators and for other heights', () => {
    const net = network(1)
    const s = initialState(null, net.set)
    const r = step(step(s, { type: 'startHeight', height: 1, validators: net.set }).state, { type: 'vote', vote: { type: 'precommit', height: 1, round: 0, blockHash: H('1'), validator: key(), signature: sig } })
    expect(r.actions.filter((a) => a.type === 'commit')).toEqual([])
  })
})

describe('proposer priority', () => {
  it('picks proposers in proportion to power, deterministically', () => {
    const keys = [key(), key(), key()]
    const set = ValidatorSet.fromPowers(keys.map((address, i) => ({ address, power: BigInt(i + 1) })))
    const counts = new Map<string, number>()
    let s = set
    for (let r = 0; r < 600; r++) {
      const { next, proposer } = s.step()
      counts.set(toHex(proposer), (counts.get(toHex(proposer)) ?? 0) + 1)
      s = next
    }
    expect(keys.map((k) => counts.get(toHex(k)))).toEqual([100, 200, 300])
    expect(toHex(set.proposerAt(5))).toBe(toHex(ValidatorSet.fromPowers(keys.map((address, i) => ({ address, power: BigInt(i + 1) }))).proposerAt(5)))
    const decoded = ValidatorSet.decode(s.encode())
    expect(toHex(decoded.proposerAt(3))).toBe(toHex(s.proposerAt(3)))
  })
})
