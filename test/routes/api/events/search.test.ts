// Searching stored events: by type, payload eventId, time range and payload text (`q`), each
// within the caller's own brand and env, paged like every list. Another brand's events with the
// same text are never returned.
import t from 'tap'
import { authHeaders, build, envelope } from '../../../helper.ts'
import { containsPattern } from '../../../../lib/events/queries.ts'

const app = await build(t)
const brandA = await authHeaders(app, ['events:write', 'events:read'])
const brandB = await authHeaders(app, ['events:write', 'events:read'])
const operator = await authHeaders(app, ['admin'])

const lead = (eventId: string, email: string, campaign = 'spring') => ({
  eventId, occurredAt: '2026-05-19T12:00:00Z', brandId: '7d0c5a4e-2f6b-4c1e-9a63-5f0f8f1f2b11', email, source: 'other', attribution: { utm_campaign: campaign }
})
const order = (eventId: string) => ({ eventId, occurredAt: '2026-05-19T12:00:00Z', source: 'api', orderId: eventId })

async function send (headers: Record<string, string>, event: string, payload: Record<string, unknown>): Promise<{ id: string, receivedAt: string }> {
  const res = await app.inject({ method: 'POST', url: '/api/events', headers, payload: { event, payload } })
  if (res.statusCode !== 200) throw new Error(`send: ${res.statusCode} ${res.body}`)
  return res.json()
}

const a1 = await send(brandA, 'lead.captured.v1', lead('550e8400-e29b-41d4-a716-0000000000a1', 'Ada@Example.com', 'Black_Friday'))
const a2 = await send(brandA, 'lead.captured.v1', lead('550e8400-e29b-41d4-a716-0000000000a2', 'grace@example.com', '100%-off'))
const a3 = await send(brandA, 'order.completed.v1', order('order-a3'))
const b1 = await send(brandB, 'lead.captured.v1', lead('550e8400-e29b-41d4-a716-0000000000b1', 'ada@example.com', 'Black_Friday'))

type Listed = { data: { id: string }[], iterator: string | null, done: boolean }
async function search (headers: Record<string, string>, query: Record<string, string>): Promise<string[]> {
  const res = await app.inject({ method: 'GET', url: '/api/events', query: { limit: '250', ...query }, headers })
  if (res.statusCode !== 200) throw new Error(`search: ${res.statusCode} ${res.body}`)
  return (res.json() as Listed).data.map((e) => e.id)
}

t.test('q matches the payload text case-insensitively, within the caller\'s own events only', async (t) => {
  t.same(await search(brandA, { q: 'ada@example' }), [a1.id], 'case-insensitive; brand B\'s ada is not brand A\'s')
  t.same(await search(brandB, { q: 'ADA@EXAMPLE' }), [b1.id], 'and brand B finds only its own')
  t.same((await search(operator, { q: 'ada@example' })).sort(), [a1.id, b1.id].sort(), 'the operator sees every brand of its env')
  t.same(await search(brandA, { q: 'nobody@example' }), [])
})

t.test('q is a plain substring: % and _ match only themselves', async (t) => {
  t.same(await search(brandA, { q: '100%' }), [a2.id], '% is literal')
  t.same(await search(brandA, { q: 'k_F' }), [a1.id], '_ is literal (Black_Friday)')
  t.same(await search(brandA, { q: '%' }), [a2.id], 'a lone % is not "everything"')
  t.same(await search(brandA, { q: 'gr_ce' }), [], '_ is not "any one character" (grace is not found)')
  t.equal(containsPattern('a\\b%c_d'), '%a\\\\b\\%c\\_d%', 'backslash, % and _ are escaped')
})

t.test('by payload eventId and by type, each owner-scoped', async (t) => {
  t.same(await search(brandA, { eventId: '550e8400-e29b-41d4-a716-0000000000a2' }), [a2.id])
  t.same(await search(brandA, { eventId: '550e8400-e29b-41d4-a716-0000000000b1' }), [], 'another brand\'s eventId is not found')
  t.same(await search(brandA, { event: 'order.completed.v1' }), [a3.id])
  t.same(await search(brandA, { event: 'lead.captured.v1', q: 'example.com' }), [a2.id, a1.id], 'filters combine, newest first')
})

t.test('by time range: since included, until excluded', async (t) => {
  t.same(await search(brandA, { since: a2.receivedAt }), [a3.id, a2.id])
  t.same(await search(brandA, { until: a2.receivedAt }), [a1.id])
  t.same(await search(brandA, { since: a1.receivedAt, until: a3.receivedAt, q: 'example' }), [a2.id, a1.id])
})

t.test('a search pages with the list\'s iterator, bound to its q', async (t) => {
  const first = await app.inject({ method: 'GET', url: '/api/events?limit=1&q=example.com', headers: brandA })
  const page = first.json() as Listed
  t.same(page.data.map((e) => e.id), [a2.id])
  t.equal(page.done, false)
  const next = (await app.inject({ method: 'GET', url: `/api/events?limit=1&q=example.com&iterator=${page.iterator ?? ''}`, headers: brandA })).json() as Listed
  t.same(next.data.map((e) => e.id), [a1.id])
  t.equal(next.done, true)
  const foreign = await app.inject({ method: 'GET', url: `/api/events?limit=1&q=other&iterator=${page.iterator ?? ''}`, headers: brandA })
  t.equal(foreign.statusCode, 422, 'an iterator made under another q is refused')
  t.match(foreign.json(), { error: { code: 'VALIDATION_ERROR', issues: [{ path: 'iterator' }] } })
})

t.test('q and eventId are bounded: empty or over 200 characters is a 422 envelope', async (t) => {
  for (const query of [`q=${'x'.repeat(201)}`, 'q=', `eventId=${'x'.repeat(201)}`]) {
    const res = await app.inject({ method: 'GET', url: `/api/events?${query}`, headers: brandA })
    t.equal(res.statusCode, 422, query.slice(0, 12))
    t.match(res.json(), envelope('VALIDATION_ERROR'))
  }
})
