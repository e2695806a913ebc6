/** Structured logs with constant messages: `log.info('Committed block', {height})`. */
export type Level = 'debug' | 'info' | 'warn' | 'error'
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 }

export interface Logger {
  debug (msg: string, fields?: Record<string, unknown>): void
  info (msg: string, fields?: Record<string, unknown>): void
  warn (msg: string, fields?: Record<string, unknown>): void
  error (msg: string, fields?: Record<string, unknown>): void
  child (module: string): Logger
}

export interface LoggerOptions {
  level: Level
  /** One JSON object per line instead of text. */
  json: boolean
  write: (line: string) => void
}

export function createLogger (opts: LoggerOptions, module = 'node'): Logger {
  const emit = (level: Level, msg: string, fields: Record<string, unknown> = {}) => {
    if (ORDER[level] < ORDER[opts.level]) return
    const time = new Date().toISOString()
    if (opts.json) {
      opts.write(JSON.stringify({ time, level, module, msg, ...fields }, (_k, v) => typeof v === 'bigint' ? v.toString() : v))
    } else {
      const extra = Object.entries(fields).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v, (_k, x) => typeof x === 'bigint' ? x.toString() : x)}`).join(' ')
      opts.write(`${time} ${level.toUpperCase().padEnd(5)} [${module}] ${msg}${extra === '' ? '' : ' ' + extra}`)
    }
  }
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (m) => createLogger(opts, m)
  }
}

export const silentLogger: Logger = createLogger({ level: 'error', json: false, write: () => {} })
