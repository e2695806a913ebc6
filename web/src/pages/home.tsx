/** The head of the chain and the latest blocks, arriving live over the WebSocket (newHeads). */
import { useEffect, useState } from 'preact/hooks'
import { Link } from 'wouter-preact'
import { Hash, LiveStatus, time } from '../load.tsx'
import { type LiveState, subscribeLive } from '../live.ts'
import { inWords, rpc } from '../rpc.ts'

interface BlockRow { height: number, hash: string, timeMs: number, txs: number }
const SHOWN = 20

export function Home () {
  const [blocks, setBlocks] = useState<BlockRow[]>([])
  const [status, setStatus] = useState<LiveState>('connecting')
  const [problem, setProblem] = useState<string | null>(null)

  useEffect(() => {
    let closed = false
    const add = (rows: BlockRow[]) => setBlocks((old) => {
      const byHeight = new Map(old.map((b) => [b.height, b]))
      for (const r of rows) byHeight.set(r.height, r)
      return [...byHeight.values()].sort((a, b) => b.height - a.height).slice(0, SHOWN)
    })
    // the recent blocks, read once the subscription is live: a block made in between is in one or the other
    let read = false
    const readRecent = async () => {
      const head = await rpc.getHead()
      const heights = Array.from({ length: Math.min(10, head.height) }, (_, i) => head.height - i).filter((h) => h >= 1)
      const recent = await Promise.all(heights.map(async (h) => await rpc.getBlock(h)))
      if (!closed) add(recent.map((b) => ({ height: b.height, hash: b.hash, timeMs: b.header.timeMs, txs: b.txs.length })))
    }
    const stop = subscribeLive('newHeads', {},
      (e) => add([{ height: e.height as number, hash: e.hash as string, timeMs: e.timeMs as number, txs: e.txs as number }]),
      (state, error) => {
        if (closed) return
        setStatus(state)
        setProblem(state === 'offline' && error !== undefined ? `${inWords(error)}: trying again` : null)
        if (state === 'live' && !read) {
          read = true
          readRecent().catch((e: unknown) => { read = false; if (!closed) setProblem(inWords(e)) })
        }
      })
    return () => { closed = true; stop() }
  }, [])

  const head = blocks[0]
  return (
    <>
      <h1>The chain</h1>
      <LiveStatus state={status} live='Live'>
        {head !== undefined && <> · head at height <strong data-testid='head-height'>{head.height}</strong></>}
      </LiveStatus>
      {problem !== null && <p class='problem' role='alert'>{problem}</p>}
      <h2>Latest blocks</h2>
      <ol class='blocks' aria-live='polite' aria-label='Latest blocks'>
        {blocks.map((b) => (
          <li key={b.height} data-height={b.height}>
            <Link href={`/block/${b.height}`}>Block {b.height}</Link>
            <span> · {b.txs} {b.txs === 1 ? 'tx' : 'txs'} · {time(b.timeMs)} · <Hash hex={b.hash} /></span>
          </li>
        ))}
      </ol>
    </>
  )
}
