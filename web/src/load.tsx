/** Loading data for a page, and the little pieces every page shows. */
import type { ComponentChildren } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import { Link } from 'wouter-preact'
import type { LiveState } from './live.ts'
import { inWords } from './rpc.ts'

export type Loaded<T> = { state: 'loading' } | { state: 'ok', value: T } | { state: 'error', error: unknown }

/**
 * Runs `load` when `key` changes (showing "loading" meanwhile), and again when `version` changes
 * (keeping what is shown until the new answer: a refresh after a tx). An answer for an older key is dropped.
 */
export function useLoad<T> (key: string, load: () => Promise<T>, version = 0): Loaded<T> {
  const [result, setResult] = useState<{ key: string, loaded: Loaded<T> }>({ key, loaded: { state: 'loading' } })
  useEffect(() => {
    let current = true
    setResult((old) => old.key === key ? old : { key, loaded: { state: 'loading' } })
    load().then((value) => { if (current) setResult({ key, loaded: { state: 'ok', value } }) },
      (error: unknown) => { if (current) setResult({ key, loaded: { state: 'error', error } }) })
    return () => { current = false }
  }, [key, version])
  return result.key === key ? result.loaded : { state: 'loading' }
}

/** Shows a loading line, the error in words, or the children drawn from the value. */
export function Show<T> ({ loaded, what, children }: { loaded: Loaded<T>, what: string, children: (v: T) => ComponentChildren }) {
  if (loaded.state === 'loading') return <p aria-busy='true'>Loading {what}…</p>
  if (loaded.state === 'error') return <p class='problem' role='alert'>Could not load {what}: {inWords(loaded.error)}</p>
  return <>{children(loaded.value)}</>
}

export const short = (hex: string): string => hex.length > 16 ? `${hex.slice(0, 8)}…${hex.slice(-6)}` : hex
export const time = (ms: number): string => new Date(ms).toLocaleString()

export function Hash ({ hex }: { hex: string }) {
  return <code title={hex}>{short(hex)}</code>
}

export function AddressLink ({ address, label }: { address: string, label?: string | null }) {
  return <Link href={`/profile/${address}`}>{label ?? <code title={address}>{short(address)}</code>}</Link>
}

/** Whether live events can arrive: `live` says what the page shows while they can. */
export function LiveStatus ({ state, live, children }: { state: LiveState, live: string, children?: ComponentChildren }) {
  return (
    <p class='status'>
      <span class={`dot ${state}`} aria-hidden='true' /> <span data-testid='live-status'>{state === 'live' ? live : state === 'connecting' ? 'Connecting…' : 'Offline: reconnecting…'}</span>
      {children}
    </p>
  )
}
