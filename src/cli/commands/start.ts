/** `chorus init` and `chorus start`. */
import type { Command } from 'commander'
import { readFile } from 'node:fs/promises'
import { createLogger, type Level, type Logger } from '../../logger.ts'
import { ChorusNode } from '../../node.ts'
import { DEFAULT_HOME, hasGenesis, homePaths, initHome, initNetwork, loadGenesis } from '../home.ts'
import { listKeys, loadKey } from '../keystore.ts'
import { action, print } from '../output.ts'
import { intOption } from './options.ts'

export const DEFAULT_RPC_PORT = 26657
export const DEFAULT_P2P_PORT = 26656

export async function readPassword (file: string | undefined): Promise<string | undefined> {
  if (file === undefined) return undefined
  return (await readFile(file, 'utf8')).replace(/\r?\n$/, '')
}

export function registerStart (program: Command): void {
  program.command('init')
    .description('Create a home directory: a validator key and a genesis for a one-validator chain')
    .option('--dev', 'also make a funded "dev" key and use the chain id chorus-dev (insecure keys, for development)')
    .option('--home <dir>', 'home directory', DEFAULT_HOME)
    .option('--chain-id <id>', 'chain id (default chorus-dev with --dev, else a fresh one)')
    .option('--block-time <ms>', 'target block time in ms written to genesis', intOption)
    .option('--password-file <file>', 'encrypt the new keys with the password in this file')
    .option('--validators <n>', 'make homes for an N-validator chain under --out instead (node0 … node{N-1}, one genesis)', intOption)
    .option('--out <dir>', 'with --validators: where the homes go', 'localnet')
    .option('--json', 'print JSON')
    .action(action(async (opts: { dev?: boolean, home: string, chainId?: string, blockTime?: number, passwordFile?: string, validators?: number, out: string, json?: boolean }) => {
      if (opts.validators !== undefined) {
        const n = await initNetwork(opts.out, opts.validators, { chainId: opts.chainId, blockTimeMs: opts.blockTime })
        print(opts, n, () => [
          `Initialised ${n.homes.length} validator homes for chain ${n.chainId} under ${n.out}`,
          ...n.homes.map((h) => `  ${h.home}  ${h.validator}`),
          `  funded dev key in ${n.homes[0]!.home}: ${n.dev.address}`
        ].join('\n'))
        return
      }
      const r = await initHome(opts.home, { dev: opts.dev === true, chainId: opts.chainId, blockTimeMs: opts.blockTime, password: await readPassword(opts.passwordFile) })
      const out = { home: r.paths.home, chainId: r.genesis.chainId, validator: r.validator.address, dev: r.dev?.address ?? null }
      print(opts, out, () => [
        `Initialised ${r.paths.home} for chain ${r.genesis.chainId}`,
        `  validator key: ${r.validator.address}`,
        ...(r.dev === null ? [] : [`  dev key:       ${r.dev.address} (funded)`, '  These keys are stored unencrypted: use them for development only.'])
      ].join('\n'))
    }))

  program.command('start')
    .description('Run a node. With --dev, a new home gets a dev chain (validator and funded dev keys) and blocks start at once')
    .option('--dev', 'create a dev chain in the home directory on first run')
    .option('--home <dir>', 'home directory', DEFAULT_HOME)
    .option('--rpc-port <port>', 'JSON-RPC port', intOption, DEFAULT_RPC_PORT)
    .option('--rpc-host <host>', 'JSON-RPC listen address', '127.0.0.1')
    .option('--p2p-port <port>', 'peer-to-peer port (reserved: the libp2p network is not built yet)', intOption, DEFAULT_P2P_PORT)
    .option('--block-time <ms>', 'with --dev on first run: target block time in ms', intOption)
    .option('--password-file <file>', 'password of an encrypted validator key')
    .option('--log-level <level>', 'debug, info, warn or error', 'info')
    .option('--log-json', 'log one JSON object per line')
    .option('--json', 'the same as --log-json (a running node prints only logs)')
    .action(action(async (opts: { dev?: boolean, home: string, rpcPort: number, rpcHost: string, p2pPort: number, blockTime?: number, passwordFile?: string, logLevel: string, logJson?: boolean, json?: boolean }) => {
      const logger = nodeLogger(opts)
      const paths = homePaths(opts.home)
      if (opts.dev === true && !await hasGenesis(opts.home)) {
        const r = await initHome(opts.home, { dev: true, blockTimeMs: opts.blockTime })
        logger.warn('Created a dev chain with INSECURE keys', { home: paths.home, chainId: r.genesis.chainId, validator: r.validator.address, dev: r.dev!.address })
      }
      const genesis = await loadGenesis(opts.home)
      const hasValidatorKey = (await listKeys(opts.home)).some((k) => k.name === 'validator')
      const validator = hasValidatorKey ? await loadKey(opts.home, 'validator', await readPassword(opts.passwordFile)) : null
      const node = await ChorusNode.start({
        dataDir: paths.data,
        genesis,
        validator: validator === null ? null : { secretKey: validator.secretKey, signStatePath: paths.signState, walPath: paths.wal },
        rpc: { host: opts.rpcHost, port: opts.rpcPort },
        p2p: null
      }, { logger })
      stopOnSignals([node], logger)
    }))
}

/** The logger of a running node: text or JSON lines on stderr. */
export function nodeLogger (opts: { logLevel: string, logJson?: boolean, json?: boolean }): Logger {
  return createLogger({ level: parseLevel(opts.logLevel), json: opts.logJson === true || opts.json === true, write: (l) => process.stderr.write(l + '\n') })
}

/** On SIGINT or SIGTERM: stop every node cleanly, then exit (1 if a stop failed). */
export function stopOnSignals (nodes: ReadonlyArray<{ stop: () => Promise<void> }>, logger: Logger): void {
  let stopping = false
  const shutdown = (signal: string) => {
    if (stopping) return
    stopping = true
    logger.info('Stopping', { signal })
    Promise.all(nodes.map(async (n) => await n.stop())).then(() => process.exit(0), (e) => {
      logger.error('Stop failed', { error: (e as Error).message })
      process.exit(1)
    })
  }
  process.on('SIGINT', () => shutdown('SIGINT'))
  process.on('SIGTERM', () => shutdown('SIGTERM'))
}

function parseLevel (s: string): Level {
  if (s === 'debug' || s === 'info' || s === 'warn' || s === 'error') return s
  throw new Error(`--log-level must be debug, info, warn or error, not ${s}`)
}
