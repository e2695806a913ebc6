/** How consensus messages reach other validators. The libp2p network implements it; tests and the simulator use memory. */
import type { Block, Commit, SignedProposal, SignedVote } from '../protocol/types.ts'

export type ConsensusMessage =
  | { type: 'proposal', proposal: SignedProposal, block: Block }
  | { type: 'vote', vote: SignedVote }
  /** "Send me the committed blocks from `fromHeight` on": a node that fell behind asks. */
  | { type: 'syncRequest', fromHeight: number }
  | { type: 'committed', block: Block, commit: Commit }

export interface ConsensusTransport {
  broadcast (msg: ConsensusMessage): void
  send (peer: string, msg: ConsensusMessage): void
  onMessage (handler: (msg: ConsensusMessage, from: string) => void): void
}

/** A validator alone: nothing to send, nothing to hear. */
export class NoPeers implements ConsensusTransport {
  broadcast (): void {}
  send (): void {}
  onMessage (): void {}
}
