/**
 * The node's libp2p identity: an Ed25519 key in `HOME/node-key.json` (mode 0600),
 * made on first use, so the peer id survives restarts. It is not the validator key:
 * losing it changes only the peer id.
 *   { "peerId": "12D3Koo…", "privateKey": "<hex of the libp2p protobuf>" }
 */
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { chmod, readFile, writeFile } from 'node:fs/promises'
import { parseHex, toHex } from '../crypto/bytes.ts'
import { ErrorCode, fail } from '../protocol/errors.ts'

export interface NodeKey {
  privateKey: PrivateKey
  peerId: string
}

interface NodeKeyFile { peerId: string, privateKey: string }

/** Makes a new node key and writes it to `path` (refusing to overwrite one). */
export async function createNodeKey (path: string): Promise<NodeKey> {
  const privateKey = await generateKeyPair('Ed25519')
  const peerId = peerIdFromPrivateKey(privateKey).toString()
  const file: NodeKeyFile = { peerId, privateKey: toHex(privateKeyToProtobuf(privateKey)) }
  await writeFile(path, JSON.stringify(file, null, 2) + '\n', { mode: 0o600, flag: 'wx' })
  await chmod(path, 0o600)
  return { privateKey, peerId }
}

/** Reads the node key at `path`; null when there is none. */
export async function readNodeKey (path: string): Promise<NodeKey | null> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw e
  }
  let file: Partial<NodeKeyFile>
  try {
    file = JSON.parse(text) as Partial<NodeKeyFile>
  } catch {
    return fail(ErrorCode.MALFORMED, `${path} is not valid JSON`)
  }
  const bytes = typeof file.privateKey === 'string' ? parseHex(file.privateKey) : null
  if (bytes === null || bytes === undefined) return fail(ErrorCode.MALFORMED, `${path} has no privateKey in hex`)
  let privateKey: PrivateKey
  try {
    privateKey = privateKeyFromProtobuf(bytes)
  } catch {
    return fail(ErrorCode.MALFORMED, `${path} does not hold a libp2p private key`)
  }
  const peerId = peerIdFromPrivateKey(privateKey).toString()
  if (file.peerId !== undefined && file.peerId !== peerId) fail(ErrorCode.MALFORMED, `${path}: peerId does not match its key`)
  return { privateKey, peerId }
}

/** The node key at `path`, made on first use. */
export async function loadOrCreateNodeKey (path: string): Promise<NodeKey> {
  return await readNodeKey(path) ?? await createNodeKey(path)
}
