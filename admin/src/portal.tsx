// A brand's portal (/admin/portal#lp_…): the console opened by a portal link, no key typed. The
// token arrives after `#`, so it never reaches the server's logs or a Referer; it is moved to this
// tab's session storage at once and the address keeps only the view. The console then shows the
// brand's webhooks and events (all Loop lets the token see); a refused link, unknown or expired, at
// the start or later on, gives a page that says so instead of an empty console.
import { useCallback, useEffect, useMemo, useState } from 'preact/hooks'
import { clientFor, describeError } from './api.ts'
import { Console, type View } from './console.tsx'

const STORAGE_KEY = 'loop.portal.token'

const portalViews: readonly View[] = [
  { id: 'webhooks', label: 'Webhooks' },
  { id: 'events', label: 'Events' }
]

/** The link's token: from the address (once), else from this tab's session storage. */
function takeToken (): string | null {
  const fragment = window.location.hash.slice(1)
  if (fragment.startsWith('lp_')) {
    try { sessionStorage.setItem(STORAGE_KEY, fragment) } catch { /* storage refused (a sandboxed frame): keep it in memory */ }
    window.history.replaceState(null, '', `${window.location.pathname}#/webhooks`)
    return fragment
  }
  try { return sessionStorage.getItem(STORAGE_KEY) } catch { return null }
}

function forgetToken (): void {
  try { sessionStorage.removeItem(STORAGE_KEY) } catch { /* nothing kept */ }
}

function Refused ({ reason }: { reason: string }) {
  const expired = /expired/i.test(reason)
  return (
    <main id='main' class='signin' data-testid='portal-refused'>
      <h1>{expired ? 'This portal link has expired' : 'This portal link is not valid'}</h1>
      <p class='state state-error' role='alert'>{reason}</p>
      <p>Portal links work for a short time only. Ask the service that sent you here for a new link, and open it straight away.</p>
    </main>
  )
}

type State = { phase: 'checking' } | { phase: 'open' } | { phase: 'refused', reason: string }

export function PortalApp () {
  const [token] = useState(takeToken)
  const [state, setState] = useState<State>(token === null ? { phase: 'refused', reason: 'This page opens only from a portal link, and this one carries none.' } : { phase: 'checking' })
  const refuse = useCallback((reason: string) => {
    forgetToken()
    setState({ phase: 'refused', reason })
  }, [])
  const client = useMemo(() => token === null ? null : clientFor(token, () => refuse('Loop no longer accepts this portal link: it has expired.')), [token, refuse])

  useEffect(() => {
    // Another link opened in this tab changes only the fragment: start over with its token.
    const onChange = () => { if (window.location.hash.startsWith('#lp_')) window.location.reload() }
    window.addEventListener('hashchange', onChange)
    return () => window.removeEventListener('hashchange', onChange)
  }, [])

  useEffect(() => {
    if (client === null) return
    let stopped = false
    void (async () => {
      try {
        const { response, error } = await client.GET('/api/webhooks', { params: { query: { limit: 1 } } })
        if (stopped) return
        if (response.status === 401) refuse(describeError(error, response).replace(/^UNAUTHORIZED: /, ''))
        else setState({ phase: 'open' })
      } catch (failure) {
        if (!stopped) setState({ phase: 'refused', reason: `Could not reach Loop: ${describeError(failure)}` })
      }
    })()
    return () => { stopped = true }
  }, [client, refuse])

  if (state.phase === 'refused' || client === null) return <Refused reason={state.phase === 'refused' ? state.reason : 'No portal link.'} />
  if (state.phase === 'checking') return <p class='state state-loading' role='status'>Opening the portal…</p>
  return <Console client={client} views={portalViews} title='Webhook portal' who={<span class='muted'>Opened from a portal link</span>} portal />
}
