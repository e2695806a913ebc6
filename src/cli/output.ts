/**
 * How commands print: human text by default, one JSON document with --json. A failure is one
 * line on stderr, `error: CODE: message` (and `{"error": {code, message}}` on stdout with --json):
 * exit 2 for a mistake in the command line (a usage error), 1 for anything that failed while running.
 */
import { CommanderError, InvalidArgumentError } from 'commander'
import { RpcClientError } from '../client/rpc-client.ts'
import { ChorusError, ErrorCode } from '../protocol/errors.ts'

export interface OutputOptions { json?: boolean }

/** Exit status of a usage error: a flag, argument or command the CLI refuses before doing anything. */
export const EXIT_USAGE = 2
/** Exit status of every other failure. */
export const EXIT_FAILURE = 1

const replacer = (_k: string, v: unknown) => typeof v === 'bigint' ? v.toString() : v

export function print (opts: OutputOptions, value: unknown, human?: () => string): void {
  if (opts.json === true || human === undefined) process.stdout.write(JSON.stringify(value, replacer, opts.json === true ? undefined : 2) + '\n')
  else process.stdout.write(human() + '\n')
}

/** Text for a value in the human form: nested keys indented, lists as "- " lines. */
export function describe (value: unknown, indent = ''): string {
  if (Array.isArray(value)) {
    if (value.length === 0) return `${indent}(none)`
    return value.map((v) => typeof v === 'object' && v !== null ? `${indent}-\n${describe(v, indent + '  ')}` : `${indent}- ${String(v)}`).join('\n')
  }
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).map(([k, v]) => typeof v === 'object' && v !== null
      ? `${indent}${k}:\n${describe(v, indent + '  ')}`
      : `${indent}${k}: ${v === null ? '-' : String(v)}`).join('\n')
  }
  return `${indent}${String(value)}`
}

/** A mistake in the command line found by a command's own checks (flags that do not go together, a missing --key): exit 2. */
export class UsageError extends ChorusError {}

/** Throws a UsageError. */
export function usage (code: ErrorCode, detail: string): never {
  throw new UsageError(code, detail)
}

/** The typed code of the last option or argument value a parser refused (commander keeps only the message). */
let refusedValueCode: ErrorCode | null = null

/**
 * What an option or argument parser throws for a value it refuses: commander reports it as a usage
 * error naming the flag, and the CLI prints it with `code` (INVALID_FIELD unless said).
 */
export class ValueError extends InvalidArgumentError {
  constructor (message: string, readonly typedCode: ErrorCode = ErrorCode.INVALID_FIELD) {
    super(message)
    refusedValueCode = typedCode
  }
}

/** The typed code and message of any failure. */
export function errorInfo (e: unknown): { code: string, message: string } {
  if (e instanceof ChorusError) return { code: e.code, message: e.detail }
  if (e instanceof RpcClientError) return { code: e.typedCode ?? `RPC_${e.code}`, message: e.message }
  if (e instanceof CommanderError) {
    const code = e.code === 'commander.invalidArgument' ? refusedValueCode ?? ErrorCode.INVALID_FIELD : ErrorCode.INVALID_FIELD
    return { code, message: commanderMessage(e.message) }
  }
  const sys = e as NodeJS.ErrnoException | undefined
  if (sys?.code === 'ENOENT' && typeof sys.path === 'string') return { code: ErrorCode.NOT_FOUND, message: `no such file: ${sys.path}` }
  return { code: 'INTERNAL', message: (e as Error)?.message ?? String(e) }
}

/** Commander's message, shorter: "--rpc-port 70000: expected a port …" rather than "option '--rpc-port <port>' argument '70000' is invalid. expected …". */
function commanderMessage (message: string): string {
  const m = message.replace(/^error: /, '').split('\n')[0]!
  const option = /^option '(\S+)[^']*' argument '(.*)' is invalid\. (.*)$/s.exec(m)
  if (option !== null) return `${option[1]} ${option[2]}: ${option[3]}`
  const env = /^option '(\S+)[^']*' value '(.*)' from env '(\w+)' is invalid\. (.*)$/s.exec(m)
  if (env !== null) return `${env[3]}=${env[2]} (for ${env[1]}): ${env[4]}`
  const argument = /^command-argument value '(.*)' is invalid for argument '(.*)'\. (.*)$/s.exec(m)
  if (argument !== null) return `<${argument[2]}> ${argument[1]}: ${argument[3]}`
  return m
}

/** Whether `e` is a usage error (exit 2). */
export function isUsageError (e: unknown): boolean {
  return e instanceof UsageError || e instanceof CommanderError
}

/** Prints the failure on one line and exits: 2 for a usage error, else 1. */
export function failAndExit (opts: OutputOptions, e: unknown): never {
  const info = errorInfo(e)
  const message = info.message.replace(/\s*\n\s*/g, ' ')
  if (opts.json === true) process.stdout.write(JSON.stringify({ error: { code: info.code, message } }) + '\n')
  process.stderr.write(`error: ${info.code}: ${message}\n`)
  process.exit(isUsageError(e) ? EXIT_USAGE : EXIT_FAILURE)
}

/** Whether the command line asks for JSON (read directly, for errors found before commander has parsed it). */
export function argvWantsJson (argv: string[] = process.argv.slice(2)): boolean {
  const end = argv.indexOf('--')
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json')
}

/**
 * Makes commander's own errors (unknown command or option, missing or refused value) one line
 * with a typed code and exit 2, as a command's usage errors are; help and --version exit 0.
 * Call on the program before adding commands: they inherit it.
 */
export function typedCommanderErrors (program: import('commander').Command): void {
  program.configureOutput({ outputError: () => {} })
  program.exitOverride((err) => {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.help' || err.code === 'commander.version') process.exit(err.exitCode)
    failAndExit({ json: argvWantsJson() }, err)
  })
}

/** Wraps a command action: typed errors become exit 1 (2 for usage errors) with the code. */
export function action<A extends unknown[]> (fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const opts = args.find((a): a is { optsWithGlobals?: () => OutputOptions } => typeof a === 'object' && a !== null && 'optsWithGlobals' in a)
    try {
      await fn(...args)
    } catch (e) {
      failAndExit(opts?.optsWithGlobals?.() ?? { json: argvWantsJson() }, e)
    }
  }
}
