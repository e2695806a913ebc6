/**
 * Every gossip verdict has an action (DESIGN §8): IGNORE — a duplicate, stale, or
 * not yet useful message (nobody is at fault; it is not forwarded) — or REJECT —
 * invalid, so the peer that sent it is at fault (gossipsub lowers its score).
 */
import { ChorusError, type ErrorCode } from '../../protocol/errors.ts'

export type GossipAction = 'IGNORE' | 'REJECT'

export class GossipError extends ChorusError {
  constructor (readonly action: GossipAction, code: ErrorCode, detail: string) {
    super(code, detail)
  }
}

export function ignore (code: ErrorCode, detail: string): never {
  throw new GossipError('IGNORE', code, detail)
}

export function reject (code: ErrorCode, detail: string): never {
  throw new GossipError('REJECT', code, detail)
}

/**
 * The action for an error thrown while validating a message: a GossipError says;
 * any other typed error came from decoding or checking what the sender built
 * (REJECT). Untyped errors are bugs of ours and are rethrown.
 */
export function gossipAction (e: unknown): { action: GossipAction, code: ErrorCode } {
  if (e instanceof GossipError) return { action: e.action, code: e.code }
  if (e instanceof ChorusError) return { action: 'REJECT', code: e.code }
  throw e
}
