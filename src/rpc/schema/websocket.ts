/**
 * `subscribe` and `unsubscribe`, which only the WebSocket at /ws serves, and the
 * notifications a subscription sends (subscriptions.ts, websocket.ts). For the
 * OpenRPC document; subscriptions.ts reads the params.
 */
import Type, { type TSchema } from 'typebox'
import { ErrorCode } from '../../protocol/errors.ts'
import { type Param, optional, param } from '../params.ts'
import { Hash, AccountParam, EventId, SubscriptionId } from '../../api/values.ts'
import { SubscriptionDropped, SubscriptionNotification, Topic } from '../../api/results.ts'

export interface WsMethod {
  params: readonly Param[]
  summary: string
  description: string
  result: TSchema
  errors: readonly ErrorCode[]
}

const fromEventId = Type.Optional(Type.String({ ...EventId, description: 'replay the committed events after this one (up to 1,000 blocks back), then go on live' }))

/** One object for every topic (a param's schema cannot depend on another's value): each field's type, and which topic reads it. */
const Filter = Type.Object({
  author: Type.Optional(Type.String({ ...AccountParam, description: 'posts: by this account' })),
  followedBy: Type.Optional(Type.String({ ...AccountParam, description: 'posts: by the accounts this one follows (its first 5,000 follows); not with author' })),
  id: Type.Optional(Type.String({ ...Hash, description: 'txStatus (required): the tx id, 64 lowercase hex digits' })),
  fromEventId
}, { description: 'the topic\'s filter: newHeads none; posts author or followedBy (neither: every post); txStatus id; any topic fromEventId' })

export const wsMethods: Record<string, WsMethod> = {
  subscribe: {
    params: [
      param('topic', Topic),
      optional('filter', Filter)
    ],
    summary: 'Subscribes to newHeads, posts (all, by author, or by the accounts an address follows) or txStatus; WebSocket only.',
    description: 'Returns a subscription id. Events then arrive as notifications ' +
      '`{"jsonrpc":"2.0","method":"subscription","params":{"subscription":ID,"result":EVENT}}` ' +
      '(x-notifications, components.schemas.SubscriptionNotification): NewHeadEvent, PostEvent or TxStatusEvent. ' +
      'Every event has `eventId` "height:index"; `filter.fromEventId` replays the committed events after it, then goes on live with no gap and no repeat. ' +
      'A connection the node drops for its load (over 4 MiB queued, or its address or the node over their shares) gets, for each subscription, ' +
      '`{"jsonrpc":"2.0","method":"subscriptionDropped","params":{"subscription","reason","lastEventId","fromEventId","message"}}` ' +
      '(components.schemas.SubscriptionDropped), then a close with code 4008 SLOW_READER, 4029 RATE_LIMITED or 1013 BUSY. ' +
      'At most 100 subscriptions a connection (more: -32600 TOO_LARGE). Params by position only.',
    result: SubscriptionId,
    errors: [ErrorCode.MALFORMED, ErrorCode.INVALID_ADDRESS, ErrorCode.NOT_FOUND]
  },
  unsubscribe: {
    params: [param('id', SubscriptionId)],
    summary: 'Ends a subscription of this connection; true if it was active. WebSocket only.',
    description: 'Returns false for an id that is not an active subscription of this connection. Params by position only.',
    result: Type.Boolean(),
    errors: []
  }
}

/** The notifications a subscription sends: method name and the whole message's schema. */
export const NOTIFICATIONS: Array<{ method: string, schema: TSchema }> = [
  { method: 'subscription', schema: SubscriptionNotification },
  { method: 'subscriptionDropped', schema: SubscriptionDropped }
]
