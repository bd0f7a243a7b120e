// The Loop admin console: sign in with an API key, then one view per resource, chosen by the URL
// hash (#/issues, #/signals, #/events, #/webhooks, #/overview, #/keys) so links, Back and reload all work.
import { render } from 'preact'
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks'
import { clientFor, describeError, forgetKey, storedKey, storeKey, type LoopClient } from './api.ts'
import { Announce } from './components.tsx'
import { IssuesView } from './views/issues.tsx'
import { SignalsView } from './views/signals.tsx'
import { EventsView } from './views/events.tsx'
import { WebhooksView } from './views/webhooks.tsx'
import { OverviewView } from './views/overview.tsx'
import { KeysView } from './views/keys.tsx'
import './styles.css'

const views = [
  { id: 'issues', label: 'Issues' },
  { id: 'signals', label: 'Signals' },
  { id: 'events', label: 'Events' },
  { id: 'webhooks', label: 'Webhooks' },
  { id: 'overview', label: 'Overview' },
  { id: 'keys', label: 'Keys & brands' }
] as const
type ViewId = typeof views[number]['id']

function parseHash (): { view: ViewId, id: string | undefined } {
  const [, view, id] = window.location.hash.split('/')
  const known = views.find((v) => v.id === view)
  return { view: known?.id ?? 'issues', id: id === undefined || id === '' ? undefined : decodeURIComponent(id) }
}

function useHashRoute () {
  const [route, setRoute] = useState(parseHash)
  useEffect(() => {
    const onChange = () => setRoute(parseHash())
    window.addEventListener('hashchange', onChange)
    return () => window.removeEventListener('hashchange', onChange)
  }, [])
  return route
}

function SignIn ({ onSignedIn, notice }: { onSignedIn: (key: string) => void, notice: string | undefined }) {
  const [key, setKey] = useState('')
  const [error, setError] = useState<string | undefined>()
  const [busy, setBusy] = useState(false)
  const submit = async (event: Event) => {
    event.preventDefault()
    setError(undefined)
    const secret = key.trim()
    let client: LoopClient
    try {
      client = clientFor(secret, () => {})
    } catch {
      setError('That is not a Loop API key: keys start with lk_live_, lk_test_ or lk_dev_.')
      return
    }
    setBusy(true)
    try {
      // Any authenticated read says whether the key is good: 401 is a bad key, 403 only a missing scope.
      const { response, error: failure } = await client.GET('/api/issues', { params: { query: { limit: 1 } } })
      if (response.status === 401) setError(`Loop refused this key. ${describeError(failure, response)}`)
      else onSignedIn(secret)
    } catch (failure) {
      setError(`Could not reach Loop: ${describeError(failure)}`)
    } finally {
      setBusy(false)
    }
  }
  return (
    <main id='main' class='signin'>
      <h1>Loop admin</h1>
      {notice !== undefined && <p class='state state-error' role='alert'>{notice}</p>}
      <form onSubmit={(e) => { void submit(e) }} aria-describedby='signin-help'>
        <label for='api-key'>API key</label>
        <input id='api-key' name='api-key' type='password' autoComplete='off' spellcheck={false} required
          value={key} onInput={(e) => setKey(e.currentTarget.value)} aria-invalid={error !== undefined} aria-describedby={error !== undefined ? 'signin-error' : undefined} />
        <p id='signin-help' class='muted'>An <code>lk_live_…</code>, <code>lk_test_…</code> or <code>lk_dev_…</code> key. It stays in this tab's session storage and is sent only to this Loop. Views need the matching scopes; keys and brands need <code>admin</code>.</p>
        {error !== undefined && <p id='signin-error' class='state state-error' role='alert'>{error}</p>}
        <button type='submit' disabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</button>
      </form>
    </main>
  )
}

function Console ({ client, apiKey, onSignOut }: { client: LoopClient, apiKey: string, onSignOut: () => void }) {
  const route = useHashRoute()
  const [announcement, setAnnouncement] = useState('')
  const announce = useCallback((message: string) => {
    // Cleared first so the same message twice is still read out.
    setAnnouncement('')
    setTimeout(() => setAnnouncement(message), 50)
  }, [])
  const heading = useRef<HTMLHeadingElement>(null)
  const first = useRef(true)
  useEffect(() => {
    // After navigating, focus goes to the view's heading (not on the first render: the page just loaded).
    if (first.current) { first.current = false; return }
    heading.current?.focus()
  }, [route.view])
  const current = views.find((v) => v.id === route.view) ?? views[0]

  return (
    <Announce.Provider value={announce}>
      <a class='skip' href='#main' onClick={(e) => { e.preventDefault(); heading.current?.focus() }}>Skip to content</a>
      <header class='top'>
        <p class='brand'>Loop admin</p>
        <nav aria-label='Views'>
          <ul>
            {views.map((v) => (
              <li key={v.id}><a href={`#/${v.id}`} aria-current={v.id === route.view ? 'page' : undefined}>{v.label}</a></li>
            ))}
          </ul>
        </nav>
        <p class='who'><span class='muted'>Key</span> <code>{apiKey.slice(0, 12)}…</code> <button type='button' onClick={onSignOut}>Sign out</button></p>
      </header>
      <main id='main'>
        <h1 tabIndex={-1} ref={heading}>{current.label}</h1>
        {route.view === 'issues' && <IssuesView client={client} selectedId={route.id} />}
        {route.view === 'signals' && <SignalsView client={client} />}
        {route.view === 'events' && <EventsView client={client} />}
        {route.view === 'webhooks' && <WebhooksView client={client} selectedId={route.id} />}
        {route.view === 'overview' && <OverviewView client={client} />}
        {route.view === 'keys' && <KeysView client={client} apiKey={apiKey} />}
      </main>
      <div class='visually-hidden' role='status' aria-live='polite' aria-atomic='true' data-testid='announcer'>{announcement}</div>
    </Announce.Provider>
  )
}

function App () {
  const [apiKey, setApiKey] = useState<string | null>(storedKey)
  const [notice, setNotice] = useState<string | undefined>()
  const signOut = useCallback((message?: string) => {
    forgetKey()
    setApiKey(null)
    setNotice(message)
  }, [])
  const client = useMemo(() => {
    if (apiKey === null) return null
    try {
      return clientFor(apiKey, () => signOut('Loop no longer accepts this key (revoked?). Sign in with another one.'))
    } catch {
      return null
    }
  }, [apiKey, signOut])
  if (apiKey === null || client === null) {
    return <SignIn notice={notice} onSignedIn={(key) => { storeKey(key); setNotice(undefined); setApiKey(key) }} />
  }
  return <Console client={client} apiKey={apiKey} onSignOut={() => signOut()} />
}

const root = document.getElementById('root')
if (root !== null) {
  root.textContent = ''
  render(<App />, root)
}
