import { describe, expect, it } from 'vitest'
import { BanList, PenaltyBook } from '../../../src/p2p/peer-score.ts'

describe('PenaltyBook', () => {
  it('adds points that halve every half-life', () => {
    let now = 0
    const book = new PenaltyBook(1_000, () => now)
    expect(book.get('p')).toBe(0)
    expect(book.add('p', 4)).toBe(4)
    now = 1_000
    expect(book.get('p')).toBeCloseTo(2)
    expect(book.add('p', 4)).toBeCloseTo(6)
    now = 3_000
    expect(book.get('p')).toBeCloseTo(1.5)
    expect(book.get('q')).toBe(0)
  })

  it('forgets cleared and forgiven peers', () => {
    let now = 0
    const book = new PenaltyBook(1_000, () => now)
    book.add('p', 5)
    book.add('q', 5)
    book.clear('q')
    expect(book.get('q')).toBe(0)
    now = 20_000
    book.prune()
    expect((book as unknown as { entries: Map<string, unknown> }).entries.size).toBe(0)
  })
})

describe('BanList', () => {
  it('bans until the time comes, keeping the later of two bans', () => {
    let now = 0
    const bans = new BanList(() => now)
    bans.ban('p', 1_000)
    expect(bans.isBanned('p')).toBe(true)
    expect(bans.isBanned('q')).toBe(false)
    now = 500
    bans.ban('p', 100) // shorter: the first ban stands
    now = 999
    expect(bans.isBanned('p')).toBe(true)
    now = 1_000
    expect(bans.isBanned('p')).toBe(false)
    bans.prune()
    expect((bans as unknown as { until: Map<string, number> }).until.size).toBe(0)
  })
})
