/** How commands print: human text by default, one JSON document with --json; errors exit non-zero with their code. */
import { RpcClientError } from '../client/rpc-client.ts'
import { ChorusError } from '../protocol/errors.ts'

export interface OutputOptions { json?: boolean }

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

/** The typed code and message of any failure. */
export function errorInfo (e: unknown): { code: string, message: string } {
  if (e instanceof ChorusError) return { code: e.code, message: e.detail }
  if (e instanceof RpcClientError) return { code: e.typedCode ?? `RPC_${e.code}`, message: e.message }
  return { code: 'INTERNAL', message: (e as Error)?.message ?? String(e) }
}

/** Prints the failure and exits 1. */
export function failAndExit (opts: OutputOptions, e: unknown): never {
  const info = errorInfo(e)
  if (opts.json === true) process.stdout.write(JSON.stringify({ error: info }) + '\n')
  process.stderr.write(`error: ${info.code}: ${info.message}\n`)
  process.exit(1)
}

/** Wraps a command action: typed errors become exit 1 with the code. */
export function action<A extends unknown[]> (fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const opts = args.find((a): a is { optsWithGlobals?: () => OutputOptions } => typeof a === 'object' && a !== null && 'optsWithGlobals' in a)
    try {
      await fn(...args)
    } catch (e) {
      failAndExit(opts?.optsWithGlobals?.() ?? {}, e)
    }
  }
}
