/** `chorus init` and `chorus start`. */
import { type Command, Option } from 'commander'
import { readFile } from 'node:fs/promises'
import { totalmem } from 'node:os'
import { createLogger, type Level, type Logger } from '../../logger.ts'
import { ErrorCode } from '../../protocol/errors.ts'
import { DEV_CHAIN_ID } from '../../protocol/params.ts'
import { DEFAULT_METRICS_HOST, type StartFlags as ConfigStartFlags, readConfig, resolveStart } from '../config.ts'
import { hasGenesis, homePaths, initHome, initNetwork, joinNetwork, loadGenesis } from '../home.ts'
import { listKeys, loadKey } from '../keystore.ts'
import { MIN_DEFAULT_MEMORY_TARGET_MIB, defaultMemoryTargetMiB, parseMemoryTargetMiB } from '../../util/memory-target.ts'
import { action, print, usage, ValueError } from '../output.ts'
import { announceOption, bootstrapOption, homeOption, intOption, listOption, logLevelFlag, p2pHostOption, portOption } from './options.ts'
import { execWithRuntimeFlags, startMemoryTarget } from './start-runtime.ts'

export { DEFAULT_METRICS_HOST, DEFAULT_P2P_PORT, DEFAULT_RPC_PORT } from '../config.ts'

export async function readPassword (file: string | undefined): Promise<string | undefined> {
  if (file === undefined) return undefined
  return (await readFile(file, 'utf8')).replace(/\r?\n$/, '')
}

interface InitFlags {
  dev?: boolean
  home: string
  chainId?: string
  blockTime?: number
  passwordFile?: string
  validators?: number
  fullNodes?: number
  out: string
  genesis?: string
  rpcPort?: number
  p2pPort?: number
  bootstrap?: string[]
  json?: boolean
}

/** Refuses flags that mean nothing in the chosen form of `init`. */
function checkInitFlags (o: InitFlags): void {
  const given = (names: Array<[keyof InitFlags, string]>) => names.filter(([k]) => o[k] !== undefined).map(([, flag]) => flag)
  if (o.genesis !== undefined) {
    const wrong = given([['validators', '--validators'], ['fullNodes', '--full-nodes'], ['dev', '--dev'], ['chainId', '--chain-id'], ['blockTime', '--block-time'], ['passwordFile', '--password-file']])
    if (wrong.length > 0) usage(ErrorCode.INVALID_FIELD, `--genesis joins an existing chain: ${wrong.join(', ')} cannot go with it`)
    return
  }
  if (o.bootstrap !== undefined) usage(ErrorCode.INVALID_FIELD, '--bootstrap goes with --genesis (homes made with --validators list each other already)')
  if (o.validators === undefined) {
    const wrong = given([['fullNodes', '--full-nodes'], ['rpcPort', '--rpc-port'], ['p2pPort', '--p2p-port']])
    if (wrong.length > 0) usage(ErrorCode.INVALID_FIELD, `${wrong.join(', ')} go with --validators or --genesis (for a one-validator home, give ports to 'chorus start')`)
  }
}

interface StartFlags extends ConfigStartFlags {
  dev?: boolean
  faucet?: boolean
  timelineIndex?: boolean
  home: string
  blockTime?: number
  json?: boolean
  stopWithStdin?: boolean
  memoryTarget: number
}

/** `--memory-target`'s parser: MiB, 0 or "off" for none. */
export function memoryTargetOption (value: string): number {
  const mib = parseMemoryTargetMiB(value)
  if (mib === null) throw new ValueError('expected MiB as a whole number, or 0 or off for none')
  return mib
}

/** `--metrics-port` turns metrics on (docs/metrics.md); `--metrics-host` alone is a mistake worth saying. */
export function metricsOptions (opts: { metricsPort?: number, metricsHost?: string }): { host: string, port: number } | null {
  if (opts.metricsPort === undefined) {
    if (opts.metricsHost !== undefined) usage(ErrorCode.INVALID_FIELD, '--metrics-host goes with --metrics-port (metrics are off without a port)')
    return null
  }
  return { host: opts.metricsHost ?? DEFAULT_METRICS_HOST, port: opts.metricsPort }
}

export function registerStart (program: Command): void {
  program.command('init')
    .description('Create a home directory: a validator key, a node key and a genesis for a one-validator chain; ' +
      'or, with --validators N, homes for an N-validator network; or, with --genesis FILE, a home that joins an existing chain')
    .option('--dev', 'also make a funded "dev" key and use the chain id chorus-dev (insecure keys, for development)')
    .addOption(homeOption())
    .option('--chain-id <id>', 'chain id (default chorus-dev with --dev, else a fresh one)')
    .option('--block-time <ms>', 'target block time in ms written to genesis', intOption)
    .option('--password-file <file>', 'encrypt the new keys with the password in this file')
    .option('--validators <n>', 'make homes for an N-validator network under --out instead (node0 … node{N-1}, one genesis, ' +
      'each with node-key.json and a config.json listing the others as bootstrap peers)', intOption)
    .option('--full-nodes <m>', 'with --validators: also make M full-node homes node{N} … node{N+M-1} (no validator key)', intOption)
    .option('--out <dir>', 'with --validators: where the homes go', 'localnet')
    .option('--rpc-port <port>', 'with --validators: JSON-RPC port of node0, node i gets port + i (default 26657); with --genesis: the home\'s JSON-RPC port', portOption)
    .option('--p2p-port <port>', 'with --validators: libp2p port of node0, node i gets port + i (default 36656); with --genesis: the home\'s libp2p port', portOption)
    .option('--genesis <file>', 'join an existing chain: copy this genesis into --home, with a node key, a default config.json and no validator key')
    .option('--bootstrap <multiaddrs>', 'with --genesis: peers to dial, comma-separated /ip4/…/tcp/…/p2p/<peerId>', bootstrapOption)
    .option('--json', 'print JSON')
    .action(action(async (opts: InitFlags) => {
      checkInitFlags(opts)
      if (opts.genesis !== undefined) {
        const r = await joinNetwork(opts.home, opts.genesis, { rpcPort: opts.rpcPort, p2pPort: opts.p2pPort, bootstrap: opts.bootstrap })
        const out = { home: r.paths.home, chainId: r.chainId, peerId: r.peerId, config: r.config }
        print(opts, out, () => [
          `Initialised ${r.paths.home} to join chain ${r.chainId} (a full node: no validator key)`,
          `  peer id:   ${r.peerId}`,
          `  rpc:       ${r.config.rpc.host}:${r.config.rpc.port}`,
          `  p2p:       ${r.config.p2p.host}:${r.config.p2p.port}`,
          `  bootstrap: ${r.config.p2p.bootstrap.length === 0 ? `(none: add peers to ${r.paths.config} or pass --bootstrap to start)` : r.config.p2p.bootstrap.join(', ')}`
        ].join('\n'))
        return
      }
      if (opts.validators !== undefined) {
        const n = await initNetwork(opts.out, opts.validators, { chainId: opts.chainId, blockTimeMs: opts.blockTime, fullNodes: opts.fullNodes, rpcPort: opts.rpcPort, p2pPort: opts.p2pPort })
        print(opts, n, () => [
          `Initialised ${n.homes.length} homes for chain ${n.chainId} under ${n.out}`,
          ...n.homes.map((h) => `  ${h.name}  ${h.validator ?? '(full node)'}  ${h.rpc}  ${h.p2p}`),
          `  funded dev key in ${n.homes[0]!.home}: ${n.dev.address}`,
          `Run each with: chorus start --home ${n.out}/node<i>`
        ].join('\n'))
        return
      }
      const r = await initHome(opts.home, { dev: opts.dev === true, chainId: opts.chainId, blockTimeMs: opts.blockTime, password: await readPassword(opts.passwordFile) })
      const out = { home: r.paths.home, chainId: r.genesis.chainId, validator: r.validator.address, dev: r.dev?.address ?? null, peerId: r.peerId }
      print(opts, out, () => [
        `Initialised ${r.paths.home} for chain ${r.genesis.chainId}`,
        `  validator key: ${r.validator.address}`,
        ...(r.dev === null ? [] : [`  dev key:       ${r.dev.address} (funded)`, '  These keys are stored unencrypted: use them for development only.']),
        `  peer id:       ${r.peerId}`
      ].join('\n'))
    }))

  const memoryTargetHere = defaultMemoryTargetMiB(totalmem())
  program.command('start')
    .description('Run a node. With --dev, a new home gets a dev chain (validator and funded dev keys) and blocks start at once. ' +
      'Every setting but --dev, --block-time, --home and --memory-target can also be in <home>/config.json (see docs/operations.md): ' +
      'a flag wins over its environment variable, which wins over config.json, which wins over the default')
    .option('--dev', 'create a dev chain in the home directory on first run')
    .addOption(homeOption())
    .option('--rpc-port <port>', 'JSON-RPC port, 0 for any (default: config.json, else 26657)', portOption)
    .option('--rpc-host <host>', 'JSON-RPC listen address (default: config.json, else 127.0.0.1)')
    .option('--p2p-port <port>', 'libp2p TCP port, 0 for any (default: config.json, else 36656)', portOption)
    .option('--p2p-host <ip>', 'libp2p listen IP, v4 or v6; 0.0.0.0 for every interface (default: config.json, else 127.0.0.1)', p2pHostOption)
    .option('--bootstrap <multiaddrs>', 'peers to dial, comma-separated full multiaddrs /ip4/…/tcp/…/p2p/<peerId> (replaces config.json\'s list; "" for none)', bootstrapOption)
    .option('--announce <multiaddrs>', 'addresses to tell peers instead of the listen one, comma-separated multiaddrs (replaces config.json\'s list)', announceOption)
    .option('--rpc-cors-origins <origins>', 'browser origins allowed to call the RPC, comma-separated, or * (default: *: every method reads public data or takes a signed tx)', listOption)
    .option('--rpc-allowed-hosts <hosts>', 'Host header names the RPC answers to, comma-separated, or * (default: loopback names when --rpc-host is loopback, else any)', listOption)
    .option('--rpc-max-connections <n>', 'open RPC connections (HTTP and WebSocket) at most; lowered, with a warning, to fit under the open-file limit (default 1024)', intOption)
    .option('--rpc-max-connections-per-ip <n>', 'open RPC connections from one IP at most (default 64; behind a reverse proxy every client is its IP)', intOption)
    .option('--rpc-max-response-bytes <n>', 'bytes of one RPC answer (a batch\'s together) at most; calls past it get TOO_LARGE (default 16777216)', intOption)
    .option('--no-web', 'do not serve the web app (GET / with Accept: text/html); JSON-RPC, /openrpc.json and /ws are unchanged (default: config.json\'s web, else on)')
    .option('--no-faucet', `on a dev chain (${DEV_CHAIN_ID}) with an unencrypted dev key in the home: do not answer dev_faucet (default: answer it, sending the dev key's coins to keys made elsewhere, such as the web app's)`)
    .option('--no-timeline-index', 'do not keep the home-timeline index: feed_get then merges each followed account\'s posts on every read, which costs more the more accounts a reader follows (default: keep it; it catches up from the blocks when turned back on)')
    .option('--metrics-port <port>', 'serve Prometheus metrics at http://<metrics-host>:<port>/metrics, 0 for any free port (default: off; see docs/metrics.md)', portOption)
    .option('--metrics-host <host>', `listen address of the metrics endpoint (default ${DEFAULT_METRICS_HOST}; it has no access control, so keep it off public interfaces)`)
    .option('--memory-target <MiB>', 'a soft bound on the node process\'s RSS, in MiB: nearing it, V8 collects garbage harder (a smaller heap growth after each full GC, ' +
      'for more GC work); below 70% of it V8 runs with its defaults. The state read cache is sized to a 32nd of it and recent blocks to a 128th (at most 32 and 16 MiB). ' +
      '0 or off: V8\'s defaults and full caches always. Ignored when node is given --heap-growing-percent ' +
      `(default a quarter of this machine's memory, at least ${MIN_DEFAULT_MEMORY_TARGET_MIB}: ${memoryTargetHere} here; see docs/operations.md)`, memoryTargetOption, memoryTargetHere)
    .option('--block-time <ms>', 'with --dev on first run: target block time in ms', intOption)
    .option('--password-file <file>', 'password of an encrypted validator key')
    .addOption(logLevelFlag('debug, info, warn or error (default: config.json, else info)'))
    .option('--log-json', 'log one JSON object per line (default: config.json, else text)')
    .option('--json', 'the same as --log-json (a running node prints only logs)')
    // For a supervisor (localnet): stop when the pipe on stdin closes, so a killed supervisor leaves no node behind.
    .addOption(new Option('--stop-with-stdin', 'stop when stdin closes').hideHelp())
    .action(action(async (opts: StartFlags) => {
      execWithRuntimeFlags() // before anything is opened: it may replace this process with itself, V8 flags added
      const paths = homePaths(opts.home)
      const config = await readConfig(paths.home)
      metricsOptions({ metricsPort: opts.metricsPort ?? config?.metrics?.port, metricsHost: opts.metricsHost }) // --metrics-host alone: a usage error
      const settings = resolveStart(paths.home, config, { ...opts, logJson: opts.json === true ? true : opts.logJson })
      const logger = nodeLogger({ logLevel: settings.log.level, logJson: settings.log.json })
      const memoryTarget = startMemoryTarget(opts.memoryTarget, logger) // the process's V8 flags: one per process, not per node
      if (opts.dev === true && !await hasGenesis(opts.home)) {
        const r = await initHome(opts.home, { dev: true, blockTimeMs: opts.blockTime })
        logger.warn('Created a dev chain with INSECURE keys', { home: paths.home, chainId: r.genesis.chainId, validator: r.validator.address, dev: r.dev!.address, peerId: r.peerId })
      }
      const genesis = await loadGenesis(opts.home)
      const hasValidatorKey = (await listKeys(opts.home)).some((k) => k.name === 'validator')
      const validator = hasValidatorKey ? await loadKey(opts.home, 'validator', await readPassword(settings.passwordFile)) : null
      const faucet = opts.faucet === false ? null : await devFaucetKey(opts.home, genesis.chainId, logger)
      const { ChorusNode } = await import('../../node.ts') // loaded here, not for every command (#8)
      const node = await ChorusNode.start({
        dataDir: paths.data,
        genesis,
        validator: validator === null ? null : { secretKey: validator.secretKey, signStatePath: paths.signState, walPath: paths.wal },
        rpc: settings.rpc,
        p2p: settings.p2p,
        metrics: settings.metrics,
        faucet,
        memoryTargetBytes: memoryTarget?.policy.targetBytes ?? 0,
        ...(opts.timelineIndex === false ? { timeline: null } : {})
      }, { logger, onFatal: () => process.exit(1) }) // the node has logged why and stopped
      stopOnSignals([node], logger, { stdin: opts.stopWithStdin === true })
    }))
}

/** The dev key, for dev_faucet: only on the dev chain, and only when the home holds it unencrypted. */
async function devFaucetKey (home: string, chainId: string, logger: Logger): Promise<{ secretKey: Uint8Array } | null> {
  if (chainId !== DEV_CHAIN_ID || !(await listKeys(home)).some((k) => k.name === 'dev')) return null
  try {
    return { secretKey: (await loadKey(home, 'dev')).secretKey }
  } catch (e) {
    logger.warn('No faucet: the dev key cannot be read without a password', { error: (e as Error).message })
    return null
  }
}

/** The logger of a running node: text or JSON lines on stderr. */
export function nodeLogger (opts: { logLevel?: string, logJson?: boolean, json?: boolean }): Logger {
  return createLogger({ level: parseLevel(opts.logLevel), json: opts.logJson === true || opts.json === true, write: (l) => process.stderr.write(l + '\n') })
}

/** On SIGINT or SIGTERM (and with `stdin`, when stdin closes): stop every node cleanly, then exit (1 if a stop failed or a node had failed). */
export function stopOnSignals (nodes: ReadonlyArray<{ stop: () => Promise<void>, failure?: Error | null }>, logger: Logger, opts: { stdin?: boolean } = {}): void {
  let stopping = false
  const shutdown = (signal: string) => {
    if (stopping) return
    stopping = true
    logger.info('Stopping', { signal })
    Promise.all(nodes.map(async (n) => await n.stop())).then(() => process.exit(nodes.some((n) => n.failure != null) ? 1 : 0), (e) => {
      logger.error('Stop failed', { error: (e as Error).message })
      process.exit(1)
    })
  }
  process.on('SIGINT', () => shutdown('SIGINT'))
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  if (opts.stdin === true) {
    process.stdin.on('end', () => shutdown('stdin closed'))
    process.stdin.on('error', () => shutdown('stdin closed'))
    process.stdin.resume()
  }
}

function parseLevel (s: string | undefined): Level {
  if (s === undefined) return 'info'
  if (s === 'debug' || s === 'info' || s === 'warn' || s === 'error') return s
  return usage(ErrorCode.INVALID_FIELD, `--log-level must be debug, info, warn or error, not ${s}`)
}
