/**
 * `chorus localnet --validators N`: an N-validator chain in one process, the
 * validators talking over memory, each with its own home, LevelDB and RPC port.
 * The first run makes the homes (as `init --validators N --out DIR`); later runs continue.
 */
import type { Command } from 'commander'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { MemoryNetwork } from '../../consensus/memory-transport.ts'
import { ChorusNode } from '../../node.ts'
import { ErrorCode, fail } from '../../protocol/errors.ts'
import { hasGenesis, homePaths, initNetwork, loadGenesis } from '../home.ts'
import { loadKey } from '../keystore.ts'
import { action } from '../output.ts'
import { intOption } from './options.ts'
import { DEFAULT_RPC_PORT, nodeLogger, stopOnSignals } from './start.ts'

export function registerLocalnet (program: Command): void {
  program.command('localnet')
    .description('Run an N-validator chain in one process (validators talk over memory); node i serves RPC on --rpc-port + i')
    .requiredOption('--validators <n>', 'number of validators (first run; later runs use the homes that exist)', intOption)
    .option('--home <dir>', 'where the validators\' homes live (node0 … node{N-1})', '.chorus-localnet')
    .option('--rpc-port <port>', 'JSON-RPC port of node0', intOption, DEFAULT_RPC_PORT)
    .option('--rpc-host <host>', 'JSON-RPC listen address', '127.0.0.1')
    .option('--block-time <ms>', 'first run: target block time in ms', intOption)
    .option('--log-level <level>', 'debug, info, warn or error', 'info')
    .option('--log-json', 'log one JSON object per line')
    .option('--json', 'the same as --log-json')
    .action(action(async (opts: { validators: number, home: string, rpcPort: number, rpcHost: string, blockTime?: number, logLevel: string, logJson?: boolean, json?: boolean }) => {
      const logger = nodeLogger(opts)
      if (!await hasGenesis(join(opts.home, 'node0'))) {
        const n = await initNetwork(opts.home, opts.validators, { blockTimeMs: opts.blockTime })
        logger.warn('Created a localnet with INSECURE keys', { home: n.out, chainId: n.chainId, validators: n.homes.length, dev: n.dev.address })
      }
      const homes = (await readdir(opts.home)).filter((d) => /^node[0-9]+$/.test(d)).sort((a, b) => Number(a.slice(4)) - Number(b.slice(4)))
      if (homes.length !== opts.validators) fail(ErrorCode.INVALID_FIELD, `${opts.home} holds ${homes.length} validator homes, not ${opts.validators}`)
      const net = new MemoryNetwork()
      const nodes: ChorusNode[] = []
      for (const [i, name] of homes.entries()) {
        const paths = homePaths(join(opts.home, name))
        const key = await loadKey(paths.home, 'validator')
        nodes.push(await ChorusNode.start({
          dataDir: paths.data,
          genesis: await loadGenesis(paths.home),
          validator: { secretKey: key.secretKey, signStatePath: paths.signState, walPath: paths.wal },
          rpc: { host: opts.rpcHost, port: opts.rpcPort + i },
          p2p: null
        }, { logger: logger.child(name), transport: net.transport(name) }))
      }
      stopOnSignals(nodes, logger)
    }))
}
