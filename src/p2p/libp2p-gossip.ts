/**
 * Gossipsub as Chorus runs it: unsigned messages (our payloads carry their own
 * signatures), only our topics, explicit size limits, and a score in which only
 * misbehaviour counts. Every positive score term is off, so an honest peer sits
 * at 0 and anything below 0 is something it did:
 *   - P4, messages our validators Reject: −1 × n² per topic, n decaying 1 %/s
 *     (half-life ≈ 69 s);
 *   - P5, the transport's own penalties (penalize), weight 1;
 *   - P6, more peers on one IP than maxPeersPerIp: −5 × surplus²;
 *   - P7, gossipsub's protocol misbehaviour (broken IWANT promises, GRAFT
 *     during back-off) beyond 6: −1 × excess², decaying 1 %/s.
 * P3 (too few mesh deliveries) stays off: a quiet chain sends little, and
 * honest peers would sink for it.
 */
import { StrictNoSign, TopicValidatorResult, type GossipSub, type GossipsubOpts } from '@libp2p/gossipsub'
import { createTopicScoreParams } from '@libp2p/gossipsub/score'
import { TOPIC_SPECS, TOPICS, topicName, type Verdict } from './transport.ts'

/** The largest message on any topic. */
export const MAX_TOPIC_BYTES = Math.max(...TOPICS.map((t) => TOPIC_SPECS[t].maxBytes))

/**
 * The largest gossipsub RPC frame we read: one largest message, plus room for
 * what gossipsub packs beside it — piggybacked IHAVE gossip (up to 5,000 ids
 * of ~34 B per topic) or, in an IWANT answer, a few more messages. A peer that
 * sends a larger frame loses its gossip stream to us.
 */
export const GOSSIP_FRAME_BYTES = 2 * MAX_TOPIC_BYTES

/**
 * How much we queue for one slow peer before gossipsub drops its stream: a
 * burst of 16 largest messages. Gossipsub has no backpressure (NETWORK-NOTES
 * pitfall 4), so without this a stalled peer grows our memory without bound.
 */
export const GOSSIP_BUFFER_BYTES = 16 * MAX_TOPIC_BYTES

/** P4 per topic: −n² (n = rejected messages, decaying 1 %/s). */
const TOPIC_SCORE = createTopicScoreParams({
  topicWeight: 1,
  timeInMeshWeight: 0,
  firstMessageDeliveriesWeight: 0,
  meshMessageDeliveriesWeight: 0,
  meshFailurePenaltyWeight: 0,
  invalidMessageDeliveriesWeight: -1,
  invalidMessageDeliveriesDecay: 0.99
})

export interface GossipScoring {
  /** Disconnect below this (< 0); gossipsub's own thresholds are set from it. */
  scoreThreshold: number
  maxPeersPerIp: number
  /** How long a peer's score outlives its connection; kept below the ban, so a ban's end is a fresh start. */
  retainScoreMs: number
  /** The transport's penalties for `peer`, as a score (≤ 0). */
  appScore (peer: string): number
}

/**
 * The gossipsub options for `chainId`. Thresholds, from the disconnect threshold
 * T (default −20): below T/2 no gossip to or from the peer, below 3T/4 we do
 * not publish to it, below T its messages are ignored (graylist) until the
 * next score check disconnects it.
 */
export function gossipOptions (chainId: string, s: GossipScoring): Partial<GossipsubOpts> {
  const names = TOPICS.map((t) => topicName(chainId, t))
  return {
    globalSignaturePolicy: StrictNoSign,
    allowedTopics: names,
    emitSelf: false,
    // a lone dev validator publishes with nobody listening (NETWORK-NOTES pitfall 3)
    allowPublishToZeroTopicPeers: true,
    // floodsub peers bypass scoring; every Chorus node speaks gossipsub
    fallbackToFloodsub: false,
    maxInboundDataLength: GOSSIP_FRAME_BYTES,
    maxOutboundBufferSize: GOSSIP_BUFFER_BYTES,
    scoreParams: {
      topics: Object.fromEntries(names.map((n) => [n, { ...TOPIC_SCORE }])),
      appSpecificScore: s.appScore,
      appSpecificWeight: 1,
      IPColocationFactorWeight: -5,
      IPColocationFactorThreshold: s.maxPeersPerIp,
      behaviourPenaltyWeight: -1,
      behaviourPenaltyThreshold: 6,
      behaviourPenaltyDecay: 0.99,
      decayInterval: 1_000,
      retainScore: s.retainScoreMs
    },
    scoreThresholds: {
      gossipThreshold: s.scoreThreshold / 2,
      publishThreshold: s.scoreThreshold * 3 / 4,
      graylistThreshold: s.scoreThreshold
    }
  }
}

const RESULT: Record<Verdict, TopicValidatorResult> = {
  accept: TopicValidatorResult.Accept,
  ignore: TopicValidatorResult.Ignore,
  reject: TopicValidatorResult.Reject
}

/** The one mapping from our verdicts to gossipsub's. */
export function toTopicValidatorResult (v: Verdict): TopicValidatorResult {
  return RESULT[v]
}

/**
 * A peer's gossipsub score, app penalties included (0 for a peer gossipsub does
 * not know). `getScore` is on gossipsub 17.1.1's class but not on its exported
 * `GossipSub` interface: this is the one place that reaches past it.
 */
export function gossipScore (pubsub: GossipSub, peer: string): number {
  const getScore = (pubsub as GossipSub & { getScore?: (peer: string) => number }).getScore
  return typeof getScore === 'function' ? getScore.call(pubsub, peer) : 0
}
