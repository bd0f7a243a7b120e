// Webhook endpoints with their status (active, failing, disabled) and, while the circuit breaker
// holds one, until when it is paused; a form to register one (its signing secret shown once);
// the selected one (#/webhooks/<id>), with a form to change its URL, events and description or to
// disable it, shows its health charts (success rate, latency p50/p95, attempts histogram over the
// last hour or day) and its delivery log, live and filterable by status, with every attempt, the
// next attempt's time, a payload viewer (copy, resend to this endpoint), a Redeliver button per
// delivery and a Recover button for the failed deliveries of the last 14 days.
import { Fragment } from 'preact'
import { useEffect, useMemo, useRef, useState } from 'preact/hooks'
import { describeError, usePolled, type LoopClient, type Schemas } from '../api.ts'
import { Badge, CopyButton, Empty, Loaded, SecretOnce, Time, useAnnounce } from '../components.tsx'
import { bucketTimes, Chart, milliseconds, percent, WindowToggle, windowWords, type StatsWindow } from '../charts.tsx'

type Delivery = Schemas['WebhookDelivery']
type DeliveryStatus = Schemas['WebhookDeliveryStatus']
type Endpoint = Schemas['WebhookEndpoint']

const histogramLabels = ['1 attempt', '2 attempts', '3 attempts', '4 attempts', '5 attempts', '6 or more']

function EndpointCharts ({ client, endpointId }: { client: LoopClient, endpointId: string }) {
  const [window, setWindow] = useState<StatsWindow>('1h')
  const stats = usePolled(`webhook-stats:${endpointId}:${window}`, (init) => client.GET('/api/webhooks/{id}/stats', { params: { path: { id: endpointId }, query: { window } }, ...init }), 10_000)
  const words = windowWords[window]
  const charts = useMemo(() => {
    const data = stats.data
    if (data === undefined) return undefined
    return {
      x: bucketTimes(data.buckets),
      success: [{ label: 'Success rate', values: data.buckets.map((b) => b.successRate), colour: '--chart-ok', format: percent }],
      latency: [
        { label: 'p50', values: data.buckets.map((b) => b.latencyP50Ms), colour: '--chart-1', format: milliseconds },
        { label: 'p95', values: data.buckets.map((b) => b.latencyP95Ms), colour: '--chart-warn', format: milliseconds }
      ],
      histogramX: data.attemptsHistogram.map((bin) => bin.attempts),
      histogram: [
        { label: 'Succeeded', values: data.attemptsHistogram.map((bin) => bin.succeeded), colour: '--chart-ok' },
        { label: 'Failed', values: data.attemptsHistogram.map((bin) => bin.failed), colour: '--chart-fail' }
      ]
    }
  }, [stats.data])
  return (
    <section aria-labelledby='health-title' data-testid='endpoint-charts'>
      <h2 id='health-title'>Health</h2>
      <WindowToggle value={window} onChange={setWindow} label='Time range of the charts' />
      <Loaded polled={stats} what='the endpoint health'>
        {() => charts === undefined
          ? null
          : (
            <div class='charts'>
              <Chart id='chart-endpoint-success' title='Success rate' description={`Share of attempts answered 2xx over ${words}.`} x={charts.x} series={charts.success} yRange={[0, 1]} empty={`No deliveries in ${words}.`} />
              <Chart id='chart-endpoint-latency' title='Latency' description={`Attempt latency, median (p50) and 95th percentile (p95), over ${words}.`} x={charts.x} series={charts.latency} empty={`No deliveries in ${words}.`} />
              <Chart id='chart-endpoint-attempts' kind='bars' title='Attempts per delivery' description={`Deliveries settled in ${words} by the attempts they took.`} x={charts.histogramX} categories={histogramLabels} xLabel='Attempts' series={charts.histogram} empty={`No delivery settled in ${words}.`} />
            </div>
            )}
      </Loaded>
    </section>
  )
}

/** What a delivery sends, exactly, pretty-printed; copy it, or send it to this endpoint again. */
function PayloadViewer ({ client, endpoint, deliveryId, onResend, onClose }: { client: LoopClient, endpoint: Schemas['WebhookEndpoint'], deliveryId: string, onResend: (d: Delivery) => Promise<void>, onClose: () => void }) {
  const detail = usePolled(`delivery:${deliveryId}`, (init) => client.GET('/api/webhooks/{id}/deliveries/{deliveryId}', { params: { path: { id: endpoint.id, deliveryId } }, ...init }), null)
  const heading = useRef<HTMLHeadingElement>(null)
  useEffect(() => { heading.current?.focus() }, [deliveryId])
  return (
    <section class='panel payload' aria-labelledby='payload-title' data-testid='payload-viewer'>
      <h3 id='payload-title' tabIndex={-1} ref={heading}>Payload of delivery <code>{deliveryId.slice(0, 8)}</code></h3>
      <Loaded polled={detail} what='the payload'>
        {(delivery) => {
          let pretty = delivery.body
          try { pretty = JSON.stringify(JSON.parse(delivery.body), null, 2) } catch { /* shown as sent */ }
          return (
            <>
              <p class='muted'><code>{delivery.eventType}</code>, {delivery.attemptCount} attempt{delivery.attemptCount === 1 ? '' : 's'}, {delivery.status}. The exact body every attempt sends (and signs).</p>
              <pre class='json' tabIndex={0} aria-label={`Payload of ${delivery.eventType}`} data-testid='payload-body'>{pretty}</pre>
              <div class='actions'>
                <CopyButton text={delivery.body} label='Payload' />
                <button type='button' disabled={endpoint.status === 'disabled'} onClick={() => { void onResend(delivery).then(detail.refresh) }}>Resend to this endpoint</button>
                <button type='button' onClick={onClose}>Close payload</button>
              </div>
            </>
          )
        }}
      </Loaded>
    </section>
  )
}


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
  const [status, setStatus] = useState<DeliveryStatus | ''>('')
  const [viewing, setViewing] = useState<string | null>(null)
  const query = status === '' ? { limit: 50 } : { limit: 50, status }
  const log = usePolled(`deliveries:${id}:${status}`, (init) => client.GET('/api/webhooks/{id}/deliveries', { params: { path: { id }, query }, ...init }))
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
      <EndpointCharts client={client} endpointId={id} />
      <h2>Deliveries</h2>
      <div class='filters'>
        <label>Status
          <select name='status' value={status} onChange={(e) => { known.current = null; setStatus(e.currentTarget.value as DeliveryStatus | '') }}>
            <option value=''>Any</option>
            <option value='pending'>Pending</option>
            <option value='succeeded'>Succeeded</option>
            <option value='failed'>Failed</option>
          </select>
        </label>
      </div>
      {viewing !== null && <PayloadViewer key={viewing} client={client} endpoint={endpoint} deliveryId={viewing} onResend={redeliver} onClose={() => setViewing(null)} />}
      <Loaded polled={log} what='the delivery log'>
        {({ data }) => data.length === 0
          ? <Empty>{status === '' ? 'Nothing sent to this endpoint yet.' : `No ${status} deliveries to this endpoint.`}</Empty>
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
                        <td>
                          <div class='actions'>
                          <button type='button' disabled={busy === d.id || endpoint.status === 'disabled'} onClick={() => { void redeliver(d) }} aria-label={`Redeliver ${d.eventType} (${d.id.slice(0, 8)})`}>Redeliver</button>
                          <button type='button' onClick={() => setViewing(d.id)} aria-label={`View payload of ${d.eventType} (${d.id.slice(0, 8)})`}>Payload</button>
                          </div>
                        </td>
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
