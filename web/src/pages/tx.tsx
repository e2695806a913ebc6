/** One tx: its status (pending, included, unknown) and its decoded body. */
import { Link } from 'wouter-preact'
import type { TxStatus, TxView } from '../../../src/client/index.ts'
import { AddressLink, Show, useLoad } from '../load.tsx'
import { rpc } from '../rpc.ts'

function Body ({ tx }: { tx: TxView }) {
  const b = tx.body as Record<string, unknown>
  const rows = Object.entries(b).filter(([k, v]) => k !== 'kind' && v !== null)
  return (
    <dl class='fields'>
      <dt>Kind</dt><dd>{tx.kind}</dd>
      {rows.map(([k, v]) => (
        <>
          <dt>{k}</dt>
          <dd>{k === 'to' || k === 'target' ? <AddressLink address={String(v)} />
            : k === 'postId' || k === 'replyTo' || k === 'repostOf' ? <Link href={`/post/${String(v)}`}><code>{String(v)}</code></Link>
              : <span class='text'>{String(v)}</span>}</dd>
        </>
      ))}
    </dl>
  )
}

export function TxPage ({ id }: { id: string }) {
  const loaded = useLoad(id, async () => await rpc.getTx(id))
  return (
    <>
      <h1>Transaction</h1>
      <p><code class='id'>{id}</code></p>
      <Show loaded={loaded} what='the transaction'>{(s: TxStatus) => {
        if (s.status === 'unknown' || s.tx === undefined) return <p class='problem' role='alert'>No transaction, pending or included, has this id.</p>
        const tx = s.tx
        return (
          <>
            <p class='tx-status'>Status: <strong>{s.status}</strong>{s.status === 'included' && <> in <Link href={`/block/${s.height!}`}>block {s.height}</Link> (index {s.index})</>}</p>
            {tx.kind === 'post' && s.status === 'included' && <p><Link href={`/post/${tx.id}`}>See the post</Link></p>}
            <dl class='fields'>
              <dt>Sender</dt><dd><AddressLink address={tx.sender} /></dd>
              <dt>Nonce</dt><dd>{tx.nonce}</dd>
              <dt>Fee</dt><dd>{tx.fee}</dd>
              <dt>Size</dt><dd>{tx.size} bytes</dd>
              <dt>Chain</dt><dd>{tx.chainId}</dd>
            </dl>
            <h2>Body</h2>
            <Body tx={tx} />
          </>
        )
      }}</Show>
    </>
  )
}
