/** The key this browser holds (keystore.ts), unlocked for the session, and sending signed txs with it. */
import { createContext } from 'preact'
import { useContext, useState } from 'preact/hooks'
import type { Signer, TxDraft } from '../../src/client/index.ts'
import { inWords, isNotFound, rpc } from './rpc.ts'

export interface KeyState { signer: Signer | null, setSigner: (s: Signer | null) => void }
export const KeyContext = createContext<KeyState>({ signer: null, setSigner: () => {} })
export const useKey = (): KeyState => useContext(KeyContext)

/** Signs `body` with the SDK in this page and submits it; `onPending` once the node has admitted it, resolves when included. */
export async function sendTx (signer: Signer, body: TxDraft['body'], onPending: (id: string) => void): Promise<{ id: string, height: number }> {
  const { chainId, params } = await rpc.getParams()
  const account = await rpc.getAccount(signer.address()).catch((e: unknown) => { if (isNotFound(e)) return null; throw e })
  const nonce = Number(account?.pendingNonce ?? 0)
  const tx = signer.sign({ chainId, nonce, body }, { minFeePerByte: BigInt(params.minFeePerByte) })
  onPending(tx.id)
  const r = await rpc.submitTx(tx.hex, { wait: 'commit' })
  return { id: r.id, height: r.height! }
}

/** A form that sends one tx and says where it is: pending, then included, or the error in words. */
export function useSend (signer: Signer, done: () => void) {
  const [status, setStatus] = useState<{ kind: 'idle' | 'pending' | 'included' | 'error', text: string }>({ kind: 'idle', text: '' })
  const send = (what: string, body: TxDraft['body']) => {
    setStatus({ kind: 'pending', text: `Signing ${what}…` })
    sendTx(signer, body, () => setStatus({ kind: 'pending', text: `${what}: pending` }))
      .then((r) => { setStatus({ kind: 'included', text: `${what}: included in block ${r.height}` }); done() },
        (e: unknown) => setStatus({ kind: 'error', text: `${what} failed: ${inWords(e)}` }))
  }
  const line = status.kind === 'idle' ? null : <p class={status.kind === 'error' ? 'problem' : 'tx-progress'} role={status.kind === 'error' ? 'alert' : 'status'}>{status.text}</p>
  return { send, line, busy: status.kind === 'pending' }
}


/** Buttons that act on the chain with the unlocked key; nothing without one. */
export function Actions ({ actions, done }: { actions: Array<{ label: string, what: string, body: () => TxDraft['body'] }>, done: () => void }) {
  const { signer } = useKey()
  if (signer === null) return null
  return <ActionButtons signer={signer} actions={actions} done={done} />
}

function ActionButtons ({ signer, actions, done }: { signer: Signer, actions: Array<{ label: string, what: string, body: () => TxDraft['body'] }>, done: () => void }) {
  const { send, line, busy } = useSend(signer, done)
  return (
    <div class='actions'>
      {actions.map((a) => <button key={a.label} type='button' disabled={busy} onClick={() => send(a.what, a.body())}>{a.label}</button>)}
      {line}
    </div>
  )
}
