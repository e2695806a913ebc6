/** `chorus keys new|show|import|list`. */
import type { Command } from 'commander'
import { readFile, stat } from 'node:fs/promises'
import { resolve } from 'node:path'
import { DEFAULT_PREFIX } from '../../crypto/address.ts'
import { parseHex } from '../../crypto/bytes.ts'
import { generateSecretKey } from '../../crypto/keys.ts'
import { ErrorCode, fail } from '../../protocol/errors.ts'
import { type KeyFile, listKeys, readKeyFile, saveKey } from '../keystore.ts'
import { action, print } from '../output.ts'
import { homeOption } from './options.ts'
import { readPassword } from './start.ts'

interface KeyOptions { home: string, json?: boolean, passwordFile?: string, secretKeyFile?: string }

const publicView = (k: KeyFile) => ({ name: k.name, address: k.address, publicKey: k.publicKey, encrypted: k.encrypted !== undefined })

async function readSecret (file: string | undefined): Promise<Uint8Array> {
  let text: string
  if (file !== undefined) text = await readFile(file, 'utf8')
  else if (!process.stdin.isTTY) text = await new Response(process.stdin as unknown as ReadableStream).text()
  else return fail(ErrorCode.INVALID_FIELD, 'give the secret key as hex in --secret-key-file, or pipe it on stdin')
  const key = parseHex(text.trim())
  if (key === null || key.length !== 32) fail(ErrorCode.MALFORMED, 'a secret key is 64 hex characters')
  return key!
}

/** Refuses a home that does not exist (a mistyped --home, or CHORUS_HOME unset), rather than listing no keys. */
async function mustBeHome (home: string): Promise<void> {
  const s = await stat(home).catch(() => null)
  if (s === null || !s.isDirectory()) fail(ErrorCode.NOT_FOUND, `no home at ${resolve(home)}: make one with 'chorus init' or 'chorus start --dev', or give --home (or CHORUS_HOME)`)
}

export function registerKeys (program: Command): void {
  const keys = program.command('keys').description('Manage keys in <home>/keys (plain, or encrypted with --password-file)')
  const common = (c: Command) => c.addOption(homeOption()).option('--json', 'print JSON')

  common(keys.command('new <name>').description('Make a new key')
    .option('--password-file <file>', 'encrypt the key with the password in this file'))
    .action(action(async (name: string, o: KeyOptions) => {
      const k = await saveKey(o.home, name, generateSecretKey(), DEFAULT_PREFIX, await readPassword(o.passwordFile))
      print(o, publicView(k), () => `${k.name}  ${k.address}`)
    }))

  common(keys.command('show <name>').description('Show a key\'s address and public key'))
    .action(action(async (name: string, o: KeyOptions) => {
      const k = await readKeyFile(o.home, name)
      print(o, publicView(k), () => `${k.name}  ${k.address}`)
    }))

  common(keys.command('import <name>').description('Import a secret key (64 hex characters) from --secret-key-file or stdin')
    .option('--secret-key-file <file>', 'file holding the secret key as hex')
    .option('--password-file <file>', 'encrypt the key with the password in this file'))
    .action(action(async (name: string, o: KeyOptions) => {
      const k = await saveKey(o.home, name, await readSecret(o.secretKeyFile), DEFAULT_PREFIX, await readPassword(o.passwordFile))
      print(o, publicView(k), () => `${k.name}  ${k.address}`)
    }))

  common(keys.command('list').description('List keys'))
    .action(action(async (o: KeyOptions) => {
      await mustBeHome(o.home)
      const all = (await listKeys(o.home)).map(publicView)
      print(o, all, () => all.length === 0 ? '(no keys)' : all.map((k) => `${k.name}  ${k.address}${k.encrypted ? '  (encrypted)' : ''}`).join('\n'))
    }))
}
