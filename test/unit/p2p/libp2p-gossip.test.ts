import { TopicValidatorResult } from '@libp2p/gossipsub'
import { createPeerScoreParams, createPeerScoreThresholds, validatePeerScoreParams, validatePeerScoreThresholds } from '@libp2p/gossipsub/score'
import { describe, expect, it } from 'vitest'
import { GOSSIP_FRAME_BYTES, MAX_TOPIC_BYTES, gossipOptions, toTopicValidatorResult } from '../../../src/p2p/libp2p-gossip.ts'
import { TOPIC_SPECS, TOPICS, topicName } from '../../../src/p2p/transport.ts'

describe('gossipOptions', () => {
  it.each([-20, -1, -1000])('passes gossipsub\'s own validation with threshold %d', (scoreThreshold) => {
    const o = gossipOptions('c', { scoreThreshold, maxPeersPerIp: 16, retainScoreMs: 30_000, appScore: () => 0 })
    expect(() => validatePeerScoreParams(createPeerScoreParams(o.scoreParams))).not.toThrow()
    expect(() => validatePeerScoreThresholds(createPeerScoreThresholds(o.scoreThresholds))).not.toThrow()
    expect(o.scoreThresholds?.graylistThreshold).toBe(scoreThreshold)
  })

  it('scores every topic, allows only ours, and reads frames with room for the largest message', () => {
    const o = gossipOptions('c', { scoreThreshold: -20, maxPeersPerIp: 16, retainScoreMs: 0, appScore: () => 0 })
    const names = TOPICS.map((t) => topicName('c', t))
    expect(Object.keys(o.scoreParams?.topics ?? {}).sort()).toEqual([...names].sort())
    for (const n of names) expect(o.scoreParams?.topics?.[n]?.invalidMessageDeliveriesWeight).toBeLessThan(0)
    expect(o.allowedTopics).toEqual(names)
    expect(MAX_TOPIC_BYTES).toBe(Math.max(...TOPICS.map((t) => TOPIC_SPECS[t].maxBytes)))
    expect(o.maxInboundDataLength).toBe(GOSSIP_FRAME_BYTES)
    expect(GOSSIP_FRAME_BYTES).toBeGreaterThan(MAX_TOPIC_BYTES)
    expect(o.maxOutboundBufferSize).toBeGreaterThan(0)
  })

  it('maps verdicts one to one', () => {
    expect([toTopicValidatorResult('accept'), toTopicValidatorResult('ignore'), toTopicValidatorResult('reject')])
      .toEqual([TopicValidatorResult.Accept, TopicValidatorResult.Ignore, TopicValidatorResult.Reject])
  })
})
