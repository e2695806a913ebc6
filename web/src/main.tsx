/** The Chorus web app: an explorer of the chain and its social graph, served by the node (issue #9). */
import { render } from 'preact'
import { Link, Route, Switch, useLocation } from 'wouter-preact'
import { useState } from 'preact/hooks'
import { Home } from './pages/home.tsx'
import { BlockPage } from './pages/block.tsx'
import { TxPage } from './pages/tx.tsx'
import { ProfilePage } from './pages/profile.tsx'
import { PostPage } from './pages/post.tsx'
import { KeyPage } from './pages/key.tsx'
import { LatestPage } from './pages/latest.tsx'
import { ListPage } from './pages/lists.tsx'
import { KeyContext } from './key.tsx'
import type { Signer } from '../../src/client/index.ts'
import { searchTarget } from './search.ts'
import './app.css'

function SearchForm () {
  const [, navigate] = useLocation()
  const [q, setQ] = useState('')
  const [problem, setProblem] = useState<string | null>(null)
  return (
    <form role='search' class='search' onSubmit={(e) => {
      e.preventDefault()
      const target = searchTarget(q)
      if (target === null) return setProblem('Search for a height, a tx or post id, @username or an address')
      setProblem(null)
      navigate(target)
    }}>
      <label for='q'>Search</label>
      <input id='q' name='q' type='search' value={q} onInput={(e) => setQ((e.target as HTMLInputElement).value)} placeholder='@username, address, tx id, post id or height' autocomplete='off' />
      <button type='submit'>Go</button>
      {problem !== null && <p class='problem' role='alert'>{problem}</p>}
    </form>
  )
}

function App () {
  const [signer, setSigner] = useState<Signer | null>(null)
  return (
    <KeyContext.Provider value={{ signer, setSigner }}>
      <header>
        <nav aria-label='Main'>
          <Link href='/' class='brand'>Chorus</Link>
          <Link href='/posts'>Latest posts</Link>
          <Link href='/key'>{signer === null ? 'Your key' : 'You'}</Link>
        </nav>
        <SearchForm />
      </header>
      <main>
        <Switch>
          <Route path='/'><Home /></Route>
          <Route path='/posts'><LatestPage /></Route>
          <Route path='/block/:height'>{(p) => <BlockPage height={Number(p.height)} />}</Route>
          <Route path='/tx/:id'>{(p) => <TxPage id={p.id} />}</Route>
          <Route path='/post/:id'>{(p) => <PostPage id={p.id} />}</Route>
          <Route path='/key'><KeyPage /></Route>
          <Route path='/profile/:who/followers'>{(p) => <ListPage who={decodeURIComponent(p.who)} kind='followers' />}</Route>
          <Route path='/profile/:who/following'>{(p) => <ListPage who={decodeURIComponent(p.who)} kind='following' />}</Route>
          <Route path='/profile/:who/feed'>{(p) => <ListPage who={decodeURIComponent(p.who)} kind='feed' />}</Route>
          <Route path='/profile/:who'>{(p) => <ProfilePage who={decodeURIComponent(p.who)} />}</Route>
          <Route><h1>Not found</h1><p>There is no page here. <Link href='/'>Back to the chain</Link>.</p></Route>
        </Switch>
      </main>
    </KeyContext.Provider>
  )
}

const root = document.getElementById('app')!
root.textContent = '' // the "Loading" line of index.html: Preact adds to a container, it does not replace what is there
render(<App />, root)
