// Webhook endpoints with their status (active, failing, disabled) and, while the circuit breaker
// holds one, until when it is paused; a form to register one (its signing secret shown once);
// the selected one, with a form to change its URL, events and description or to disable it,
// (#/webhooks/<id>) shows its delivery log, live, with every attempt, the next attempt's time, a
// Redeliver button per delivery and a Recover button for the failed deliveries of the last 14 days.
import { Fragment } from 'preact'
import { useEffect, useRef, useState } from 'preact/hooks'
import { describeError, usePolled, type LoopClient, type Schemas } from '../api.ts'
import { Badge, Empty, Loaded, SecretOnce, Time, useAnnounce } from '../components.tsx'

type Delivery = Schemas['WebhookDelivery']
type Endpoint = Schemas['WebhookEndpoint']

/** `lead.captured.v1, order.*` → the patterns, one per comma. */
const patternsOf = (text: string) => text.split(',').map((p) => p.trim()).filter((p) => p !== '')

function CreateEndpointForm ({ client, onCreated }: { client: LoopClient, onCreated: (endpoint: Endpoint, secret: string) => void }) {
  const [url, setUrl] = useState('')
  const [events, setEvents] = useState('')
  const [description, setDescription] = useState('')
  const [failure, setFailure] = useState<string | undefined>()
  const [busy, setBusy] = useState(false)
  const submit = async (event: Event) => {
    event.preventDefault()
    setFailure(undefined)
    setBusy(true)
    const body = { url: url.trim(), events: patternsOf(events), ...(description.trim() === '' ? {} : { description: description.trim() }) }
    const { data, error, response } = await client.POST('/api/webhooks', { body })
    setBusy(false)
    if (data === undefined) { setFailure(describeError(error, response)); return }
    setUrl(''); setEvents(''); setDescription('')
    onCreated(data, data.secret)
  }
  return (
    <details class='panel'>
      <summary>Add an endpoint</summary>
      <form class='card-form' onSubmit={(e) => { void submit(e) }} aria-label='Add an endpoint'>
        <label for='endpoint-url'>URL</label>
        <input id='endpoint-url' type='url' required maxLength={2048} value={url} onInput={(e) => setUrl(e.currentTarget.value)} />
        <label for='endpoint-events'>Events</label>
        <input id='endpoint-events' required value={events} placeholder='lead.captured.v1, order.*' aria-describedby='endpoint-events-hint' onInput={(e) => setEvents(e.currentTarget.value)} />
        <p class='hint' id='endpoint-events-hint'>Event types, comma-separated; <code>order.*</code> or <code>*</code> match several.</p>
        <label for='endpoint-description'>Description (optional)</label>
        <input id='endpoint-description' maxLength={500} value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
        {failure !== undefined && <p class='state state-error' role='alert'>{failure}</p>}
        <button type='submit' disabled={busy}>{busy ? 'Adding…' : 'Add endpoint'}</button>
      </form>
    </details>
  )
}

function EditEndpointForm ({ client, endpoint, onChanged }: { client: LoopClient, endpoint: Endpoint, onChanged: () => void }) {
  const announce = useAnnounce()
  const [url, setUrl] = useState(endpoint.url)
  const [events, setEvents] = useState(endpoint.events.join(', '))
  const [description, setDescription] = useState(endpoint.description ?? '')
  const [failure, setFailure] = useState<string | undefined>()
  const [busy, setBusy] = useState(false)
  const patch = async (body: Schemas['UpdateWebhookRequest'], said: string) => {
    setFailure(undefined)
    setBusy(true)
    const { data, error, response } = await client.PATCH('/api/webhooks/{id}', { params: { path: { id: endpoint.id } }, body })
    setBusy(false)
    if (data === undefined) { setFailure(describeError(error, response)); return }
    announce(said)
    onChanged()
  }
  const save = (event: Event) => {
    event.preventDefault()
    void patch({ url: url.trim(), events: patternsOf(events), description: description.trim() === '' ? null : description.trim() }, 'Endpoint saved')
  }
  const disabled = endpoint.status === 'disabled'
  return (
    <details>
      <summary>Edit this endpoint</summary>
      <form class='card-form' onSubmit={save} aria-label='Edit this endpoint'>
        <label for='edit-url'>URL</label>
        <input id='edit-url' type='url' required maxLength={2048} value={url} onInput={(e) => setUrl(e.currentTarget.value)} />
        <label for='edit-events'>Events</label>
        <input id='edit-events' required value={events} onInput={(e) => setEvents(e.currentTarget.value)} />
        <label for='edit-description'>Description</label>
        <input id='edit-description' maxLength={500} value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
        {failure !== undefined && <p class='state state-error' role='alert'>{failure}</p>}
        <div class='actions'>
          <button type='submit' disabled={busy}>Save</button>
          <button type='button' disabled={busy} onClick={() => { void patch({ status: disabled ? 'active' : 'disabled' }, disabled ? 'Endpoint enabled' : 'Endpoint disabled') }}>{disabled ? 'Enable' : 'Disable'}</button>
        </div>
      </form>
    </details>
  )
}

/**
 * The widest window recover accepts, 14 days back from now, less a minute: the server measures
 * the window to its own now, a moment later than this one.
 */
function recoverSince (): string {
  return new Date(Date.now() - 14 * 86_400_000 + 60_000).toISOString()
}

function lastAttempt (delivery: Delivery) {
  return delivery.attempts[delivery.attempts.length - 1]
}

function Attempts ({ delivery }: { delivery: Delivery }) {
  if (delivery.attempts.length === 0) return <Empty>No attempt yet.</Empty>
  return (
    <table class='attempts'>
      <caption>Attempts of delivery {delivery.id}</caption>
      <thead><tr><th scope='col'>#</th><th scope='col'>At</th><th scope='col'>Status</th><th scope='col'>Latency</th><th scope='col'>Error / response</th></tr></thead>
      <tbody>
        {delivery.attempts.map((a) => (
          <tr key={a.attempt}>
            <td>{a.attempt}</td>
            <td><Time at={a.attemptedAt} /></td>
            <td>{a.statusCode ?? <span class='muted'>no response</span>}</td>
            <td>{a.latencyMs} ms</td>
            <td>{a.error ?? <code>{(a.responseBody ?? '').slice(0, 200)}</code>}</td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}

function DeliveryLog ({ client, endpoint, onChanged }: { client: LoopClient, endpoint: Schemas['WebhookEndpoint'], onChanged: () => void }) {
  const announce = useAnnounce()
  const id = endpoint.id
  const log = usePolled(`deliveries:${id}`, (init) => client.GET('/api/webhooks/{id}/deliveries', { params: { path: { id }, query: { limit: 50 } }, ...init }))
  const [failure, setFailure] = useState<string | undefined>()
  const [busy, setBusy] = useState<string | null>(null)
  // The last recovery's count stays on the panel: the live log may announce its next change at once.
  const [recovered, setRecovered] = useState<string | undefined>()
  const known = useRef<Map<string, string> | null>(null)

  useEffect(() => {
    const deliveries = log.data?.data
    if (deliveries === undefined) return
    const previous = known.current
    known.current = new Map(deliveries.map((d) => [d.id, d.status]))
    if (previous === null) return
    const fresh = deliveries.filter((d) => !previous.has(d.id)).length
    const settled = deliveries.filter((d) => previous.has(d.id) && previous.get(d.id) !== d.status)
    if (fresh > 0) announce(`${fresh} new deliver${fresh === 1 ? 'y' : 'ies'} to ${endpoint.url}`)
    for (const d of settled) announce(`Delivery of ${d.eventType} ${d.status}`)
  }, [log.data, announce, endpoint.url])

  const redeliver = async (delivery: Delivery) => {
    setFailure(undefined)
    setBusy(delivery.id)
    const { data, error, response } = await client.POST('/api/webhooks/{id}/deliveries/{deliveryId}/retry', { params: { path: { id, deliveryId: delivery.id } } })
    setBusy(null)
    if (data === undefined) { setFailure(describeError(error, response)); return }
    announce(`Redelivery of ${delivery.eventType} queued`)
    log.refresh()
    onChanged()
  }
  const recover = async () => {
    setFailure(undefined)
    setBusy('recover')
    const { data, error, response } = await client.POST('/api/webhooks/{id}/recover', { params: { path: { id } }, body: { since: recoverSince() } })
    setBusy(null)
    if (data === undefined) { setFailure(describeError(error, response)); return }
    const said = `${data.requeued} failed deliver${data.requeued === 1 ? 'y' : 'ies'} of the last 14 days re-queued`
    setRecovered(said)
    announce(said)
    log.refresh()
    onChanged()
  }
  const sendTest = async () => {
    setFailure(undefined)
    const { data, error, response } = await client.POST('/api/webhooks/{id}/test', { params: { path: { id } } })
    if (data === undefined) { setFailure(describeError(error, response)); return }
    announce('Test event queued')
    log.refresh()
  }

  return (
    <section class='panel' aria-labelledby='log-title'>
      <h2 id='log-title'>Delivery log: <code>{endpoint.url}</code></h2>
      <div class='actions'>
        <button type='button' onClick={() => { void sendTest() }} disabled={endpoint.status === 'disabled'}>Send test event</button>
        <button type='button' onClick={() => { void recover() }} disabled={endpoint.status === 'disabled' || busy === 'recover'}>Recover failed deliveries (14 days)</button>
        <a href='#/webhooks'>Close</a>
      </div>
      <EditEndpointForm client={client} endpoint={endpoint} onChanged={onChanged} />
      {failure !== undefined && <p class='state state-error' role='alert'>{failure}</p>}
      {recovered !== undefined && <p class='state' data-testid='recovered'>{recovered}</p>}
      <Loaded polled={log} what='the delivery log'>
        {({ data }) => data.length === 0
          ? <Empty>Nothing sent to this endpoint yet.</Empty>
          : (
            <table>
              <caption>Deliveries, newest first</caption>
              <thead><tr><th scope='col'>Created</th><th scope='col'>Event</th><th scope='col'>Status</th><th scope='col'>Attempts</th><th scope='col'>Last answer</th><th scope='col'>Next attempt</th><th scope='col'>Action</th></tr></thead>
              <tbody>
                {data.map((d) => {
                  const last = lastAttempt(d)
                  return (
                    <Fragment key={d.id}>
                      <tr data-testid='delivery-row' data-status={d.status}>
                        <td><Time at={d.createdAt} /></td>
                        <td><code>{d.eventType}</code></td>
                        <td><Badge kind={`delivery-${d.status}`}>{d.status}</Badge></td>
                        <td>{d.attemptCount}</td>
                        <td>{last === undefined ? <span class='muted'>—</span> : last.statusCode ?? last.error ?? 'no response'}</td>
                        <td><Time at={d.nextAttemptAt} /></td>
                        <td><button type='button' disabled={busy === d.id || endpoint.status === 'disabled'} onClick={() => { void redeliver(d) }} aria-label={`Redeliver ${d.eventType} (${d.id.slice(0, 8)})`}>Redeliver</button></td>
                      </tr>
                      <tr class='subrow'><td colSpan={7}><details><summary>Attempts ({d.attempts.length})</summary><Attempts delivery={d} /></details></td></tr>
                    </Fragment>
                  )
                })}
              </tbody>
            </table>
            )}
      </Loaded>
    </section>
  )
}

export function WebhooksView ({ client, selectedId }: { client: LoopClient, selectedId: string | undefined }) {
  const list = usePolled('webhooks', (init) => client.GET('/api/webhooks', { params: { query: { limit: 250 } }, ...init }))
  const selected = list.data?.data.find((e) => e.id === selectedId)
  const [created, setCreated] = useState<{ url: string, secret: string } | undefined>()
  return (
    <>
      {created !== undefined && (
        <SecretOnce title={`Endpoint ${created.url} added`} secret={created.secret} onDismiss={() => setCreated(undefined)}>
          <p>Its signing secret: the receiver verifies each delivery's <code>webhook-signature</code> with it.</p>
        </SecretOnce>
      )}
      <CreateEndpointForm client={client} onCreated={(endpoint, secret) => { setCreated({ url: endpoint.url, secret }); list.refresh() }} />
      <Loaded polled={list} what='webhook endpoints'>
        {({ data }) => data.length === 0
          ? <Empty>No webhook endpoints. Add one above, or register one with <code>POST /api/webhooks</code> (or the SDK), to have Loop push signed events.</Empty>
          : (
            <table>
              <caption>Webhook endpoints</caption>
              <thead><tr><th scope='col'>URL</th><th scope='col'>Events</th><th scope='col'>Env</th><th scope='col'>Status</th><th scope='col'>Created</th><th scope='col'>Deliveries</th></tr></thead>
              <tbody>
                {data.map((e) => (
                  <tr key={e.id} data-testid='endpoint-row' aria-current={e.id === selectedId ? 'true' : undefined}>
                    <td><code>{e.url}</code>{e.description !== null && <div class='muted'>{e.description}</div>}</td>
                    <td>{e.events.join(', ')}</td>
                    <td>{e.env}</td>
                    <td>
                      <Badge kind={`endpoint-${e.status}`}>{e.status}</Badge>
                      {e.pausedUntil !== null && <div class='muted' data-testid='endpoint-paused'>paused until <Time at={e.pausedUntil} /> (its attempts kept failing)</div>}
                    </td>
                    <td><Time at={e.createdAt} /></td>
                    <td><a href={`#/webhooks/${e.id}`}>Delivery log<span class='visually-hidden'> of {e.url}</span></a></td>
                  </tr>
                ))}
              </tbody>
            </table>
            )}
      </Loaded>
      {selectedId !== undefined && list.data !== undefined && (selected === undefined
        ? <p class='state state-error' role='alert'>No endpoint {selectedId} here.</p>
        : <DeliveryLog key={selected.id} client={client} endpoint={selected} onChanged={list.refresh} />)}
    </>
  )
}
