/**
 * `chorus tx …`: sign with a key from the home directory, submit, wait for
 * inclusion, print the id and height. `--offline` signs without submitting
 * and prints {id, hex} for `tx_submit` on any node.
 */
import type { Command } from 'commander'
import { RpcClient } from '../../client/rpc-client.ts'
import * as build from '../../client/transactions.ts'
import { decodeAddress } from '../../crypto/address.ts'
import { parseHex } from '../../crypto/bytes.ts'
import { ErrorCode, fail } from '../../protocol/errors.ts'
import type { TxBody } from '../../protocol/types.ts'
import { DEFAULT_HOME, loadGenesis } from '../home.ts'
import { loadKey } from '../keystore.ts'
import { action, print } from '../output.ts'
import { DEFAULT_RPC_URL, amountOption, intOption } from './options.ts'
import { readPassword } from './start.ts'

interface TxOptions {
  key: string
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
  return pk ?? fail(ErrorCode.INVALID_ADDRESS, `${text} is not an address or @username`)
}

function postId (text: string): Uint8Array {
  const id = parseHex(text)
  if (id === null || id.length !== 32) fail(ErrorCode.MALFORMED, 'a post id is 64 hex characters')
  return id!
}

type BodyBuilder = (args: string[], rpc: RpcClient, prefix: string | null, cmdOpts: Record<string, unknown>) => Promise<TxBody>

function txCommand (tx: Command, name: string, args: string, description: string, body: BodyBuilder, extra?: (c: Command) => Command): void {
  let c = tx.command(`${name}${args === '' ? '' : ' ' + args}`).description(description)
    .option('--key <name>', 'key to sign with, from <home>/keys', 'dev')
    .option('--home <dir>', 'home directory', DEFAULT_HOME)
    .option('--rpc <url>', 'node JSON-RPC URL', DEFAULT_RPC_URL)
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
    const positional = cmd.args
    await runTx(opts, async (rpc, prefix) => await body(positional, rpc, prefix, opts as unknown as Record<string, unknown>))
  }))
}

async function runTx (opts: TxOptions, makeBody: (rpc: RpcClient, prefix: string | null) => Promise<TxBody>): Promise<void> {
  const key = await loadKey(opts.home, opts.key, await readPassword(opts.passwordFile))
  const signer = build.Signer.fromSecretKey(key.secretKey)
  const rpc = new RpcClient(opts.rpc)
  let chainId: string
  let minFeePerByte: bigint
  let prefix: string | null
  if (opts.offline === true) {
    const genesis = opts.chainId === undefined ? await loadGenesis(opts.home) : null
    chainId = opts.chainId ?? genesis!.chainId
    minFeePerByte = genesis?.params.minFeePerByte ?? 1n
    prefix = genesis?.addressPrefix ?? null
    if (opts.nonce === undefined) fail(ErrorCode.BAD_NONCE, '--offline needs --nonce (no node is asked)')
  } else {
    const p = await rpc.getParams()
    chainId = p.chainId
    minFeePerByte = BigInt(p.params.minFeePerByte!)
    prefix = p.addressPrefix
  }
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
  const tx = program.command('tx').description('Sign and send a transaction (waits for inclusion and prints its id and height)')
  txCommand(tx, 'post', '<text>', 'Publish a post', async ([text]) => build.post(text!))
  txCommand(tx, 'reply', '<postId> <text>', 'Reply to a post', async ([id, text]) => build.reply(postId(id!), text!))
  txCommand(tx, 'repost', '<postId>', 'Repost a post (with optional --text)', async ([id], _r, _p, o) => build.repost(postId(id!), (o.text as string | undefined) ?? ''),
    (c) => c.option('--text <text>', 'a comment to repost with'))
  txCommand(tx, 'follow', '<target>', 'Follow an account (address or @username)', async ([t], rpc, prefix) => build.follow(await target(t!, rpc, prefix)))
  txCommand(tx, 'unfollow', '<target>', 'Stop following an account', async ([t], rpc, prefix) => build.unfollow(await target(t!, rpc, prefix)))
  txCommand(tx, 'like', '<postId>', 'Like a post', async ([id]) => build.like(postId(id!)))
  txCommand(tx, 'unlike', '<postId>', 'Take back a like', async ([id]) => build.unlike(postId(id!)))
  txCommand(tx, 'transfer', '<target> <amount>', 'Send coins to an account', async ([t, amount], rpc, prefix) => build.transfer(await target(t!, rpc, prefix), amountOption(amount!)))
  txCommand(tx, 'stake', '<amount>', 'Bond coins as validator stake', async ([amount]) => build.stake(amountOption(amount!)))
  txCommand(tx, 'unstake', '<amount>', 'Unbond stake (returns after the unbonding period)', async ([amount]) => build.unstake(amountOption(amount!)))
  txCommand(tx, 'profile', '', 'Set profile fields (omitted fields stay; "" clears)', async (_a, _r, _p, o) => {
    const fields = { username: o.username, displayName: o.displayName, bio: o.bio, avatarUrl: o.avatarUrl } as Record<string, string | undefined>
    if (Object.values(fields).every((v) => v === undefined)) fail(ErrorCode.INVALID_FIELD, 'give at least one of --username, --display-name, --bio, --avatar-url')
    return build.profile(fields)
  }, (c) => c
    .option('--username <name>', 'claim a username ([a-z0-9_]{3,20}; "" frees yours)')
    .option('--display-name <text>', 'display name')
    .option('--bio <text>', 'bio')
    .option('--avatar-url <url>', 'avatar URL (http or https)'))
}

