import t from 'tap'
import { idempotencyScope } from '../../../../lib/idempotency/idempotency-key.ts'
import { authHeaders, build, envelope } from '../../../helper.ts'
import { sql } from '../../../../lib/db/sql.ts'

const app = await build(t)
const writer = await authHeaders(app, ['events:write', 'events:read'])

const seedPayload = {
  eventId: '550e8400-e29b-41d4-a716-446655440000',
  occurredAt: '2026-05-19T12:00:00Z',
  brandId: '7d0c5a4e-2f6b-4c1e-9a63-5f0f8f1f2b11',
  email: 'user@example.com',
  source: 'inbound_lead',
  attribution: {},
  personId: null
}
let counter = 0
const freshPayload = (change: Record<string, unknown> = {}) => ({ ...seedPayload, eventId: `550e8400-e29b-41d4-a716-${String(++counter).padStart(12, '0')}`, ...change })
const send = (payload: unknown, headers: Record<string, string> = {}, event = 'lead.captured.v1') =>
  app.inject({ method: 'POST', url: '/api/events', headers: { ...writer, ...headers }, payload: { event, payload } })

t.test("the seed's own lead.captured.v1 example is accepted and stored with its key, brand and env", async (t) => {
  const res = await send(seedPayload)
  t.equal(res.statusCode, 200, res.body)
  const body = res.json()
  t.match(body, { ok: true, id: /^[0-9a-f-]{36}$/, eventId: seedPayload.eventId, event: 'lead.captured.v1', receivedAt: String })
  t.not(body.id, seedPayload.eventId, "`id` is Loop's own, `eventId` the payload's")
  t.ok(Number.isFinite(Date.parse(body.receivedAt)))
  t.ok(res.headers['x-ratelimit-limit'] !== undefined, 'rate-limit headers are present')
  const stored = await app.inject({ method: 'GET', url: `/api/events/${body.id}`, headers: writer })
  t.equal(stored.statusCode, 200)
  t.match(stored.json(), { id: body.id, event: 'lead.captured.v1', eventId: seedPayload.eventId, payload: seedPayload, keyId: String, env: 'live', source: 'api' })
})

t.test('a bad email and an unknown source come back together in one 422 in the seed shape', async (t) => {
  const res = await send(freshPayload({ email: 'not-an-email', source: 'x' }))
  t.equal(res.statusCode, 422)
  const body = res.json()
  t.match(body, envelope('VALIDATION_ERROR'))
  t.match(body.error.message, /^payload\.email must be a valid email address/)
  t.same(body.error.issues, [
    { path: 'email', message: 'Invalid email', code: 'invalid_string' },
    { path: 'source', message: "Invalid enum value. Expected 'vsl_form' | 'quiz_completion' | 'inbound_lead' | 'other'", code: 'invalid_enum_value' }
  ])
})

t.test('a missing required field and an extra field are each reported with code and path', async (t) => {
  const { email: _email, ...withoutEmail } = freshPayload()
  const missing = await send(withoutEmail)
  t.equal(missing.statusCode, 422)
  t.same(missing.json().error.issues, [{ path: 'email', message: 'Required', code: 'required' }])
  const extra = await send(freshPayload({ favouriteColour: 'teal' }))
  t.equal(extra.statusCode, 422)
  t.same(extra.json().error.issues, [{ path: 'favouriteColour', message: "Unrecognized key 'favouriteColour'", code: 'unrecognized_keys' }])
})

t.test('an unknown event name is 422 with an issue on path `event`', async (t) => {
  const res = await send(freshPayload(), {}, 'lead.captured.v9')
  t.equal(res.statusCode, 422)
  t.match(res.json(), envelope('VALIDATION_ERROR'))
  t.same(res.json().error.issues.map((i: { path: string }) => i.path), ['event'])
})

t.test('malformed JSON is 400 and a body that is not {event, payload} is 422', async (t) => {
  const bad = await app.inject({ method: 'POST', url: '/api/events', headers: { ...writer, 'content-type': 'application/json' }, payload: '{"event": "lead.captured.v1", ' })
  t.equal(bad.statusCode, 400)
  t.match(bad.json(), envelope('BAD_REQUEST'))
  const shape = await app.inject({ method: 'POST', url: '/api/events', headers: writer, payload: { name: 'lead.captured.v1', payload: [] } })
  t.equal(shape.statusCode, 422)
  t.same(shape.json().error.issues.map((i: { code: string, path: string }) => `${i.code}@${i.path}`).sort(), ['invalid_type@payload', 'required@event', 'unrecognized_keys@name'])
})

t.test('a payload eventId already stored for the brand is not stored again', async (t) => {
  const payload = freshPayload()
  const first = await send(payload)
  const second = await send(payload)
  t.equal(first.statusCode, 200)
  t.equal(second.statusCode, 200)
  t.equal(second.json().id, first.json().id, "the first event's id")
  t.equal(second.json().eventId, payload.eventId)
  t.equal(second.json().duplicate, true)
  t.equal(first.json().duplicate, undefined)
})

t.test('Idempotency-Key: the same body replays the first response byte for byte', async (t) => {
  const payload = freshPayload()
  const first = await send(payload, { 'idempotency-key': payload.eventId })
  const replay = await send(payload, { 'idempotency-key': payload.eventId })
  t.equal(first.statusCode, 200)
  t.equal(first.headers['idempotent-replayed'], undefined)
  t.equal(replay.statusCode, 200)
  t.equal(replay.headers['idempotent-replayed'], 'true')
  t.equal(replay.body, first.body)
})

t.test('Idempotency-Key: the same key with a different body is 422 IDEMPOTENCY_KEY_REUSED', async (t) => {
  const payload = freshPayload()
  await send(payload, { 'idempotency-key': `reuse-${payload.eventId}` })
  const reused = await send({ ...payload, email: 'other@example.com' }, { 'idempotency-key': `reuse-${payload.eventId}` })
  t.equal(reused.statusCode, 422)
  t.match(reused.json(), envelope('IDEMPOTENCY_KEY_REUSED'))
})

t.test('Idempotency-Key: a request still in flight answers 409 to its duplicate', async (t) => {
  const payload = freshPayload()
  const first = await send(payload)
  const keyId = (await app.inject({ method: 'GET', url: `/api/events/${first.json().id}`, headers: writer })).json().keyId
  // The first request holds its claim (as it does between claiming and committing).
  const other = freshPayload()
  const { idempotencyKey, requestHash } = idempotencyScope(keyId, 'in-flight-key', { operation: 'POST /api/events', body: { event: 'lead.captured.v1', payload: other } })
  await sql(app.orm.em.fork(), "insert into idempotency_key (key_id, idempotency_key, request_hash, state) values (?, ?, ?, 'in_flight')", [keyId, idempotencyKey, requestHash])
  const duplicate = await send(other, { 'idempotency-key': 'in-flight-key' })
  t.equal(duplicate.statusCode, 409)
  t.match(duplicate.json(), envelope('CONFLICT'))
})

t.test('Idempotency-Key: 20 concurrent identical requests store exactly one event', async (t) => {
  const body = freshPayload()
  const before = (await sql<{ n: string }>(app.orm.em.fork(), 'select count(*) as n from event'))[0]?.n
  const answers = await Promise.all(Array.from({ length: 20 }, () => send(body, { 'idempotency-key': 'concurrent-20' })))
  const statuses = answers.map((a) => a.statusCode)
  t.ok(statuses.every((s) => s === 200 || s === 409), `statuses ${statuses.join(',')}`)
  const originals = answers.filter((a) => a.statusCode === 200 && a.headers['idempotent-replayed'] === undefined)
  t.equal(originals.length, 1, 'exactly one request did the work')
  for (const replay of answers.filter((a) => a.headers['idempotent-replayed'] === 'true')) t.equal(replay.body, originals[0]?.body)
  const after = (await sql<{ n: string }>(app.orm.em.fork(), 'select count(*) as n from event'))[0]?.n
  t.equal(Number(after) - Number(before), 1, 'one event stored')
})

t.test('a key without events:write gets 403', async (t) => {
  const reader = await authHeaders(app, ['events:read'])
  const res = await app.inject({ method: 'POST', url: '/api/events', headers: reader, payload: { event: 'lead.captured.v1', payload: freshPayload() } })
  t.equal(res.statusCode, 403)
  t.match(res.json(), envelope('FORBIDDEN'))
})

/** `depth` levels in all, counting the `{event, payload}` wrapper and the payload, built as text. */
const nestedSend = (depth: number) => {
  const payload = JSON.stringify(freshPayload()).slice(0, -1).replace('"attribution":{}', `"attribution":${'{"a":'.repeat(depth - 2)}1${'}'.repeat(depth - 2)}`)
  return `{"event":"lead.captured.v1","payload":${payload}}}`
}

t.test('JSON nested 20,000 levels deep with an Idempotency-Key is 400, not a stack overflow', async (t) => {
  const body = '{"event":"lead.captured.v1","payload":' + '{"a":'.repeat(20_000) + '1' + '}'.repeat(20_000) + '}'
  const res = await app.inject({ method: 'POST', url: '/api/events', headers: { ...writer, 'content-type': 'application/json', 'idempotency-key': 'deep-20000' }, payload: body })
  t.equal(res.statusCode, 400, res.body.slice(0, 200))
  t.match(res.json(), envelope('BAD_REQUEST'))
  t.match(res.json().error.message, /nested more than 64 levels/)
})

t.test('a body 64 levels deep is accepted and one 65 levels deep is 400 (LOOP_JSON_MAX_DEPTH, default 64)', async (t) => {
  const accepted = await app.inject({ method: 'POST', url: '/api/events', headers: { ...writer, 'content-type': 'application/json', 'idempotency-key': 'deep-64' }, payload: nestedSend(64) })
  t.equal(accepted.statusCode, 200, accepted.body)
  const refused = await app.inject({ method: 'POST', url: '/api/events', headers: { ...writer, 'content-type': 'application/json' }, payload: nestedSend(65) })
  t.equal(refused.statusCode, 400, refused.body)
  t.match(refused.json(), envelope('BAD_REQUEST'))
})

t.test('LOOP_JSON_MAX_DEPTH sets the limit', async (t) => {
  const shallow = await build(t, { LOOP_JSON_MAX_DEPTH: '8' })
  const key = await authHeaders(shallow, ['events:write'])
  const deep = await shallow.inject({ method: 'POST', url: '/api/events', headers: { ...key, 'content-type': 'application/json' }, payload: nestedSend(9) })
  t.equal(deep.statusCode, 400, deep.body)
  t.match(deep.json().error.message, /nested more than 8 levels/)
  const fits = await shallow.inject({ method: 'POST', url: '/api/events', headers: { ...key, 'content-type': 'application/json' }, payload: nestedSend(8) })
  t.equal(fits.statusCode, 200, fits.body)
})

t.test('the JSON parser keeps refusing __proto__ keys (secure-json-parse, as Fastify does)', async (t) => {
  const res = await app.inject({ method: 'POST', url: '/api/events', headers: { ...writer, 'content-type': 'application/json' }, payload: `{"event":"lead.captured.v1","payload":${JSON.stringify(freshPayload()).slice(0, -1)},"__proto__":{"x":1}}}` })
  t.equal(res.statusCode, 400, res.body)
  t.match(res.json(), envelope('BAD_REQUEST'))
})
