/** Where a search goes: a height, a tx id (a post's id is its tx's), @username, or an address; null if it is none of these. */
export function searchTarget (input: string): string | null {
  const q = input.trim()
  if (/^\d+$/.test(q)) return `/block/${Number(q)}`
  if (/^[0-9a-f]{64}$/i.test(q)) return `/tx/${q.toLowerCase()}`
  if (/^@[A-Za-z0-9_.-]+$/.test(q)) return `/profile/${encodeURIComponent(q.toLowerCase())}`
  // a bech32m address: prefix, the separator 1, data characters
  if (/^[a-z]{1,16}1[02-9ac-hj-np-z]{6,}$/.test(q.toLowerCase())) return `/profile/${q.toLowerCase()}`
  if (/^[a-z0-9_]{1,32}$/i.test(q)) return `/profile/${encodeURIComponent('@' + q.toLowerCase())}`
  return null
}
