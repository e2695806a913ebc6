import { Command } from 'commander'
import { describe, expect, it } from 'vitest'
import { metricsOptions, registerStart } from '../../../src/cli/commands/start.ts'

describe('chorus start --metrics-port', () => {
  it('is listed by chorus start --help, with --metrics-host', () => {
    const program = new Command('chorus')
    registerStart(program)
    const help = program.commands.find((c) => c.name() === 'start')!.helpInformation()
    expect(help).toMatch(/--metrics-port <port>.*Prometheus/s)
    expect(help).toMatch(/--metrics-host <host>.*127\.0\.0\.1/s)
  })

  it('is off unless given; the host defaults to loopback and alone is refused', () => {
    expect(metricsOptions({})).toBeNull()
    expect(metricsOptions({ metricsPort: 9464 })).toEqual({ host: '127.0.0.1', port: 9464 })
    expect(metricsOptions({ metricsPort: 0, metricsHost: '0.0.0.0' })).toEqual({ host: '0.0.0.0', port: 0 })
    expect(() => metricsOptions({ metricsHost: '0.0.0.0' })).toThrow(/--metrics-host goes with --metrics-port/)
  })
})
