// Events: stored events searched by type, payload eventId, time range and payload text, page by
// page, each payload viewable and copyable; below them the inbound deliveries Loop answered 422,
// each with the issues that made it invalid.
import { Fragment } from 'preact'
import { useState } from 'preact/hooks'
import { describeError, usePolled, type LoopClient } from '../api.ts'
import { CopyButton, Empty, Json, Loaded, Time, useAnnounce } from '../components.tsx'

interface Filters { event: string, eventId: string, q: string, since: string, until: string }
const noFilters: Filters = { event: '', eventId: '', q: '', since: '', until: '' }
const filtered = (f: Filters) => Object.values(f).some((v) => v !== '')

/** datetime-local gives local wall time without a zone; the API wants RFC 3339. */
const toInstant = (local: string) => (local === '' ? undefined : new Date(local).toISOString())

function EventFilters ({ client, applied, onApply }: { client: LoopClient, applied: Filters, onApply: (f: Filters) => void }) {
  const [draft, setDraft] = useState(applied)
  const types = usePolled('event-types', (init) => client.GET('/api/events/schemas', { params: { query: { limit: 250 } }, ...init }), null)
  return (
    <form class='filters' aria-label='Filter events' onSubmit={(e) => { e.preventDefault(); onApply(draft) }}>
      <label>Event type
        <input name='event' list='event-types' value={draft.event} placeholder='e.g. lead.captured.v1' onInput={(e) => setDraft({ ...draft, event: e.currentTarget.value.trim() })} />
      </label>
      <label>Event id
        <input name='eventId' value={draft.eventId} maxLength={200} placeholder="the payload's eventId" onInput={(e) => setDraft({ ...draft, eventId: e.currentTarget.value.trim() })} />
      </label>
      <label>Payload contains
        <input name='q' type='search' value={draft.q} maxLength={200} placeholder='e.g. user@example.com' onInput={(e) => setDraft({ ...draft, q: e.currentTarget.value })} />
      </label>
      <datalist id='event-types'>{types.data?.data.map((t) => <option key={t.name} value={t.name} />)}</datalist>
      <label>Received from
        <input type='datetime-local' name='since' value={draft.since} onInput={(e) => setDraft({ ...draft, since: e.currentTarget.value })} />
      </label>
      <label>Received before
        <input type='datetime-local' name='until' value={draft.until} onInput={(e) => setDraft({ ...draft, until: e.currentTarget.value })} />
      </label>
      <button type='submit'>Apply filters</button>
      <button type='button' onClick={() => { setDraft(noFilters); onApply(noFilters) }}>Clear</button>
    </form>
  )
}

function EventList ({ client, filters }: { client: LoopClient, filters: Filters }) {
  // The iterators of the pages before this one: Previous goes back exactly where Next came from.
  const [iterators, setIterators] = useState<string[]>([])
  const iterator = iterators[iterators.length - 1]
  const query = {
    limit: 50,
    ...(filters.event === '' ? {} : { event: filters.event }),
    ...(filters.eventId === '' ? {} : { eventId: filters.eventId }),
    ...(filters.q === '' ? {} : { q: filters.q }),
    ...(toInstant(filters.since) === undefined ? {} : { since: toInstant(filters.since) }),
    ...(toInstant(filters.until) === undefined ? {} : { until: toInstant(filters.until) }),
    ...(iterator === undefined ? {} : { iterator })
  }
  const list = usePolled(`events:${JSON.stringify(query)}`, (init) => client.GET('/api/events', { params: { query }, ...init }))
  return (
    <Loaded polled={list} what='events'>
      {({ data, iterator: next }) => data.length === 0
        ? <Empty>No events{filtered(filters) ? ' match these filters' : ' yet'}.</Empty>
        : (
          <>
            <table>
              <caption>Events, newest first{iterators.length > 0 && ` (page ${iterators.length + 1})`}</caption>
              <thead><tr><th scope='col'>Received</th><th scope='col'>Event</th><th scope='col'>Source</th><th scope='col'>Env</th><th scope='col'>Event id</th><th scope='col'>Payload</th></tr></thead>
              <tbody>
                {data.map((e) => (
                  <tr key={e.id} data-testid='event-row'>
                    <td><Time at={e.receivedAt} /></td>
                    <td><code>{e.event}</code></td>
                    <td>{e.source}</td>
                    <td>{e.env}</td>
                    <td>{e.eventId ?? <span class='muted'>—</span>}</td>
                    <td><details><summary>Payload</summary><Json value={e.payload} label={`Payload of ${e.event}`} /><CopyButton text={JSON.stringify(e.payload, null, 2)} label='Payload' /></details></td>
                  </tr>
                ))}
              </tbody>
            </table>
            <div class='actions'>
              {iterators.length > 0 && <button type='button' onClick={() => setIterators(iterators.slice(0, -1))}>Previous page</button>}
              {next !== null && <button type='button' onClick={() => setIterators([...iterators, next])}>Next page</button>}
            </div>
          </>
          )}
    </Loaded>
  )
}

function Rejections ({ client, filters, canReplay }: { client: LoopClient, filters: Filters, canReplay: boolean }) {
  const announce = useAnnounce()
  const [failure, setFailure] = useState<{ id: string, message: string } | undefined>()
  const query = { limit: 50, ...(filters.event === '' ? {} : { event: filters.event }) }
  const list = usePolled(`rejections:${filters.event}`, (init) => client.GET('/api/events/rejections', { params: { query }, ...init }))
  const replay = async (id: string) => {
    setFailure(undefined)
    const { data, error, response } = await client.POST('/api/events/rejections/{id}/replay', { params: { path: { id } } })
    if (data === undefined) { setFailure({ id, message: describeError(error, response) }); return }
    announce(`Replayed: stored as ${data.event}`)
    list.refresh()
  }
  return (
    <Loaded polled={list} what='rejections'>
      {({ data }) => data.length === 0
        ? <Empty>No rejected deliveries{filters.event !== '' ? ` for ${filters.event}` : ''}: every inbound webhook was valid.</Empty>
        : (
          <table>
            <caption>Inbound deliveries answered 422, newest first</caption>
            <thead><tr><th scope='col'>Received</th><th scope='col'>Event</th><th scope='col'>Source</th><th scope='col'>Path</th><th scope='col'>Issues</th><th scope='col'>Replay</th></tr></thead>
            <tbody>
              {data.map((r) => (
                <Fragment key={r.id}>
                  <tr data-testid='rejection-row'>
                    <td><Time at={r.createdAt} /></td>
                    <td><code>{r.event}</code></td>
                    <td>{r.source}</td>
                    <td><code>{r.webhookPath}</code></td>
                    <td>
                      <ul class='issues'>
                        {r.issues.map((issue, i) => <li key={i}><code>{issue.path === '' ? '(payload)' : issue.path}</code>: {issue.message} <span class='muted'>({issue.code})</span></li>)}
                      </ul>
                      <details><summary>Raw body</summary><pre class='json' tabIndex={0}>{r.body}</pre></details>
                    </td>
                    <td>
                      {r.replayedAt !== null && r.replayedAt !== undefined
                        ? <span>Replayed <Time at={r.replayedAt} /></span>
                        : canReplay ? <button type='button' onClick={() => { void replay(r.id) }}>Replay</button> : <span class='muted'>not replayed</span>}
                    </td>
                  </tr>
                  {failure?.id === r.id && <tr><td colSpan={6}><p class='state state-error' role='alert'>Replay failed: {failure.message}</p></td></tr>}
                </Fragment>
              ))}
            </tbody>
          </table>
          )}
    </Loaded>
  )
}

/** `canReplay`: the caller may replay rejections (events:write; a portal may not). */
export function EventsView ({ client, canReplay = true }: { client: LoopClient, canReplay?: boolean }) {
  const [filters, setFilters] = useState<Filters>(noFilters)
  return (
    <>
      <EventFilters client={client} applied={filters} onApply={setFilters} />
      <h2>Stored events</h2>
      <EventList key={JSON.stringify(filters)} client={client} filters={filters} />
      <h2>Rejections (422)</h2>
      <Rejections client={client} filters={filters} canReplay={canReplay} />
    </>
  )
}
