// Fan-out against a real database, without HTTP and without a worker: which endpoints get a
// delivery for which event, written in the event's own transaction.
import type { Scope } from '../../../lib/keys/api-key.ts'
import t from 'tap'
import { randomUUID } from 'node:crypto'
import type { EntityManager } from '@mikro-orm/postgresql'
import { buildWithDetails } from '../../helper.ts'
import type { EventCaller } from '../../../lib/events/send-event.ts'
import { storeEvent } from '../../fixtures/events.ts'
import { createEndpoint, updateEndpoint, type WebhookCaller } from '../../../lib/outbound/endpoints.ts'
import { raiseEndpointFailing } from '../../../lib/outbound/alerts.ts'
import { messageBody } from '../../../lib/outbound/message.ts'
import { createBrand } from '../../../lib/keys/key-service.ts'
import { sql } from '../../../lib/db/sql.ts'

const { app } = await buildWithDetails(t, { LOOP_ALLOW_PRIVATE_URLS: 'true' }, undefined, { deliveryWorker: false })
const em = () => app.orm.em.fork() as unknown as EntityManager
const policy = { allowPrivateUrls: true }

// Real brands: signals and issues reference them (an alert belongs to its endpoint's brand).
const brandB = (await createBrand(em(), { name: 'B' })).brand.id
const brandC = (await createBrand(em(), { name: 'C' })).brand.id
const caller = (brandId: string | null, scopes: Scope[], env: WebhookCaller['env'] = 'live'): WebhookCaller => ({ keyId: randomUUID(), brandId, env, scopes })
const register = async (who: WebhookCaller, events: string[], env?: 'live' | 'test') =>
  (await createEndpoint(em(), { url: 'http://127.0.0.1:9/hook', events, ...(env !== undefined ? { env } : {}) }, who, policy)).id

const endpoints = {
  bAll: await register(caller(brandB, ['webhooks:manage', 'events:read']), ['*']),
  bLeads: await register(caller(brandB, ['webhooks:manage', 'events:read']), ['lead.*']),
  bOrders: await register(caller(brandB, ['webhooks:manage', 'events:read']), ['order.*']),
  bNoRead: await register(caller(brandB, ['webhooks:manage']), ['*']),
  bTest: await register(caller(brandB, ['webhooks:manage', 'events:read'], 'test'), ['*']),
  bAlerts: await register(caller(brandB, ['webhooks:manage']), ['webhook.failing']),
  cAll: await register(caller(brandC, ['webhooks:manage', 'events:read']), ['*']),
  brandless: await register(caller(null, ['admin']), ['*']),
  disabled: await register(caller(brandB, ['webhooks:manage', 'events:read']), ['*'])
}
await updateEndpoint(em(), endpoints.disabled, { status: 'disabled' }, caller(brandB, ['webhooks:manage']), policy)
const names = new Map(Object.entries(endpoints).map(([name, id]) => [id, name]))

let counter = 0
const payloadText = () => `{"eventId":"e-${++counter}","email":"a@example.com","orderId":820982911946154508}`

async function store (env: EventCaller['env'], brandId: string | null, text = payloadText()) {
  return await em().transactional(async (tx) =>
    await storeEvent(tx, 'lead.captured.v1', text, { keyId: randomUUID(), brandId, env }, 'api'))
}

async function deliveriesFor (messageId: string) {
  const rows = await sql<{ endpoint_id: string, body: string, event_type: string, status: string }>(em(), 
    'select endpoint_id, body, event_type, status from webhook_delivery where message_id = ?', [messageId])
  return { rows, to: rows.map((r) => names.get(r.endpoint_id)).sort() }
}

t.test('a live brand-B event reaches brand B and brandless endpoints whose patterns and scopes allow it', async (t) => {
  const accepted = await store('live', brandB)
  const { to } = await deliveriesFor(accepted.id)
  t.same(to, ['bAll', 'bLeads', 'brandless'])
})

t.test('a test event reaches only test endpoints; a dev event reaches nothing', async (t) => {
  t.same((await deliveriesFor((await store('test', brandB)).id)).to, ['bTest'])
  t.same((await deliveriesFor((await store('dev', brandB)).id)).to, [])
})

t.test('a brandless event reaches only brandless endpoints', async (t) => {
  t.same((await deliveriesFor((await store('live', null)).id)).to, ['brandless'])
})

t.test('the body is {id, type, createdAt, data} with the payload text verbatim, digits and all', async (t) => {
  const text = payloadText()
  const accepted = await store('live', brandC, text)
  const { rows } = await deliveriesFor(accepted.id)
  t.equal(rows.length, 2)
  const expected = messageBody({ id: accepted.id, type: 'lead.captured.v1', createdAt: accepted.receivedAt, dataJson: text })
  for (const row of rows) {
    t.equal(row.body, expected)
    t.equal(row.event_type, 'lead.captured.v1')
    t.equal(row.status, 'pending')
  }
  t.match(rows[0]?.body, /"orderId":820982911946154508\}/)
})

t.test('a duplicate event (same brand and eventId) queues nothing new', async (t) => {
  const text = payloadText()
  const first = await store('live', brandB, text)
  const again = await store('live', brandB, text)
  t.equal(again.id, first.id, 'the duplicate answers the first event\'s Loop id')
  t.equal(again.eventId, first.eventId, 'and the payload\'s eventId')
  t.equal(first.eventId, JSON.parse(text).eventId)
  t.equal(again.duplicate, true)
  t.equal((await deliveriesFor(first.id)).rows.length, 3)
})

t.test('an event whose transaction rolls back leaves no delivery behind', async (t) => {
  let eventId = ''
  await t.rejects(em().transactional(async (tx) => {
    const text = payloadText()
    eventId = (await storeEvent(tx, 'lead.captured.v1', text, { keyId: randomUUID(), brandId: brandB, env: 'live' }, 'api')).id
    t.equal((await sql<unknown>(tx, 'select 1 from webhook_delivery where message_id = ?', [eventId])).length, 3, 'queued inside the transaction')
    throw new Error('boom')
  }), /boom/)
  t.same((await deliveriesFor(eventId)).rows, [])
})

t.test('webhook.failing is raised once per transition, to subscribers of the brand, never to the failing endpoint', async (t) => {
  const summary = { deliveryId: randomUUID(), eventType: 'lead.captured.v1', attempts: 6, statusCode: 500, error: null }
  const raised = await em().transactional(async (tx) => await raiseEndpointFailing(tx, endpoints.bAll, summary))
  const again = await em().transactional(async (tx) => await raiseEndpointFailing(tx, endpoints.bAll, summary))
  t.equal(raised, true)
  t.equal(again, false, 'already failing: no second alert')
  const alerts = await sql<{ endpoint_id: string, body: string }>(em(), "select endpoint_id, body from webhook_delivery where event_type = 'webhook.failing'")
  // bNoRead subscribes to '*' with only webhooks:manage: no events for it, but webhook.* it may read.
  t.same(alerts.map((a) => names.get(a.endpoint_id)).sort(), ['bAlerts', 'bNoRead', 'brandless'])
  t.match(JSON.parse(alerts[0]?.body ?? '{}'), { type: 'webhook.failing', data: { endpoint: { id: endpoints.bAll, status: 'failing' }, delivery: { attempts: 6, lastStatusCode: 500 } } })
  const [endpoint] = await sql<{ status: string }>(em(), 'select status from webhook_endpoint where id = ?', [endpoints.bAll])
  t.equal(endpoint?.status, 'failing')

  // The same alert as a high-severity signal from Loop itself, with its triage issue.
  const signals = await sql<{ source: string, type: string, severity: string, source_id: string, payload: Record<string, unknown>, status: string, priority: number, title: string }>(em(), 
    "select s.source, s.type, s.severity, s.source_id, s.payload, i.status, i.priority, i.title from signal s join issue i on i.signal_id = s.id where s.source = 'loop'")
  t.equal(signals.length, 1, 'one signal for one transition')
  t.match(signals[0], { source: 'loop', type: 'webhook.failing', severity: 'high', source_id: endpoints.bAll, status: 'triage', priority: 2, title: /^Loop: webhook endpoint failing: http:\/\/127\.0\.0\.1:9 / })
  t.notOk(JSON.stringify(signals[0]?.payload).includes('/hook'), 'the signal names the origin, not the full URL')
})
