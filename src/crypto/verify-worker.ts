/** A verify pool's worker thread (verify-pool.ts): packed batches in, one result byte per check out. */
import { parentPort } from 'node:worker_threads'
import { verifyPacked } from './signature-batch.ts'
import { verifySignature } from './verify.ts'

parentPort!.on('message', (packed: Uint8Array) => {
  const results = verifyPacked(packed, verifySignature)
  parentPort!.postMessage(results, [results.buffer as ArrayBuffer])
})
