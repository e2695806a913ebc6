import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { DEV_CHAIN_ID, DEV_KEY, signingKey } from '../../../src/cli/commands/tx.ts'
import { UsageError } from '../../../src/cli/output.ts'

describe('tx --key', () => {
  it('the dev chain is the one `start --dev` makes (genesis/devnet.json)', async () => {
    const template = JSON.parse(await readFile(new URL('../../../genesis/devnet.json', import.meta.url), 'utf8')) as { chainId: string }
    expect(DEV_CHAIN_ID).toBe(template.chainId)
  })

  it('a given key wins; without one, dev on the dev chain and a usage error elsewhere', () => {
    expect(signingKey('alice', 'chorus-main', 'chorus tx post')).toBe('alice')
    expect(signingKey('alice', DEV_CHAIN_ID, 'chorus tx post')).toBe('alice')
    expect(signingKey(undefined, DEV_CHAIN_ID, 'chorus tx post')).toBe(DEV_KEY)
    let e: unknown = null
    try { signingKey(undefined, 'chorus-main', 'chorus tx post') } catch (x) { e = x }
    expect(e).toBeInstanceOf(UsageError)
    expect(e).toMatchObject({ code: 'INVALID_FIELD', detail: expect.stringMatching(/^chorus tx post needs --key NAME \(or CHORUS_KEY\)/) })
  })
})
