// docs/operations.md#guarantees, "nothing acknowledged is lost": signed GitHub and Sentry webhooks and
// POST /api/events at full speed against server.ts, kill -9 midway, restart on the same database.
// Every 2xx is stored with its issue or its deliveries, no signal is left without its issue, and
// the outbound queue picks up where it stopped: each delivery reaches each endpoint, once.
import t from 'tap'
import { randomUUID } from 'node:crypto'
import { eventually, startReceiver, type ReceivedRequest } from '../receiver.ts'
import { lead } from '../webhook-api.ts'
import { bearer, call, freshDatabase, githubDelivery, newAdminKey, sentryDelivery, sql, startLoopProcess } from './loop-process.ts'

// The restarted worker waits out the dead one's delivery leases before it resends what was in
// flight at the kill: the shortest lease allowed (31 s) keeps that wait short.
t.setTimeout(240_000)

const adminKey = newAdminKey()
const env = {
  LOOP_ADMIN_KEY: adminKey,
  LOOP_DELIVERY_SCHEDULE: '200ms,200ms,200ms,200ms,200ms',
  LOOP_DELIVERY_LEASE_MS: '31000',
  // Full speed from one address: the per-IP webhook limit is not what this test is about.
  LOOP_WEBHOOK_RATE: '1000000',
  LOOP_WEBHOOK_BURST: '1000000'
}

interface Acked { kind: 'github' | 'sentry' | 'event', id: string, issueId?: string }

t.test('kill -9 under load loses nothing acknowledged, and the outbound queue resumes', async (t) => {
  const databaseUrl = await freshDatabase(t)
  const receivers = [await startReceiver(t), await startReceiver(t)]
  const first = await startLoopProcess(t, databaseUrl, env)

  const keyRes = await call(`${first.url}/api/keys`, { method: 'POST', headers: bearer(adminKey), body: JSON.stringify({ name: 'crash load', env: 'live', scopes: ['events:write'], tier: 'premium' }) })
  t.equal(keyRes.status, 201, 'a premium key for the event load', { body: keyRes.text })
  const eventKey = (keyRes.json() as { secret: string }).secret
  const endpointIds: string[] = []
  for (const receiver of receivers) {
    const res = await call(`${first.url}/api/webhooks`, { method: 'POST', headers: bearer(adminKey), body: JSON.stringify({ url: receiver.url, events: ['*'] }) })
    t.equal(res.status, 201, 'an endpoint for every event type', { body: res.text })
    endpointIds.push((res.json() as { id: string }).id)
  }

  const acked: Acked[] = []
  const refused: string[] = []
  let failed = 0
  let n = 0
  let running = true
  const drive = async (kind: Acked['kind']) => {
    while (running) {
      const i = n++
      const request = kind === 'github'
        ? { path: '/api/signals/github', ...githubDelivery(i) }
        : kind === 'sentry'
          ? { path: '/api/signals/sentry', ...sentryDelivery(i) }
          : { path: '/api/events', headers: bearer(eventKey), body: JSON.stringify({ event: 'lead.captured.v1', payload: lead({ eventId: randomUUID() }) }) }
      try {
        const res = await call(`${first.url}${request.path}`, { method: 'POST', headers: request.headers, body: request.body, timeoutMs: 10_000 })
        if (res.status >= 200 && res.status < 300) {
          const body = res.json() as { signalId?: string, issueId?: string, id?: string }
          acked.push(kind === 'event' ? { kind, id: body.id as string } : { kind, id: body.signalId as string, issueId: body.issueId as string })
        } else {
          refused.push(`${kind} ${res.status} ${res.text.slice(0, 200)}`)
        }
      } catch {
        failed++ // no answer: the kill cut it off; nothing was promised
      }
    }
  }
  const drivers = (['github', 'sentry', 'event'] as const).flatMap((kind) => Array.from({ length: 6 }, () => drive(kind)))

  // Midway: once a good number is acknowledged and deliveries are flowing out.
  await eventually(() => (acked.length >= 400 && receivers.every((r) => r.requests.length >= 20) ? true : undefined), 60_000, 'load to build up')
  first.child.kill('SIGKILL')
  await first.exited
  const killedAt = Date.now()
  running = false
  await Promise.all(drivers)
  t.same(refused, [], 'before the kill, nothing was refused')
  t.comment(`${acked.length} acknowledged, ${failed} cut off by the kill; receivers had ${receivers.map((r) => r.requests.length).join(' and ')} deliveries`)

  const restartedAt = Date.now()
  const second = await startLoopProcess(t, databaseUrl, env)
  t.equal((await call(`${second.url}/ready`)).status, 200, 'the restarted Loop is ready')

  const signals = acked.filter((a) => a.kind !== 'event')
  const stored = await sql<{ signal_id: string, issue_id: string }>(databaseUrl,
    'select s.id as signal_id, i.id as issue_id from signal s join issue i on i.signal_id = s.id where s.id = any($1::uuid[])', [signals.map((s) => s.id)])
  const issueBySignal = new Map(stored.map((row) => [row.signal_id, row.issue_id]))
  t.equal(signals.filter((s) => issueBySignal.get(s.id) === s.issueId).length, signals.length, `all ${signals.length} acknowledged signals are stored with the issue they were answered with`)
  const orphans = await sql(databaseUrl, 'select s.id from signal s where not exists (select 1 from issue i where i.signal_id = s.id)')
  t.same(orphans, [], 'no signal without an issue')

  const events = acked.filter((a) => a.kind === 'event')
  const storedEvents = await sql<{ id: string, deliveries: number }>(databaseUrl,
    `select e.id, (select count(*)::int from webhook_delivery d where d.message_id = e.id and d.endpoint_id = any($2::uuid[])) as deliveries
       from event e where e.id = any($1::uuid[])`, [events.map((e) => e.id), endpointIds])
  t.equal(storedEvents.length, events.length, `all ${events.length} acknowledged events are stored`)
  t.equal(storedEvents.filter((e) => e.deliveries === endpointIds.length).length, events.length, 'each with a delivery queued for each endpoint')
  const announced = await sql<{ id: string }>(databaseUrl,
    `select d.body::jsonb -> 'data' ->> 'id' as id from webhook_delivery d
      where d.event_type in ('signal.created', 'issue.created') and d.endpoint_id = any($1::uuid[])`, [endpointIds])
  const announcedCount = new Map<string, number>()
  for (const { id } of announced) announcedCount.set(id, (announcedCount.get(id) ?? 0) + 1)
  t.equal(signals.filter((s) => announcedCount.get(s.id) === endpointIds.length && announcedCount.get(s.issueId as string) === endpointIds.length).length, signals.length,
    'each acknowledged signal has signal.created and issue.created queued for each endpoint')

  // The restarted worker delivers everything still pending, including what the dead one had claimed.
  const expected = await sql<{ id: string, endpoint_id: string }>(databaseUrl, 'select id, endpoint_id from webhook_delivery where endpoint_id = any($1::uuid[])', [endpointIds])
  await eventually(async () => {
    const [row] = await sql<{ pending: number }>(databaseUrl, "select count(*)::int as pending from webhook_delivery where status <> 'succeeded'")
    return row?.pending === 0 ? true : undefined
  }, 150_000, 'every delivery to succeed')

  const attemptsBeforeKill = new Set((await sql<{ delivery_id: string }>(databaseUrl,
    'select delivery_id from webhook_attempt where status_code between 200 and 299 and attempted_at < $1', [new Date(killedAt)])).map((r) => r.delivery_id))
  for (const [index, receiver] of receivers.entries()) {
    const endpointId = endpointIds[index] as string
    const wanted = new Set(expected.filter((d) => d.endpoint_id === endpointId).map((d) => d.id))
    const copies = new Map<string, ReceivedRequest[]>()
    for (const request of receiver.requests) {
      const id = request.headers['x-loop-delivery'] as string
      copies.set(id, [...(copies.get(id) ?? []), request])
    }
    t.same([...wanted].filter((id) => !copies.has(id)), [], `endpoint ${index + 1}: every one of its ${wanted.size} deliveries arrived`)
    t.same([...copies.keys()].filter((id) => !wanted.has(id)), [], `endpoint ${index + 1}: nothing arrived that was not queued for it`)
    // At least once across a crash: the one resend allowed is of an attempt the dead process made
    // but never recorded (killed between the receiver's 200 and its commit). Anything else twice is a bug.
    const resent = [...copies.entries()].filter(([, list]) => list.length > 1)
    const unexplained = resent.filter(([id, list]) => list.length > 2 || (list[0] as ReceivedRequest).at >= restartedAt || (list[1] as ReceivedRequest).at < restartedAt || attemptsBeforeKill.has(id))
    t.same(unexplained.map(([id]) => id), [], `endpoint ${index + 1}: each delivery id once (${resent.length} resent after the crash, each one unrecorded at the kill)`)
    t.equal(new Set(receiver.requests.map((r) => r.headers['webhook-id'])).size, wanted.size, `endpoint ${index + 1}: one webhook-id per message`)
  }
})
