import { describe, expect, it } from 'vitest'
import { generateSecretKey, publicKeyOf, signDomain } from '../../../src/crypto/keys.ts'
import { signingBytes } from '../../../src/crypto/hash.ts'
import { rememberingVerify } from '../../../src/crypto/remembering-verify.ts'
import { verifySignature } from '../../../src/crypto/verify.ts'

describe('a verify that remembers what passed', () => {
  it('verifies a passing check once, a failing one every time, and the same signature over other bytes afresh; bounded', () => {
    let calls = 0
    const counted = (k: Uint8Array, m: Uint8Array, s: Uint8Array): boolean => { calls++; return verifySignature(k, m, s) }
    const verify = rememberingVerify(counted, 2)
    const secret = generateSecretKey()
    const key = publicKeyOf(secret)
    const msg = (text: string) => new TextEncoder().encode(text)
    const sig = signDomain('vote', msg('a vote'), secret)
    const signed = signingBytes('vote', msg('a vote'))
    expect(verify(key, signed, sig)).toBe(true)
    expect(verify(key, signed, sig)).toBe(true)
    expect(calls).toBe(1)
    // the same signature over other bytes, or under another key: checked, and refused
    expect(verify(key, signingBytes('vote', msg('another vote')), sig)).toBe(false)
    expect(verify(publicKeyOf(generateSecretKey()), signed, sig)).toBe(false)
    expect(verify(key, signingBytes('vote', msg('another vote')), sig)).toBe(false)
    expect(calls).toBe(4)
    // past its capacity the oldest is forgotten and checked again
    const more = ['b', 'c'].map((t) => ({ m: signingBytes('vote', msg(t)), s: signDomain('vote', msg(t), secret) }))
    for (const x of more) expect(verify(key, x.m, x.s)).toBe(true)
    expect(verify(key, signed, sig)).toBe(true)
    expect(calls).toBe(7)
  })

  it('cannot be fooled by the same bytes cut at other places: a 33-byte key with a shifted signature is the rule\'s to refuse', () => {
    const verify = rememberingVerify(verifySignature)
    const secret = generateSecretKey()
    const key = publicKeyOf(secret)
    const message = signingBytes('vote', new TextEncoder().encode('a vote'))
    const sig = signDomain('vote', new TextEncoder().encode('a vote'), secret)
    expect(verify(key, message, sig)).toBe(true)
    const shiftedKey = Uint8Array.of(...key, sig[0]!)
    const shiftedSig = Uint8Array.of(...sig.subarray(1), message[0]!)
    expect(verify(shiftedKey, message.subarray(1), shiftedSig)).toBe(false)
  })

  it('takes a signature made here as good without a check, for exactly the key, bytes and signature given', () => {
    let calls = 0
    const counted = (k: Uint8Array, m: Uint8Array, s: Uint8Array): boolean => { calls++; return verifySignature(k, m, s) }
    const verify = rememberingVerify(counted)
    const secret = generateSecretKey()
    const key = publicKeyOf(secret)
    const payload = new TextEncoder().encode('my precommit')
    const sig = signDomain('vote', payload, secret)
    verify.signedHere(key, signingBytes('vote', payload), sig)
    expect(verify(key, signingBytes('vote', payload), sig)).toBe(true)
    expect(calls).toBe(0)
    // the same signature presented over other bytes is checked (and refused)
    expect(verify(key, signingBytes('vote', new TextEncoder().encode('not my vote')), sig)).toBe(false)
    expect(calls).toBe(1)
  })
})
