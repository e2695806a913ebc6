/**
 * Who may use the RPC from a browser, and under which Host names.
 *
 * CORS: every method reads public data or takes a signed tx, so any origin may call by
 * default (`corsOrigins: ['*']`); a list restricts it. Preflights are answered.
 * Host: a node bound to a loopback address answers only requests whose Host header names
 * loopback (localhost, 127.0.0.1, [::1], any port): a web page cannot reach it through a
 * DNS name rebound to 127.0.0.1. Bound elsewhere, any Host is answered unless a list is set.
 */
import { isIP } from 'node:net'

export interface HttpPolicy {
  /** Origins allowed to call from a browser; '*' for any. */
  corsOrigins: string[]
  /** Host names (no port) the node answers to; null: loopback names when bound to loopback, else any. */
  allowedHosts: string[] | null
}

export const DEFAULT_HTTP_POLICY: HttpPolicy = { corsOrigins: ['*'], allowedHosts: null }

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '::1']

function isLoopback (host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'))
}

/** The host names to accept for a server bound to `bindHost` under `policy`; null for any. */
export function allowedHostsFor (bindHost: string, policy: HttpPolicy): Set<string> | null {
  if (policy.allowedHosts !== null) return policy.allowedHosts.includes('*') ? null : new Set(policy.allowedHosts.map((h) => h.toLowerCase()))
  return isLoopback(bindHost) ? new Set(LOOPBACK_NAMES) : null
}

/** The name in a Host header, without its port or IPv6 brackets. */
export function hostName (header: string | undefined): string {
  if (header === undefined) return ''
  const h = header.trim().toLowerCase()
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']') < 0 ? undefined : h.indexOf(']'))
  const colon = h.lastIndexOf(':')
  return colon < 0 ? h : h.slice(0, colon)
}

export function hostAllowed (header: string | undefined, allowed: Set<string> | null): boolean {
  if (allowed === null) return true
  const name = hostName(header)
  return allowed.has(name) || (name.startsWith('127.') && allowed.has('127.0.0.1') && isIP(name) === 4)
}

/** The CORS headers for a request from `origin` (none when the origin is not allowed, or absent). */
export function corsHeaders (origin: string | undefined, policy: HttpPolicy): Record<string, string> {
  if (origin === undefined) return {}
  if (policy.corsOrigins.includes('*')) return { 'access-control-allow-origin': '*' }
  if (!policy.corsOrigins.includes(origin)) return {}
  return { 'access-control-allow-origin': origin, vary: 'Origin' }
}

/** A preflight's answer, beside the CORS headers. */
export const PREFLIGHT_HEADERS: Record<string, string> = {
  'access-control-allow-methods': 'POST, GET, OPTIONS',
  'access-control-allow-headers': 'content-type',
  'access-control-max-age': '600'
}
