import t from 'tap'
import { authHeaders, build } from '../../../helper.ts'

const app = await build(t)
const headers = await authHeaders(app, ['events:write', 'events:read'])

const lead = (i: number) => ({
  eventId: `550e8400-e29b-41d4-a716-${String(i).padStart(12, '0')}`,
  occurredAt: '2026-05-19T12:00:00Z',
  brandId: '7d0c5a4e-2f6b-4c1e-9a63-5f0f8f1f2b11',
  email: `user${i}@example.com`,
  source: 'other',
  attribution: {}
})
const order = (i: number) => ({ eventId: `order-${i}`, occurredAt: '2026-05-19T12:00:00Z', source: 'api', orderId: `${i}` })

for (let i = 0; i < 5; i++) {
  await app.inject({ method: 'POST', url: '/api/events', headers, payload: { event: 'lead.captured.v1', payload: lead(i) } })
  await app.inject({ method: 'POST', url: '/api/events', headers, payload: { event: 'order.completed.v1', payload: order(i) } })
}

t.test('pages through events newest first with an opaque iterator, each event once', async (t) => {
  const seen: string[] = []
  let iterator: string | null = null
  let pages = 0
  do {
    const query: string = iterator === null ? '' : `&iterator=${iterator}`
    const res = await app.inject({ method: 'GET', url: `/api/events?limit=3${query}`, headers })
    t.equal(res.statusCode, 200)
    const body = res.json()
    t.ok(body.data.length <= 3)
    seen.push(...body.data.map((e: { id: string }) => e.id))
    iterator = body.iterator
    t.equal(body.done, iterator === null, 'done exactly when there is no next iterator')
    pages++
  } while (iterator !== null && pages < 10)
  t.equal(seen.length, 10)
  t.equal(new Set(seen).size, 10)
  t.equal(pages, 4)
})

t.test('filters by event name and time', async (t) => {
  const orders = await app.inject({ method: 'GET', url: '/api/events?event=order.completed.v1', headers })
  t.equal(orders.json().data.length, 5)
  t.ok(orders.json().data.every((e: { event: string }) => e.event === 'order.completed.v1'))
  const future = await app.inject({ method: 'GET', url: `/api/events?since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`, headers })
  t.equal(future.json().data.length, 0)
  const past = await app.inject({ method: 'GET', url: `/api/events?until=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`, headers })
  t.equal(past.json().data.length, 10)
})

t.test('bad filters are 422; an unknown id is 404', async (t) => {
  t.equal((await app.inject({ method: 'GET', url: '/api/events?limit=0', headers })).statusCode, 422)
  t.equal((await app.inject({ method: 'GET', url: '/api/events?since=yesterday', headers })).statusCode, 422)
  t.equal((await app.inject({ method: 'GET', url: '/api/events?iterator=bm9wZQ', headers })).statusCode, 422)
  t.equal((await app.inject({ method: 'GET', url: '/api/events?limit=251', headers })).statusCode, 422)
  t.equal((await app.inject({ method: 'GET', url: '/api/events?limit=250', headers })).statusCode, 200)
  const orders = (await app.inject({ method: 'GET', url: '/api/events?event=order.completed.v1&limit=1', headers })).json()
  const unfiltered = await app.inject({ method: 'GET', url: `/api/events?iterator=${orders.iterator as string}`, headers })
  t.equal(unfiltered.statusCode, 422, 'an iterator made under other filters')
  t.match(unfiltered.json(), { error: { code: 'VALIDATION_ERROR', issues: [{ path: 'iterator' }] } })
  const schemas = (await app.inject({ method: 'GET', url: '/api/events/schemas?limit=1', headers })).json()
  const foreign = await app.inject({ method: 'GET', url: `/api/events?iterator=${schemas.iterator as string}`, headers })
  t.equal(foreign.statusCode, 422, "the schemas list's iterator is not the events list's")
  t.match(foreign.json(), { error: { code: 'VALIDATION_ERROR', issues: [{ path: 'iterator' }] } })
  t.equal((await app.inject({ method: 'GET', url: '/api/events/not-a-uuid', headers })).statusCode, 422)
  t.equal((await app.inject({ method: 'GET', url: '/api/events/550e8400-e29b-41d4-a716-446655440000', headers })).statusCode, 404)
})

t.test("a brand's key never sees another brand's events", async (t) => {
  const other = await authHeaders(app, ['events:read'])
  const list = await app.inject({ method: 'GET', url: '/api/events', headers: other })
  t.equal(list.statusCode, 200)
  t.same(list.json().data, [])
  const mine = (await app.inject({ method: 'GET', url: '/api/events?limit=1', headers })).json().data[0]
  t.equal((await app.inject({ method: 'GET', url: `/api/events/${mine.id}`, headers: other })).statusCode, 404)
})
