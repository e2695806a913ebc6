/** The `chorus` command line (DESIGN §10). */
import { Command } from 'commander'
import { VERSION } from '../version.ts'
import { typedCommanderErrors } from './output.ts'

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
  .addHelpText('after', `
Environment (a flag wins over its variable, which wins over <home>/config.json, then the default):
  CHORUS_HOME       --home: the home directory (default ~/.chorus)
  CHORUS_RPC        --rpc of tx and query: the node's JSON-RPC URL (default http://127.0.0.1:26657)
  CHORUS_KEY        --key of tx: the key to sign with
  CHORUS_LOG_LEVEL  --log-level of start and localnet

Exit status: 0 on success, 1 when a command fails, 2 for a usage error (an unknown command or
option, a missing or bad value); the error is one line, "error: CODE: message" on stderr (and
{"error": {"code", "message"}} on stdout with --json).`)
// usage errors: one line with a typed code, exit 2 (inherited by every command added below)
typedCommanderErrors(program)

// `chorus` takes no option with a value, so the first word that is not an option names the command;
// with none (`chorus --help`), `help` or an unknown word, every command is registered for the help or the error.
const args = process.argv.slice(2)
const word = args.find((a) => !a.startsWith('-'))
const chosen = word !== undefined && Object.hasOwn(MODULE_OF, word) ? [MODULE_OF[word]!] : Object.keys(MODULES)
for (const register of await Promise.all(chosen.map(async (m) => await MODULES[m]!()))) register(program)

// `chorus` alone, or a group alone (`chorus tx`), prints its help on stdout and exits 0
const alone = args.length === 0 || (args.length === 1 && ['keys', 'tx', 'query'].includes(args[0]!))
const argv = alone ? [...process.argv, '--help'] : process.argv
await program.parseAsync(argv)
