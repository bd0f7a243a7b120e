// Signals: what providers sent, newest first, filtered by source and severity; each row links to
// its issue and can show the payload exactly as stored.
import { Fragment } from 'preact'
import { useState } from 'preact/hooks'
import { usePolled, type LoopClient, type Schemas } from '../api.ts'
import { Badge, Empty, Json, Loaded, Time } from '../components.tsx'

const sources: Schemas['SignalSource'][] = ['github', 'sentry', 'posthog', 'loop']
const severities: Schemas['Severity'][] = ['critical', 'high', 'medium', 'low']

function SignalPayload ({ client, id }: { client: LoopClient, id: string }) {
  const signal = usePolled(`signal:${id}`, (init) => client.GET('/api/signals/{id}', { params: { path: { id } }, ...init }), null)
  return <Loaded polled={signal} what='the payload'>{(signal) => <Json value={signal.payload} label='Signal payload' />}</Loaded>
}

export function SignalsView ({ client }: { client: LoopClient }) {
  const [source, setSource] = useState<Schemas['SignalSource'] | ''>('')
  const [severity, setSeverity] = useState<Schemas['Severity'] | ''>('')
  const [open, setOpen] = useState<string | null>(null)
  const query = { limit: 100, ...(source === '' ? {} : { source: [source] }), ...(severity === '' ? {} : { severity: [severity] }) }
  const list = usePolled(`signals:${source}:${severity}`, (init) => client.GET('/api/signals', { params: { query }, ...init }))

  return (
    <>
      <form class='filters' onSubmit={(e) => e.preventDefault()} aria-label='Filter signals'>
        <label>Source
          <select value={source} onChange={(e) => setSource(e.currentTarget.value as typeof source)}>
            <option value=''>All sources</option>
            {sources.map((s) => <option key={s} value={s}>{s}</option>)}
          </select>
        </label>
        <label>Severity
          <select value={severity} onChange={(e) => setSeverity(e.currentTarget.value as typeof severity)}>
            <option value=''>All severities</option>
            {severities.map((s) => <option key={s} value={s}>{s}</option>)}
          </select>
        </label>
      </form>
      <Loaded polled={list} what='signals'>
        {({ data: signals, done }) => signals.length === 0
          ? <Empty>No signals{source !== '' || severity !== '' ? ' match these filters' : ' yet: they arrive when GitHub, Sentry or PostHog post to /api/signals/…'}.</Empty>
          : (
            <>
              <table>
                <caption>Signals, newest first{!done && ' (the newest 100)'}</caption>
                <thead><tr><th scope='col'>Received</th><th scope='col'>Source</th><th scope='col'>Type</th><th scope='col'>Severity</th><th scope='col'>Issue</th><th scope='col'>Payload</th></tr></thead>
                <tbody>
                  {signals.map((s) => (
                    <Fragment key={s.id}>
                      <tr data-testid='signal-row'>
                        <td><Time at={s.createdAt} /></td>
                        <td><Badge kind='source'>{s.source}</Badge></td>
                        <td>{s.type}</td>
                        <td><Badge kind={`sev-${s.severity}`}>{s.severity}</Badge></td>
                        <td><a href={`#/issues/${s.issueId}`}>Open issue</a></td>
                        <td><button type='button' aria-expanded={open === s.id} onClick={() => setOpen(open === s.id ? null : s.id)}>{open === s.id ? 'Hide' : 'Show'} payload</button></td>
                      </tr>
                      {open === s.id && <tr><td colSpan={6}><SignalPayload client={client} id={s.id} /></td></tr>}
                    </Fragment>
                  ))}
                </tbody>
              </table>
            </>
            )}
      </Loaded>
    </>
  )
}
