/**
 * Open RPC connections, in total and per IP (HTTP and WebSocket alike: an upgraded
 * WebSocket keeps its HTTP connection's place). Pure bookkeeping.
 */
export type ConnectionRefusal = 'total' | 'ip'

export class ConnectionLimits {
  private readonly byIp = new Map<string, number>()
  private open = 0
  private readonly refused: Record<ConnectionRefusal, number> = { total: 0, ip: 0 }

  constructor (readonly maxTotal: number, readonly maxPerIp: number) {}

  get count (): number { return this.open }
  /** Connections refused since start, by which cap. */
  get refusals (): Readonly<Record<ConnectionRefusal, number>> { return this.refused }

  /** Takes a place for a new connection from `ip`, or says which cap refuses it. */
  enter (ip: string): ConnectionRefusal | null {
    const n = this.byIp.get(ip) ?? 0
    const refusal = this.open >= this.maxTotal ? 'total' : n >= this.maxPerIp ? 'ip' : null
    if (refusal !== null) {
      this.refused[refusal]++
      return refusal
    }
    this.open++
    this.byIp.set(ip, n + 1)
    return null
  }

  /** Gives back the place of a connection from `ip` that `enter` admitted. */
  leave (ip: string): void {
    this.open--
    const n = (this.byIp.get(ip) ?? 1) - 1
    if (n <= 0) this.byIp.delete(ip)
    else this.byIp.set(ip, n)
  }
}
