// The Loop admin console: sign in with an API key, then one view per resource (console.tsx).
// At /admin/portal the same bundle is a brand's portal, opened by its link (portal.tsx).
import { render } from 'preact'
import { useCallback, useMemo, useState } from 'preact/hooks'
import { clientFor, describeError, forgetKey, storedKey, storeKey, type LoopClient } from './api.ts'
import { adminViews, Console } from './console.tsx'
import { PortalApp } from './portal.tsx'
import './styles.css'

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
  const who = <><span class='muted'>Key</span> <code>{apiKey.slice(0, 12)}…</code> <button type='button' onClick={() => signOut()}>Sign out</button></>
  return <Console client={client} views={adminViews} title='Loop admin' who={who} apiKey={apiKey} />
}

const root = document.getElementById('root')
if (root !== null) {
  root.textContent = ''
  render(window.location.pathname === '/admin/portal' ? <PortalApp /> : <App />, root)
}
