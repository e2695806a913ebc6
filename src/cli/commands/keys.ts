/** `chorus keys new|show|import|list`. */
import type { Command } from 'commander'
import { readFile } from 'node:fs/promises'
import { DEFAULT_PREFIX } from '../../crypto/address.ts'
import { parseHex } from '../../crypto/bytes.ts'
import { generateSecretKey } from '../../crypto/keys.ts'
import { ErrorCode, fail } from '../../protocol/errors.ts'
import { DEFAULT_HOME } from '../home.ts'
import { type KeyFile, listKeys, readKeyFile, saveKey } from '../keystore.ts'
import { action, print } from '../output.ts'
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

export function registerKeys (program: Command): void {
  const keys = program.command('keys').description('Manage keys in <home>/keys (plain, or encrypted with --password-file)')
  const common = (c: Command) => c.option('--home <dir>', 'home directory', DEFAULT_HOME).option('--json', 'print JSON')

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
      const all = (await listKeys(o.home)).map(publicView)
      print(o, all, () => all.length === 0 ? '(no keys)' : all.map((k) => `${k.name}  ${k.address}${k.encrypted ? '  (encrypted)' : ''}`).join('\n'))
    }))
}
