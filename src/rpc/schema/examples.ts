/**
 * The world the OpenRPC examples are drawn from: two accounts with fixed keys on a
 * `chorus-dev` chain, and the txs that give them profiles, a post, a follow, a like
 * and a reply. Signatures are deterministic (Ed25519), so the example params are
 * real: the schema test makes this world on a live node and runs every example
 * against it. The keys are public; never fund them on a chain that matters.
 */
import { Signer, type SignedTxOut, follow, like, post, profile, reply } from '../../client/transactions.ts'
import { utf8 } from '../../crypto/bytes.ts'
import { sha256 } from '../../crypto/hash.ts'

export const EXAMPLE_CHAIN_ID = 'chorus-dev'

export interface ExampleWorld {
  chainId: string
  alice: Signer
  bob: Signer
  /** What genesis must fund. */
  accounts: Array<{ address: string, balance: string }>
  /**
   * The txs that make the world, in stages: a stage's txs may be submitted together
   * once the stage before is in blocks (a like or reply needs its post included).
   */
  setup: SignedTxOut[][]
  /** Alice's post, liked by and replied to by Bob (who follows her). */
  post: SignedTxOut
  reply: SignedTxOut
  /** A tx valid once the setup is included: `tx_submit`'s example. */
  next: SignedTxOut
}

let world: ExampleWorld | undefined

/** The example world (made once: a few signatures). */
export function exampleWorld (): ExampleWorld {
  if (world !== undefined) return world
  const key = (name: string) => Signer.fromSecretKey(sha256(utf8.encode(`chorus example key: ${name}`)))
  const alice = key('alice')
  const bob = key('bob')
  const chainId = EXAMPLE_CHAIN_ID
  const hello = alice.sign({ chainId, nonce: 1, body: post('Hello, Chorus!') })
  const welcome = bob.sign({ chainId, nonce: 3, body: reply(hello.tx.id, 'Welcome!') })
  world = {
    chainId,
    alice,
    bob,
    accounts: [alice, bob].map((s) => ({ address: s.address(), balance: '1000000000' })),
    setup: [
      [
        alice.sign({ chainId, nonce: 0, body: profile({ username: 'alice', displayName: 'Alice', bio: 'Writes about consensus.', avatarUrl: 'https://example.com/alice.png' }) }),
        hello,
        bob.sign({ chainId, nonce: 0, body: profile({ username: 'bob', displayName: 'Bob' }) }),
        bob.sign({ chainId, nonce: 1, body: follow(alice.publicKey) })
      ],
      [bob.sign({ chainId, nonce: 2, body: like(hello.tx.id) }), welcome]
    ],
    post: hello,
    reply: welcome,
    next: alice.sign({ chainId, nonce: 2, body: post('gm') })
  }
  return world
}
