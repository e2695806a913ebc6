import { ed25519 } from '@noble/curves/ed25519.js'
import { VerifyPool } from './src/crypto/verify-pool.ts'
const pool = new VerifyPool(1)
const checks = [] as any[]
for (let i = 0; i < 200; i++) {
  const sk = ed25519.utils.randomSecretKey(); const pk = ed25519.getPublicKey(sk)
  for (let j = 0; j < 10; j++) { const m = new Uint8Array(200).fill(j); checks.push({ publicKey: pk, message: m, signature: ed25519.sign(m, sk) }) }
}
await pool.verifyBatch(checks.slice(0, 1000))
const t0 = performance.now(); const end = Date.now() + 5000
let n = 0
while (Date.now() < end) { const jobs = []; for (let k = 0; k < 4; k++) jobs.push(pool.verifyBatch(checks.slice((n % 30) * 64, (n % 30) * 64 + 64))), n++; await Promise.all(jobs) }
const w = (pool as any).slots[0].worker
const s = await w.getHeapStatistics()
const sp = await w.getHeapSpaceStatistics?.() 
console.log(process.env.WYG, 'checks/s', Math.round(n * 64 / ((performance.now() - t0) / 1000)), 'worker heap total', Math.round(s.total_heap_size / 1e6), 'MB used', Math.round(s.used_heap_size / 1e6), 'rss', Math.round(process.memoryUsage().rss/1e6))
if (sp) for (const x of sp) if (x.space_size > 1e6) console.log('  ', x.space_name, Math.round(x.space_size/1e6))
await pool.close()
