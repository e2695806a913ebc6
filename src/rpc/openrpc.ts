/** The OpenRPC document, generated from the method table so it can never drift from it. */
import type { Method } from './methods.ts'
import { RpcCode } from './errors.ts'

export function openRpcDocument (methods: Record<string, Method>, version: string): Record<string, unknown> {
  return {
    openrpc: '1.3.2',
    info: {
      title: 'Chorus JSON-RPC',
      version,
      description: 'Amounts and nonces are decimal strings, bytes are hex, addresses bech32m (or @username where an address is taken). ' +
        'Lists take an opaque cursor and limit ≤ 100 and return {items, cursor}; cursor is null on the last page. ' +
        'Errors carry the typed code in error.data.code.'
    },
    methods: Object.entries(methods).map(([name, m]) => ({
      name,
      summary: m.summary,
      paramStructure: 'either',
      params: m.params.map((p) => ({ name: p, required: !['cursor', 'limit', 'options'].includes(p), schema: {} })),
      result: { name: 'result', schema: {} }
    })),
    components: {
      errors: Object.fromEntries(Object.entries(RpcCode).map(([k, code]) => [k, { code, message: k.toLowerCase().replace(/_/g, ' ') }]))
    }
  }
}
