/** Your key: create or import it (kept encrypted in this browser), unlock it, see balance and nonce, post and edit your profile. */
import { useState } from 'preact/hooks'
import { Link } from 'wouter-preact'
import { post, profile, toHex, type AccountView, type Signer } from '../../../src/client/index.ts'
import { DEV_CHAIN_ID } from '../../../src/protocol/params.ts'
import { forgetAuthor } from '../authors.ts'
import { useKey, useSend } from '../key.tsx'
import { forgetKey, parseSecret, revealSecret, storeKey, storedAddress, unlockKey } from '../keystore.ts'
import { useLoad, Show } from '../load.tsx'
import { inWords, isNotFound, rpc } from '../rpc.ts'

const value = (e: Event): string => (e.target as HTMLInputElement).value

function NewKey () {
  const { setSigner } = useKey()
  const [passphrase, setPassphrase] = useState('')
  const [secret, setSecret] = useState('')
  const [problem, setProblem] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const run = (make: () => Promise<Signer>) => {
    setBusy(true)
    make().then((s) => { setProblem(null); setSigner(s) }, (e: unknown) => setProblem(inWords(e))).finally(() => setBusy(false))
  }
  return (
    <>
      <p>Your key signs your posts and follows. It is made here and stays in this browser, encrypted with your passphrase: it is never sent to the node.</p>
      <form onSubmit={(e) => { e.preventDefault(); run(async () => await storeKey(passphrase)) }}>
        <h2>Create a key</h2>
        <label for='new-pass'>Passphrase (8 characters or more)</label>
        <input id='new-pass' type='password' autocomplete='new-password' value={passphrase} onInput={(e) => setPassphrase(value(e))} />
        <button type='submit' disabled={busy}>Create a key</button>
      </form>
      <form onSubmit={(e) => { e.preventDefault(); run(async () => await storeKey(passphrase, parseSecret(secret))) }}>
        <h2>Or import one</h2>
        <label for='import-secret'>Secret key (64 hex characters)</label>
        <input id='import-secret' type='password' autocomplete='off' value={secret} onInput={(e) => setSecret(value(e))} />
        <p class='hint'>It is encrypted with the passphrase above.</p>
        <button type='submit' disabled={busy}>Import the key</button>
      </form>
      {busy && <p aria-busy='true'>Encrypting…</p>}
      {problem !== null && <p class='problem' role='alert'>{problem}</p>}
    </>
  )
}

function Unlock ({ address }: { address: string }) {
  const { setSigner } = useKey()
  const [passphrase, setPassphrase] = useState('')
  const [problem, setProblem] = useState<string | null>(null)
  const [, redraw] = useState(0)
  return (
    <>
      <p>This browser holds the key of <code class='id'>{address}</code>.</p>
      <form onSubmit={(e) => { e.preventDefault(); unlockKey(passphrase).then(setSigner, (x: unknown) => setProblem(inWords(x))) }}>
        <label for='unlock-pass'>Passphrase</label>
        <input id='unlock-pass' type='password' autocomplete='current-password' value={passphrase} onInput={(e) => setPassphrase(value(e))} />
        <button type='submit'>Unlock</button>
      </form>
      {problem !== null && <p class='problem' role='alert'>{problem}</p>}
      <button type='button' class='secondary' onClick={() => { if (confirm('Forget this key? Without its secret it is gone for good.')) { forgetKey(); redraw((n) => n + 1) } }}>Forget this key</button>
    </>
  )
}

function Account ({ signer }: { signer: Signer }) {
  const { setSigner } = useKey()
  const address = signer.address()
  const [version, setVersion] = useState(0)
  const refresh = () => setVersion((n) => n + 1)
  const account = useLoad(address, async (): Promise<AccountView | null> => {
    try { return await rpc.getAccount(address) } catch (e) { if (isNotFound(e)) return null; throw e }
  }, version)
  const [text, setText] = useState('')
  const [fields, setFields] = useState({ username: '', displayName: '', bio: '', avatarUrl: '' })
  const posting = useSend(signer, () => { setText(''); refresh() })
  const editing = useSend(signer, () => { forgetAuthor(address); refresh() })
  const given = (s: string): string | null => s.trim() === '' ? null : s.trim()
  return (
    <>
      <dl class='fields'>
        <dt>Address</dt><dd><Link href={`/profile/${address}`}><code class='id' data-testid='my-address'>{address}</code></Link></dd>
        <Show loaded={account} what='your account'>{(a: AccountView | null) => (
          <>
            <dt>Balance</dt><dd data-testid='my-balance'>{a?.balance ?? '0'}</dd>
            <dt>Nonce</dt><dd>{a?.pendingNonce ?? '0'}</dd>
          </>
        )}</Show>
      </dl>
      <p><button type='button' class='secondary' onClick={refresh}>Refresh balance</button> <button type='button' class='secondary' onClick={() => setSigner(null)}>Lock</button></p>
      <DevFaucet address={address} done={refresh} />

      <form onSubmit={(e) => { e.preventDefault(); posting.send('Your post', post(text)) }}>
        <h2>Post</h2>
        <label for='post-text'>What is happening?</label>
        <textarea id='post-text' rows={3} value={text} onInput={(e) => setText(value(e))} />
        <button type='submit' disabled={posting.busy || text.trim() === ''}>Post</button>
        {posting.line}
      </form>

      <form onSubmit={(e) => { e.preventDefault(); editing.send('Your profile', profile({ username: given(fields.username), displayName: given(fields.displayName), bio: given(fields.bio), avatarUrl: given(fields.avatarUrl) })) }}>
        <h2>Edit your profile</h2>
        <p class='hint'>Fields left empty stay as they are.</p>
        {([['username', 'Username'], ['displayName', 'Display name'], ['bio', 'Bio'], ['avatarUrl', 'Avatar URL']] as const).map(([k, label]) => (
          <p key={k}><label for={`profile-${k}`}>{label}</label> <input id={`profile-${k}`} value={fields[k]} onInput={(e) => setFields({ ...fields, [k]: value(e) })} /></p>
        ))}
        <button type='submit' disabled={editing.busy}>Save the profile</button>
        {editing.line}
      </form>

      <Backup />
    </>
  )
}

/** On a dev chain, coins from its node's dev key (dev_faucet): a new key can act at once. Nowhere else. */
function DevFaucet ({ address, done }: { address: string, done: () => void }) {
  const params = useLoad('params', async () => await rpc.getParams())
  const [state, setState] = useState<{ busy: boolean, line: string | null, bad: boolean }>({ busy: false, line: null, bad: false })
  if (params.state !== 'ok' || params.value.chainId !== DEV_CHAIN_ID) return null
  const ask = () => {
    setState({ busy: true, line: 'Asking the dev faucet…', bad: false })
    rpc.devFaucet(address).then((r) => { setState({ busy: false, line: `The dev faucet sent ${r.amount}: included in block ${r.height}`, bad: false }); done() },
      (e: unknown) => setState({ busy: false, line: `The dev faucet did not send: ${inWords(e)}`, bad: true }))
  }
  return (
    <section aria-label='Dev faucet'>
      <h2>Coins for testing</h2>
      <p>This is a dev chain: its node can send your key coins from its dev key, to pay the fees of your posts.</p>
      <button type='button' disabled={state.busy} onClick={ask}>Get coins from the dev faucet</button>
      {state.line !== null && <p class={state.bad ? 'problem' : 'tx-progress'} role={state.bad ? 'alert' : 'status'}>{state.line}</p>}
    </section>
  )
}

/** The secret, shown after the passphrase is given again: the only way to keep the key beyond this browser. */
function Backup () {
  const [passphrase, setPassphrase] = useState('')
  const [secret, setSecret] = useState<string | null>(null)
  const [problem, setProblem] = useState<string | null>(null)
  return (
    <details class='backup'>
      <summary>Back up your key</summary>
      <p>Your key lives only in this browser. Keep its secret somewhere safe to use it elsewhere (import it on the key page) or if this browser forgets it.</p>
      <form onSubmit={(e) => { e.preventDefault(); revealSecret(passphrase).then((b) => { setProblem(null); setSecret(toHex(b)) }, (x: unknown) => setProblem(inWords(x))) }}>
        <label for='backup-pass'>Passphrase</label>
        <input id='backup-pass' type='password' autocomplete='current-password' value={passphrase} onInput={(e) => setPassphrase(value(e))} />
        <button type='submit'>Show the secret key</button>
      </form>
      {problem !== null && <p class='problem' role='alert'>{problem}</p>}
      {secret !== null && (
        <>
          <p><code class='id' data-testid='my-secret'>{secret}</code></p>
          <p class='hint'>Anyone who has it can post, follow and spend as you.</p>
          <button type='button' class='secondary' onClick={() => { setSecret(null); setPassphrase('') }}>Hide it</button>
        </>
      )}
    </details>
  )
}

export function KeyPage () {
  const { signer } = useKey()
  const stored = storedAddress()
  return (
    <>
      <h1>Your key</h1>
      {signer !== null ? <Account signer={signer} /> : stored !== null ? <Unlock address={stored} /> : <NewKey />}
    </>
  )
}
