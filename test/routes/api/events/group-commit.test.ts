// Group commit for events through the whole stack: POST /api/events and inbound deliveries that
// arrive together share one transaction, and each still gets exactly the answer it would have got
// alone. To make "together" certain rather than likely, a second connection locks `event`, a first
// event is sent and stays blocked in the database (one batch in flight at a time), and every
// request of the test queues behind it; once all have reached the batcher the lock is released and
// they are written as one batch.
import t from 'tap'
import { createHmac, randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import pg from 'pg'
import type { InjectOptions, LightMyRequestResponse } from 'fastify'
import { authHeaders, buildWithDetails, envelope } from '../../../helper.ts'
import { sql } from '../../../../lib/db/sql.ts'
import type { EntityManager } from '@mikro-orm/postgresql'

const { app, databaseUrl } = await buildWithDetails(t, { LOOP_INGEST_BATCHES_IN_FLIGHT: '1', LOOP_INGEST_BATCH_SIZE: '100', LOOP_ALLOW_PRIVATE_URLS: 'true' }, undefined, { deliveryWorker: false })
const em = () => app.orm.em.fork() as unknown as EntityManager
const brandA = await authHeaders(app, ['events:write', 'events:read'])
const brandB = await authHeaders(app, ['events:write', 'events:read', 'webhooks:manage'])

const lead = (eventId: string = randomUUID(), change: Record<string, unknown> = {}) => ({
  eventId, occurredAt: '2026-05-19T12:00:00Z', brandId: '7d0c5a4e-2f6b-4c1e-9a63-5f0f8f1f2b11', email: 'user@example.com', source: 'inbound_lead', attribution: {}, personId: null, ...change
})
const storedBefore = randomUUID()
const send = (headers: Record<string, string>, payload: unknown, extra: Record<string, string> = {}): InjectOptions =>
  ({ method: 'POST', url: '/api/events', headers: { ...headers, ...extra }, payload: { event: 'lead.captured.v1', payload } })

async function waitUntil (condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 30_000
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

/**
 * Sends `batched` so that they are written in one batch, and `direct` (answered before any
 * batch: claims, validation) while they wait; returns the answers in order.
 */
async function sendTogether (batched: InjectOptions[], direct: InjectOptions[] = []): Promise<{ responses: LightMyRequestResponse[], direct: LightMyRequestResponse[], batches: number }> {
  const { events } = app.ingest
  const lock = new pg.Client({ connectionString: databaseUrl })
  await lock.connect()
  try {
    await lock.query('begin')
    await lock.query('lock table event in exclusive mode')
    const before = events.stats.items
    const blocker = app.inject(send(brandA, lead()))
    await waitUntil(() => events.stats.items === before + 1, 'the first event waits on the lock')
    const batchesBefore = events.stats.batches
    const pending = batched.map(async (request) => await app.inject(request))
    await waitUntil(() => events.queued === batched.length, 'every event waits for a batch')
    const answeredDirectly = await Promise.all(direct.map(async (request) => await app.inject(request)))
    await lock.query('commit')
    const blocked = await blocker
    if (blocked.statusCode !== 200) throw new Error(`the first event failed: ${blocked.body}`)
    return { responses: await Promise.all(pending), direct: answeredDirectly, batches: events.stats.batches - batchesBefore }
  } finally {
    await lock.end()
  }
}

const count = async (text: string, params: unknown[]) => Number((await sql<{ n: string }>(em(), text, params))[0]?.n)

t.test('forty events of two brands share one batch: each stored once, under its own brand, with its deliveries', async (t) => {
  const created = await app.inject({ method: 'POST', url: '/api/webhooks', headers: brandB, payload: { url: 'http://127.0.0.1:9/hook', events: ['lead.*'] } })
  t.equal(created.statusCode, 201, created.body)
  const endpoint = created.json<{ id: string }>()
  const payloads = Array.from({ length: 40 }, () => lead())
  const { responses, batches } = await sendTogether(payloads.map((payload, i) => send(i % 2 === 0 ? brandA : brandB, payload)))
  t.same(responses.map((r) => r.statusCode), payloads.map(() => 200), 'every event is acknowledged')
  t.equal(batches, 1, 'the forty were written as one batch')
  const accepted = responses.map((r) => r.json<{ id: string, eventId: string, duplicate?: boolean }>())
  t.same(accepted.map((a) => a.eventId), payloads.map((p) => p.eventId), 'each answer is its own event')
  t.ok(accepted.every((a) => a.duplicate === undefined), 'none is a duplicate')
  t.equal(await count('select count(*) as n from event where id = any(?::uuid[])', [accepted.map((a) => a.id)]), 40)
  for (const [i, a] of accepted.entries()) {
    const read = await app.inject({ method: 'GET', url: `/api/events/${a.id}`, headers: i % 2 === 0 ? brandA : brandB })
    t.equal(read.statusCode, 200, 'readable by its own brand')
    const other = await app.inject({ method: 'GET', url: `/api/events/${a.id}`, headers: i % 2 === 0 ? brandB : brandA })
    t.equal(other.statusCode, 404, 'not by the other')
  }
  const bEvents = accepted.filter((_, i) => i % 2 === 1).map((a) => a.id)
  t.equal(await count('select count(*) as n from webhook_delivery where endpoint_id = ? and message_id = any(?::uuid[])', [endpoint.id, bEvents]), 20, "brand B's endpoint got B's twenty events")
  t.equal(await count('select count(*) as n from webhook_delivery where message_id = any(?::uuid[])', [accepted.map((a) => a.id)]), 20, "and none of A's")
})

t.test('duplicates, replays, 409 and 422 in one batch: each gets the answer it would have got alone', async (t) => {
  const stored = (await app.inject(send(brandA, lead(storedBefore)))).json<{ id: string }>()
  const copy = lead()
  const keyed = lead()
  const idempotencyKey = randomUUID()
  const { responses, direct, batches } = await sendTogether([
    send(brandA, copy),
    send(brandA, copy),
    send(brandB, copy),
    send(brandA, lead(storedBefore)),
    send(brandA, keyed, { 'idempotency-key': idempotencyKey })
  ], [
    send(brandA, keyed, { 'idempotency-key': idempotencyKey }),
    send(brandA, lead(undefined, { email: 'not-an-email' }))
  ])
  t.equal(batches, 1)
  const [first, second, otherBrand, redelivery, withKey] = responses.map((r) => ({ status: r.statusCode, body: r.json<{ id: string, duplicate?: boolean }>() }))
  // Which copy reaches the batch first is the event loop's to say: one is stored, the other answers it.
  t.same([first?.status, second?.status], [200, 200])
  t.same([first?.body.duplicate, second?.body.duplicate].sort(), [true, undefined], 'one copy is stored, the other is its duplicate')
  t.equal(first?.body.id, second?.body.id, 'with the same id')
  t.equal(otherBrand?.body.duplicate, undefined, "another brand's event with the same eventId is its own")
  t.not(otherBrand?.body.id, first?.body.id)
  t.same(redelivery, { status: 200, body: { ...redelivery?.body, id: stored.id, duplicate: true } }, 'an eventId stored earlier answers the stored event')
  t.equal(withKey?.status, 200)
  t.equal(direct[0]?.statusCode, 409, 'the same Idempotency-Key while the first is in its batch: 409')
  t.match(direct[0]?.json(), envelope('CONFLICT'))
  t.equal(direct[1]?.statusCode, 422, 'an invalid payload is refused before any batch')
  t.equal(await count('select count(*) as n from event where brand_id is not null and event_id = ?', [copy.eventId]), 2, 'one row per brand')

  const replay = await app.inject(send(brandA, keyed, { 'idempotency-key': idempotencyKey }))
  t.equal(replay.statusCode, 200)
  t.equal(replay.headers['idempotent-replayed'], 'true', 'the answer was recorded inside the batch')
  t.equal(replay.body, responses[4]?.body, 'byte for byte')
})

t.test('a member the database refuses fails alone, with its own 400; the rest of its batch is stored', async (t) => {
  const good = Array.from({ length: 5 }, () => lead())
  const { responses } = await sendTogether([
    ...good.slice(0, 2).map((p) => send(brandA, p)),
    send(brandA, lead(undefined, { attribution: { note: 'nul \u0000 here' } })),
    ...good.slice(2).map((p) => send(brandB, p))
  ])
  t.same(responses.map((r) => r.statusCode), [200, 200, 400, 200, 200, 200])
  t.match(responses[2]?.json(), envelope('BAD_REQUEST'))
  t.equal(await count('select count(*) as n from event where event_id = any(?::text[])', [good.map((p) => p.eventId)]), 5)
})

t.test('Shopify deliveries in one batch: copies of one delivery stored once, a redelivery answers the stored event', async (t) => {
  const admin = await authHeaders(app, ['schemas:write', 'events:read', 'events:write'])
  const secret = 'provider-secret-0123456789'
  const declared = await app.inject({ method: 'POST', url: '/api/events/types', headers: admin, payload: { name: 'order.completed.v1', source: 'shopify', webhookPath: '/webhooks/shopify/orders', secret } })
  t.ok([200, 201].includes(declared.statusCode), declared.body)
  const order = JSON.parse(readFileSync(new URL('../../../fixtures/webhooks/shopify-orders-create.json', import.meta.url), 'utf8')) as Record<string, unknown>
  const delivery = (id: number, webhookId = randomUUID()): InjectOptions => {
    const body = JSON.stringify({ ...order, id })
    return {
      method: 'POST',
      url: '/webhooks/shopify/orders',
      headers: { 'content-type': 'application/json', 'x-shopify-hmac-sha256': createHmac('sha256', secret).update(body).digest('base64'), 'x-shopify-topic': 'orders/create', 'x-shopify-webhook-id': webhookId },
      payload: body
    }
  }
  const earlier = delivery(7001)
  const stored = await app.inject(earlier)
  t.equal(stored.statusCode, 200, stored.body)
  const twice = delivery(7002)
  const { responses, batches } = await sendTogether([delivery(7003), twice, twice, earlier, delivery(7004)])
  t.equal(batches, 1)
  t.same(responses.map((r) => r.statusCode), [200, 200, 200, 200, 200])
  const [a, first, copy, redelivery, b] = responses.map((r) => r.json<{ id: string, eventId: string, duplicate?: boolean }>())
  t.same([first?.duplicate, copy?.duplicate].sort(), [true, undefined], 'one copy is stored, the other is its duplicate')
  t.equal(first?.id, copy?.id, 'with the same id')
  t.same(redelivery, { ...stored.json(), duplicate: true }, 'the redelivery answers the stored event')
  t.same([a?.eventId, first?.eventId, b?.eventId], ['7003', '7002', '7004'])
  t.equal(await count("select count(*) as n from event where source = 'webhook:shopify' and event_id = any(?::text[])", [['7001', '7002', '7003', '7004']]), 4, 'each order stored once')
  t.equal(await count('select count(*) as n from inbound_receipt where event_id = any(?::uuid[])', [[a?.id, first?.id, b?.id]]), 3, 'each new delivery has its receipt, pointing at its event')
})
