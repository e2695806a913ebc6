/** The `chorus` command line (DESIGN §10). */
import { Command } from 'commander'
import { VERSION } from '../version.ts'

type Register = (program: Command) => void

/** Each module registers its commands; it is loaded only when one of them runs (#8: a command loads only what it uses). */
const MODULES: Record<string, () => Promise<Register>> = {
  start: async () => (await import('./commands/start.ts')).registerStart, // init and start
  localnet: async () => (await import('./commands/localnet.ts')).registerLocalnet,
  keys: async () => (await import('./commands/keys.ts')).registerKeys,
  tx: async () => (await import('./commands/tx.ts')).registerTx,
  query: async () => (await import('./commands/query.ts')).registerQuery
}
const MODULE_OF: Record<string, string> = { init: 'start', start: 'start', localnet: 'localnet', keys: 'keys', tx: 'tx', query: 'query' }

const program = new Command('chorus')
  .description('Chorus: a layer-1 blockchain for social media, and its node')
  .version(VERSION)
  .showHelpAfterError()

// `chorus` takes no option with a value, so the first word that is not an option names the command;
// with none (`chorus --help`), `help` or an unknown word, every command is registered for the help or the error.
const word = process.argv.slice(2).find((a) => !a.startsWith('-'))
const chosen = word !== undefined && Object.hasOwn(MODULE_OF, word) ? [MODULE_OF[word]!] : Object.keys(MODULES)
for (const register of await Promise.all(chosen.map(async (m) => await MODULES[m]!()))) register(program)

await program.parseAsync(process.argv)
