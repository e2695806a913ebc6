/**
 * `chorus tx …`: sign with a key from the home directory, submit, wait for
 * inclusion, print the id and height. `--offline` signs without submitting
 * and prints {id, hex} for `tx_submit` on any node.
 */
import { type Command, Option } from 'commander'
import { RpcClient } from '../../client/rpc-client.ts'
import * as build from '../../client/transactions.ts'
import { decodeAddress } from '../../crypto/address.ts'
import { parseHex } from '../../crypto/bytes.ts'
import { ErrorCode } from '../../protocol/errors.ts'
import type { TxBody } from '../../protocol/types.ts'
import { loadGenesis } from '../home.ts'
import { loadKey } from '../keystore.ts'
import { action, print, usage } from '../output.ts'
import { amountOption, homeOption, intOption, postIdOption, rpcOption } from './options.ts'
import { readPassword } from './start.ts'

/** The chain id of a dev chain (genesis/devnet.json, as `start --dev` and `init --dev` make it): there `--key` defaults to `dev`. */
export const DEV_CHAIN_ID = 'chorus-dev'
/** The key a dev chain signs with when no --key is given. */
export const DEV_KEY = 'dev'

interface TxOptions {
  key?: string
  home: string
  rpc: string
  fee?: bigint
  nonce?: number
  offline?: boolean
  chainId?: string
  passwordFile?: string
  wait: boolean
  json?: boolean
}

/** Resolves a TARGET (address or @username) to a public key. */
async function target (text: string, rpc: RpcClient, prefix: string | null): Promise<Uint8Array> {
  if (text.startsWith('@')) text = (await rpc.getProfile(text)).address
  const pk = decodeAddress(text, prefix ?? text.slice(0, Math.max(0, text.lastIndexOf('1'))))
  return pk ?? usage(ErrorCode.INVALID_ADDRESS, `${text} is not an address or @username`)
}

/** A post id argument, checked by its parser (postIdOption). */
const postId = (text: string): Uint8Array => parseHex(text)!

/** The parsed positional arguments: strings, and bigints for amounts. */
type Args = Array<string | bigint>
type BodyBuilder = (args: Args, rpc: RpcClient, prefix: string | null, cmdOpts: Record<string, unknown>) => Promise<TxBody>

/** A positional argument: `<name>`, its help, and the parser that checks it before anything runs. */
type Arg = [name: string, description: string, parse?: (value: string) => string | bigint]
const POST_ID: Arg = ['<postId>', 'the post\'s id (64 hex characters)', postIdOption]
const TARGET: Arg = ['<target>', 'an address or @username']
const AMOUNT: Arg = ['<amount>', 'a whole number of coins', amountOption]

/** `check` refuses a command line that cannot make a tx (a usage error) before any key is read or node asked. */
function txCommand (tx: Command, name: string, args: Arg[], description: string, body: BodyBuilder, extra?: (c: Command) => Command, check?: (opts: Record<string, unknown>) => void): void {
  let c = tx.command(name).description(description)
  for (const [arg, help, parse] of args) c = parse === undefined ? c.argument(arg, help) : c.argument(arg, help, parse)
  c = c
    .addOption(new Option('--key <name>', `key to sign with, from <home>/keys (needed, except on a dev chain (${DEV_CHAIN_ID}), where it is "${DEV_KEY}")`).env('CHORUS_KEY'))
    .addOption(homeOption())
    .addOption(rpcOption())
    .option('--fee <amount>', 'fee to pay (default: the minimum for the tx size)', amountOption)
    .option('--nonce <n>', 'nonce (default: the account\'s next, counting pending txs)', intOption)
    .option('--offline', 'sign only: print {id, hex} without submitting')
    .option('--chain-id <id>', 'with --offline: chain id (default: from <home>/genesis.json)')
    .option('--password-file <file>', 'password of an encrypted key')
    .option('--no-wait', 'return once the tx is in the mempool')
    .option('--json', 'print JSON')
  if (extra !== undefined) c = extra(c)
  c.action(action(async (...all: unknown[]) => {
    const cmd = all[all.length - 1] as Command
    const opts = cmd.opts<TxOptions>()
    const positional = cmd.processedArgs as Args
    check?.(opts as unknown as Record<string, unknown>)
    await runTx(opts, `chorus tx ${name}`, async (rpc, prefix) => await body(positional, rpc, prefix, opts as unknown as Record<string, unknown>))
  }))
}

/**
 * The key to sign with: --key (or CHORUS_KEY); without one, `dev` on a dev chain, said on stderr;
 * on any other chain a usage error.
 */
export function signingKey (given: string | undefined, chainId: string, command: string): string {
  if (given !== undefined) return given
  if (chainId !== DEV_CHAIN_ID) usage(ErrorCode.INVALID_FIELD, `${command} needs --key NAME (or CHORUS_KEY): the key to sign with, from <home>/keys (only a dev chain defaults to "${DEV_KEY}"; this is ${chainId})`)
  process.stderr.write(`note: signing with the "${DEV_KEY}" key: no --key given, and ${chainId} is a dev chain\n`)
  return DEV_KEY
}

async function runTx (opts: TxOptions, command: string, makeBody: (rpc: RpcClient, prefix: string | null) => Promise<TxBody>): Promise<void> {
  if (opts.offline === true && opts.nonce === undefined) usage(ErrorCode.BAD_NONCE, '--offline needs --nonce (no node is asked)')
  const rpc = new RpcClient(opts.rpc)
  let chainId: string
  let minFeePerByte: bigint
  let prefix: string | null
  if (opts.offline === true) {
    const genesis = opts.chainId === undefined ? await loadGenesis(opts.home) : null
    chainId = opts.chainId ?? genesis!.chainId
    minFeePerByte = genesis?.params.minFeePerByte ?? 1n
    prefix = genesis?.addressPrefix ?? null
  } else {
    const p = await rpc.getParams()
    chainId = p.chainId
    minFeePerByte = BigInt(p.params.minFeePerByte!)
    prefix = p.addressPrefix
  }
  const key = await loadKey(opts.home, signingKey(opts.key, chainId, command), await readPassword(opts.passwordFile))
  const signer = build.Signer.fromSecretKey(key.secretKey)
  const body = await makeBody(rpc, prefix)
  const nonce = opts.nonce ?? Number((await rpc.getAccount(signer.address(prefix ?? undefined))).pendingNonce)
  const signed = signer.sign({ chainId, nonce, body, fee: opts.fee }, { minFeePerByte })
  if (opts.offline === true) {
    print(opts, { id: signed.id, hex: signed.hex }, () => `id  ${signed.id}\nhex ${signed.hex}`)
    return
  }
  const res = await rpc.submitTx(signed.hex, opts.wait ? { wait: 'commit' } : {})
  print(opts, res, () => res.height === undefined ? `tx ${res.id} is pending` : `tx ${res.id} included at height ${res.height}`)
}

export function registerTx (program: Command): void {
  const tx = program.command('tx').description('Sign and send a transaction (waits for inclusion and prints its id and height). ' +
    'Needs --key (or CHORUS_KEY) except on a dev chain, where the key is "dev"')
  const str = (v: string | bigint | undefined): string => v as string
  const big = (v: string | bigint | undefined): bigint => v as bigint
  txCommand(tx, 'post', [['<text>', 'the post']], 'Publish a post', async ([text]) => build.post(str(text)))
  txCommand(tx, 'reply', [POST_ID, ['<text>', 'the reply']], 'Reply to a post', async ([id, text]) => build.reply(postId(str(id)), str(text)))
  txCommand(tx, 'repost', [POST_ID], 'Repost a post (with optional --text)', async ([id], _r, _p, o) => build.repost(postId(str(id)), (o.text as string | undefined) ?? ''),
    (c) => c.option('--text <text>', 'a comment to repost with'))
  txCommand(tx, 'follow', [TARGET], 'Follow an account (address or @username)', async ([t], rpc, prefix) => build.follow(await target(str(t), rpc, prefix)))
  txCommand(tx, 'unfollow', [TARGET], 'Stop following an account', async ([t], rpc, prefix) => build.unfollow(await target(str(t), rpc, prefix)))
  txCommand(tx, 'like', [POST_ID], 'Like a post', async ([id]) => build.like(postId(str(id))))
  txCommand(tx, 'unlike', [POST_ID], 'Take back a like', async ([id]) => build.unlike(postId(str(id))))
  txCommand(tx, 'transfer', [TARGET, AMOUNT], 'Send coins to an account', async ([t, amount], rpc, prefix) => build.transfer(await target(str(t), rpc, prefix), big(amount)))
  txCommand(tx, 'stake', [AMOUNT], 'Bond coins as validator stake', async ([amount]) => build.stake(big(amount)))
  txCommand(tx, 'unstake', [AMOUNT], 'Unbond stake (returns after the unbonding period)', async ([amount]) => build.unstake(big(amount)))
  const profileFields = (o: Record<string, unknown>) => ({ username: o.username, displayName: o.displayName, bio: o.bio, avatarUrl: o.avatarUrl }) as Record<string, string | undefined>
  txCommand(tx, 'profile', [], 'Set profile fields (omitted fields stay; "" clears)', async (_a, _r, _p, o) => build.profile(profileFields(o)), (c) => c
    .option('--username <name>', 'claim a username ([a-z0-9_]{3,20}; "" frees yours)')
    .option('--display-name <text>', 'display name')
    .option('--bio <text>', 'bio')
    .option('--avatar-url <url>', 'avatar URL (http or https)'), (o) => {
    if (Object.values(profileFields(o)).every((v) => v === undefined)) usage(ErrorCode.INVALID_FIELD, 'give at least one of --username, --display-name, --bio, --avatar-url')
  })
}
