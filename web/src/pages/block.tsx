/** One block: its header, its txs decoded, and its commit. */
import { Link } from 'wouter-preact'
import type { BlockView, TxView } from '../../../src/client/index.ts'
import { AddressLink, Hash, Show, time, useLoad } from '../load.tsx'
import { rpc } from '../rpc.ts'

export function BlockPage ({ height }: { height: number }) {
  const loaded = useLoad(String(height), async () => await rpc.getBlock(height, true))
  return (
    <>
      <h1>Block {height}</h1>
      <nav class='pager' aria-label='Blocks'>
        {height > 1 && <Link href={`/block/${height - 1}`}>← Block {height - 1}</Link>}
        <Link href={`/block/${height + 1}`}>Block {height + 1} →</Link>
      </nav>
      <Show loaded={loaded} what={`block ${height}`}>{(b: BlockView) => (
        <>
          <dl class='fields'>
            <dt>Hash</dt><dd><code>{b.hash}</code></dd>
            <dt>Time</dt><dd>{time(b.header.timeMs)}</dd>
            <dt>Proposer</dt><dd><AddressLink address={b.header.proposer} /></dd>
            <dt>Previous</dt><dd><Hash hex={b.header.prevHash} /></dd>
            <dt>State root</dt><dd><Hash hex={b.header.stateRoot} /></dd>
          </dl>
          <h2>Transactions ({b.txs.length})</h2>
          {b.txs.length === 0 ? <p>No transactions.</p> : (
            <ol class='txs'>
              {(b.txs as TxView[]).map((tx) => (
                <li key={tx.id}><Link href={`/tx/${tx.id}`}>{tx.kind}</Link> by <AddressLink address={tx.sender} /> · <Hash hex={tx.id} /></li>
              ))}
            </ol>
          )}
          <h2>Commit</h2>
          {b.commit === null ? <p>Not yet known (the next block carries it).</p> : (
            <p>Round {b.commit.round}, signed by {b.commit.signatures.length} {b.commit.signatures.length === 1 ? 'validator' : 'validators'}: {b.commit.signatures.map((s, i) => <>{i > 0 && ', '}<AddressLink address={s.validator} /></>)}</p>
          )}
        </>
      )}</Show>
    </>
  )
}
