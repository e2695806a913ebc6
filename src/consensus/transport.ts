/** How consensus messages reach other validators. The libp2p network implements it; tests use memory. */
import type { Block, SignedProposal, SignedVote } from '../protocol/types.ts'

export type ConsensusMessage =
  | { type: 'proposal', proposal: SignedProposal, block: Block }
  | { type: 'vote', vote: SignedVote }

export interface ConsensusTransport {
  broadcast (msg: ConsensusMessage): void
  onMessage (handler: (msg: ConsensusMessage) => void): void
}

/** A validator alone: nothing to send, nothing to hear. */
export class NoPeers implements ConsensusTransport {
  broadcast (): void {}
  onMessage (): void {}
}
