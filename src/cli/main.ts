/** The `chorus` command line (DESIGN §10). */
import { Command } from 'commander'
import { VERSION } from '../version.ts'
import { registerKeys } from './commands/keys.ts'
import { registerLocalnet } from './commands/localnet.ts'
import { registerQuery } from './commands/query.ts'
import { registerStart } from './commands/start.ts'
import { registerTx } from './commands/tx.ts'

const program = new Command('chorus')
  .description('Chorus: a layer-1 blockchain for social media, and its node')
  .version(VERSION)
  .showHelpAfterError()

registerStart(program)
registerLocalnet(program)
registerKeys(program)
registerTx(program)
registerQuery(program)

await program.parseAsync(process.argv)
