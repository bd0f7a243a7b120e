// The console's frame: a header with the views it offers, one view at a time chosen by the URL
// hash (#/issues, #/webhooks/<id>, #/overview, …) so links, Back and reload all work, focus management and the
// live region. The admin console offers every view; a brand's portal only its webhooks and events.
import type { ComponentChildren } from 'preact'
import { useCallback, useEffect, useRef, useState } from 'preact/hooks'
import type { LoopClient } from './api.ts'
import { Announce } from './components.tsx'
import { IssuesView } from './views/issues.tsx'
import { SignalsView } from './views/signals.tsx'
import { EventsView } from './views/events.tsx'
import { WebhooksView } from './views/webhooks.tsx'
import { OverviewView } from './views/overview.tsx'
import { KeysView } from './views/keys.tsx'

export type ViewId = 'issues' | 'signals' | 'events' | 'webhooks' | 'overview' | 'keys'
export interface View { id: ViewId, label: string }

export const adminViews: readonly View[] = [
  { id: 'issues', label: 'Issues' },
  { id: 'signals', label: 'Signals' },
  { id: 'events', label: 'Events' },
  { id: 'webhooks', label: 'Webhooks' },
  { id: 'overview', label: 'Overview' },
  { id: 'keys', label: 'Keys & brands' }
]

function parseHash (views: readonly View[]): { view: ViewId, id: string | undefined } {
  const [, view, id] = window.location.hash.split('/')
  const known = views.find((v) => v.id === view)
  return { view: known?.id ?? views[0]?.id ?? 'issues', id: id === undefined || id === '' ? undefined : decodeURIComponent(id) }
}

function useHashRoute (views: readonly View[]) {
  const [route, setRoute] = useState(() => parseHash(views))
  useEffect(() => {
    const onChange = () => setRoute(parseHash(views))
    window.addEventListener('hashchange', onChange)
    return () => window.removeEventListener('hashchange', onChange)
  }, [views])
  return route
}

export interface ConsoleProps {
  client: LoopClient
  /** The views offered, in the header's order; the first is the default. */
  views: readonly View[]
  /** The header's name for this console. */
  title: string
  /** The header's right end: who is signed in, and how to leave. */
  who: ComponentChildren
  /** The signed-in API key (the keys view shows which one it is); none in the portal. */
  apiKey?: string
  /** A portal offers what its token's scopes allow (no replay of rejected deliveries). */
  portal?: boolean
}

export function Console ({ client, views, title, who, apiKey, portal = false }: ConsoleProps) {
  const route = useHashRoute(views)
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
        <p class='brand'>{title}</p>
        <nav aria-label='Views'>
          <ul>
            {views.map((v) => (
              <li key={v.id}><a href={`#/${v.id}`} aria-current={v.id === route.view ? 'page' : undefined}>{v.label}</a></li>
            ))}
          </ul>
        </nav>
        <p class='who'>{who}</p>
      </header>
      <main id='main'>
        <h1 tabIndex={-1} ref={heading}>{current?.label}</h1>
        {route.view === 'issues' && <IssuesView client={client} selectedId={route.id} />}
        {route.view === 'signals' && <SignalsView client={client} />}
        {route.view === 'events' && <EventsView client={client} canReplay={!portal} />}
        {route.view === 'webhooks' && <WebhooksView client={client} selectedId={route.id} />}
        {route.view === 'overview' && <OverviewView client={client} />}
        {route.view === 'keys' && apiKey !== undefined && <KeysView client={client} apiKey={apiKey} />}
      </main>
      <div class='visually-hidden' role='status' aria-live='polite' aria-atomic='true' data-testid='announcer'>{announcement}</div>
    </Announce.Provider>
  )
}
