/**
 * The app SDK bundles for a browser (no `node:` module, no Node globals) and works
 * there: a bundle run in a bare JS context signs a tx that the node's fast path accepts.
 */
import { runInNewContext } from 'node:vm'
import { build } from 'esbuild'
import { describe, expect, it } from 'vitest'
import { decodeSignedTx } from '../../../src/codec/tx.ts'
import { parseHex } from '../../../src/crypto/bytes.ts'
import { signingBytes } from '../../../src/crypto/hash.ts'
import { verifySignature } from '../../../src/crypto/verify.ts'

describe('client SDK in a browser', () => {
  it('bundles for the browser platform and signs in a context without Node', async () => {
    const out = await build({
      stdin: {
        contents: `
          import { Signer, post, verifySignature, decodeSignedTx } from './src/client/index.ts'
          const s = Signer.fromSecretKey(new Uint8Array(32).fill(3))
          const tx = s.sign({ chainId: 'browser', nonce: 0, body: post('from a browser') })
          globalThis.result = { hex: tx.hex, address: s.address(), ok: decodeSignedTx(tx.tx.bytes).id.length === 32 }`,
        resolveDir: process.cwd(),
        loader: 'ts'
      },
      bundle: true,
      platform: 'browser',
      format: 'iife',
      write: false,
      logLevel: 'silent'
    })
    const code = out.outputFiles[0]!.text
    expect(code).not.toMatch(/require\(["']node:/)
    // a bare context: no process, no Buffer, no require — what a page has (crypto.getRandomValues, TextEncoder)
    const context: Record<string, unknown> = { TextEncoder, TextDecoder, crypto: globalThis.crypto, Uint8Array, DataView }
    runInNewContext(code, context)
    const result = context.result as { hex: string, address: string, ok: boolean }
    expect(result.ok).toBe(true)
    expect(result.address).toMatch(/^chorus1/)
    const tx = decodeSignedTx(parseHex(result.hex)!)
    expect(verifySignature(tx.unsigned.sender, signingBytes('tx', tx.unsignedBytes), tx.signature)).toBe(true)
  })
})
