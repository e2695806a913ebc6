/**
 * Runs the consensus simulator over many seeds.
 *   npm run simulate -- --validators 7 --heights 1000 --seeds 20 --faults all --byzantine 1
 *   npm run simulate -- --seed 1234 ...          replay one seed
 * Options: --seed-base N, --twins K, --bug ignore-lock|no-quorum-check.
 * Prints a line per seed and ends with
 *   simulated S seeds x H heights: V safety violations, L liveness failures
 * exiting non-zero when V or L is not 0.
 */
import { parseArgs } from 'node:util'
import { ALL_FAULTS, type Bug, type Fault, simulate } from '../test/sim/simulator.ts'

const { values } = parseArgs({
  options: {
    validators: { type: 'string', default: '4' },
    heights: { type: 'string', default: '200' },
    seeds: { type: 'string', default: '10' },
    'seed-base': { type: 'string', default: '1' },
    seed: { type: 'string' },
    faults: { type: 'string', default: 'all' },
    byzantine: { type: 'string', default: '0' },
    twins: { type: 'string', default: '0' },
    bug: { type: 'string' },
    help: { type: 'boolean', default: false }
  }
})

if (values.help) {
  console.log('usage: npm run simulate -- [--validators N] [--heights H] [--seeds S] [--seed-base B | --seed X]\n' +
    `         [--faults all|none|${ALL_FAULTS.join(',')}] [--byzantine K] [--twins K] [--bug ignore-lock|no-quorum-check]`)
  process.exit(0)
}

const int = (name: string, v: string | undefined): number => {
  if (v === undefined || !/^[0-9]+$/.test(v)) { console.error(`--${name} needs a whole number`); process.exit(2) }
  return Number(v)
}
const faults: Fault[] = values.faults === 'all' ? ALL_FAULTS : values.faults === 'none' ? [] : values.faults.split(',') as Fault[]
for (const f of faults) if (!ALL_FAULTS.includes(f)) { console.error(`unknown fault ${f}`); process.exit(2) }
if (values.bug !== undefined && values.bug !== 'ignore-lock' && values.bug !== 'no-quorum-check') { console.error(`unknown bug ${values.bug}`); process.exit(2) }

const validators = int('validators', values.validators)
const heights = int('heights', values.heights)
const seeds = values.seed !== undefined ? [int('seed', values.seed)] : Array.from({ length: int('seeds', values.seeds) }, (_, i) => int('seed-base', values['seed-base']) + i)
let violations = 0
let failures = 0
for (const seed of seeds) {
  const t0 = performance.now()
  const r = await simulate({ validators, heights, seed, faults, byzantine: int('byzantine', values.byzantine), twins: int('twins', values.twins), bug: values.bug as Bug | undefined })
  violations += r.safety.length > 0 ? 1 : 0
  failures += r.liveness !== null ? 1 : 0
  const verdict = r.safety.length > 0 ? `SAFETY ${r.safety[0]}` : r.liveness !== null ? `LIVENESS ${r.liveness}` : 'ok'
  console.log(`seed ${seed}: height ${r.height}, ${(r.virtualMs / 1000).toFixed(1)} s virtual, ${r.messages} messages, ${r.evidence} evidence, ${((performance.now() - t0) / 1000).toFixed(1)} s real: ${verdict}`)
}
console.log(`simulated ${seeds.length} seeds x ${heights} heights: ${violations} safety violations, ${failures} liveness failures`)
process.exit(violations + failures > 0 ? 1 : 0)
