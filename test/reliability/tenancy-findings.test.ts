// Each tenancy hole issue 14 found against a fresh `npm start`, reproduced as it was seen, through
// HTTP with real keys and real signatures. Every one of these failed before the tenancy change;
// test/reliability/tenancy.test.ts then walks every route and tool for the general rule.
import t from 'tap'
import { createHmac, randomUUID } from 'node:crypto'
import { buildWithDetails } from '../helper.ts'
import { createBrand, createKey } from '../../lib/keys/key-service.ts'
import type { KeyEnv, Scope } from '../../lib/keys/api-key.ts'
import { raiseEndpointFailing } from '../../lib/outbound/alerts.ts'

const { app } = await buildWithDetails(t, { LOOP_ALLOW_PRIVATE_URLS: 'true' }, undefined, { deliveryWorker: false })
const everything: Scope[] = ['events:write', 'events:read', 'schemas:write', 'webhooks:manage', 'issues:read', 'issues:write', 'signals:read']
const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` })
const { brand: brandA, key: aLive } = await createBrand(app.orm.em.fork(), { name: 'A', key: { scopes: everything } })
const { brand: brandB, key: bLive } = await createBrand(app.orm.em.fork(), { name: 'B', key: { scopes: everything } })
const brandKey = async (brandId: string, env: KeyEnv) => bearer((await createKey(app.orm.em.fork(), { name: `${env} key`, env, scopes: everything, brandId })).secret)
const operator = bearer((await createKey(app.orm.em.fork(), { name: 'operator', env: 'live', scopes: ['admin'] })).secret)
const a = bearer(aLive.secret)
const b = bearer(bLive.secret)
const signedPost = (url: string, body: string, secret: string) =>
  app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json', 'x-loop-signature': createHmac('sha256', secret).update(body).digest('hex') }, payload: body })

t.test("brand A's dev key cannot re-declare brand B's inbound route; B's sender keeps getting through", async (t) => {
  const fields = { eventId: { type: 'string', required: true } }
  const declared = await app.inject({ method: 'POST', url: '/api/events/types', headers: b, payload: { name: 'quiz.completed.v1', fields, source: 'custom', webhookPath: '/webhooks/b/quiz', secret: 'b-secret', transform: { eventId: '$.id' } } })
  t.equal(declared.statusCode, 201, declared.body)
  const aDev = await brandKey(brandA.id, 'dev')
  // A's dev key declares its own type of that name (types are per brand), then tries B's path.
  t.equal((await app.inject({ method: 'POST', url: '/api/events/types', headers: aDev, payload: { name: 'quiz.completed.v1', fields } })).statusCode, 201)
  const takeover = await app.inject({ method: 'POST', url: '/api/events/types', headers: aDev, payload: { name: 'quiz.completed.v1', source: 'custom', webhookPath: '/webhooks/b/quiz', secret: 'attacker', transform: { eventId: '$.forged' } } })
  t.equal(takeover.statusCode, 409, takeover.body)
  t.equal((await signedPost('/webhooks/b/quiz', JSON.stringify({ id: 'f1', forged: 'x' }), 'attacker')).statusCode, 401, 'the attacker cannot sign for B')
  const real = await signedPost('/webhooks/b/quiz', JSON.stringify({ id: 'real-1' }), 'b-secret')
  t.equal(real.statusCode, 200, "B's real sender still gets 200")
  const stored = await app.inject({ method: 'GET', url: `/api/events/${real.json().id as string}`, headers: b })
  t.match(stored.json(), { payload: { eventId: 'real-1' }, brandId: brandB.id, env: 'live' }, "with B's transform, into B")
})

t.test("a brand's test key neither reads its live events and rejections nor changes a live endpoint", async (t) => {
  const aTest = await brandKey(brandA.id, 'test')
  const sent = await app.inject({ method: 'POST', url: '/api/events', headers: a, payload: { event: 'lead.captured.v1', payload: { eventId: randomUUID(), occurredAt: '2026-05-19T12:00:00Z', brandId: brandA.id, email: 'x@example.com', source: 'other', attribution: {} } } })
  t.equal(sent.statusCode, 200, sent.body)
  const liveId = sent.json().id as string
  await app.inject({ method: 'POST', url: '/api/events/types', headers: a, payload: { name: 'quiz.completed.v1', fields: { eventId: { type: 'string', required: true } }, source: 'custom', webhookPath: '/webhooks/a/live', secret: 'a-secret', transform: { eventId: '$.id' } } })
  t.equal((await signedPost('/webhooks/a/live', JSON.stringify({ nothing: true }), 'a-secret')).statusCode, 422)

  const events = await app.inject({ method: 'GET', url: '/api/events', headers: aTest })
  t.notOk((events.json().data as { id: string }[]).some((e) => e.id === liveId), 'the live event is not in the test key\'s list')
  t.equal((await app.inject({ method: 'GET', url: `/api/events/${liveId}`, headers: aTest })).statusCode, 404)
  const rejections = await app.inject({ method: 'GET', url: '/api/events/rejections', headers: aTest })
  t.same(rejections.json().data, [], 'nor are the live rejections')

  const endpoint = await app.inject({ method: 'POST', url: '/api/webhooks', headers: a, payload: { url: 'http://127.0.0.1:9/a-live', events: ['*'] } })
  t.equal(endpoint.statusCode, 201)
  const id = endpoint.json().id as string
  const patched = await app.inject({ method: 'PATCH', url: `/api/webhooks/${id}`, headers: aTest, payload: { url: 'http://127.0.0.1:9/elsewhere' } })
  t.equal(patched.statusCode, 404)
  const rotated = await app.inject({ method: 'POST', url: `/api/webhooks/${id}/rotate-secret`, headers: aTest })
  t.equal(rotated.statusCode, 404)
  t.notOk('secret' in rotated.json())
  const after = await app.inject({ method: 'GET', url: `/api/webhooks/${id}`, headers: a })
  t.equal(after.json().url, 'http://127.0.0.1:9/a-live')
  t.equal(after.json().previousSecretExpiresAt, null, 'the secret was never rotated')
})

t.test("brand A's key neither reads nor edits brand B's issues, nor sees B's webhook.failing alert", async (t) => {
  const issue = await app.inject({ method: 'POST', url: '/api/issues', headers: b, payload: { title: "B's private work" } })
  t.equal(issue.statusCode, 201)
  const issueId = issue.json().id as string
  t.equal((await app.inject({ method: 'GET', url: `/api/issues/${issueId}`, headers: a })).statusCode, 404)
  t.equal((await app.inject({ method: 'PATCH', url: `/api/issues/${issueId}`, headers: a, payload: { status: 'canceled' } })).statusCode, 404)
  t.notOk((await app.inject({ method: 'GET', url: '/api/issues', headers: a })).body.includes(issueId))
  t.equal((await app.inject({ method: 'GET', url: `/api/issues/${issueId}`, headers: b })).json().status, 'todo')

  const endpoint = await app.inject({ method: 'POST', url: '/api/webhooks', headers: b, payload: { url: 'http://127.0.0.1:9/b', events: ['lead.captured.v1'] } })
  const endpointId = endpoint.json().id as string
  await app.orm.em.fork().transactional(async (tx) => {
    await raiseEndpointFailing(tx as never, endpointId, { deliveryId: randomUUID(), eventType: 'lead.captured.v1', attempts: 6, statusCode: 500, error: null })
  })
  const ofA = await app.inject({ method: 'GET', url: '/api/signals?source=loop', headers: a })
  t.equal(ofA.statusCode, 200)
  t.same(ofA.json().data, [], "A sees none of B's alerts")
  const ofB = await app.inject({ method: 'GET', url: '/api/signals?source=loop', headers: b })
  t.match(ofB.json().data, [{ type: 'webhook.failing', sourceId: endpointId }], 'B sees its own')
})

t.test('no brand key holds admin: the operator cannot mint one, so none lists every brand or mints a brandless admin key', async (t) => {
  const minted = await app.inject({ method: 'POST', url: '/api/keys', headers: operator, payload: { name: 'brand admin', env: 'live', scopes: ['admin'], brandId: brandA.id } })
  t.equal(minted.statusCode, 422, minted.body)
  const viaBrand = await app.inject({ method: 'POST', url: '/api/brands', headers: operator, payload: { name: 'C', key: { scopes: ['admin'] } } })
  t.equal(viaBrand.statusCode, 422)
  // A brand key without admin: 403 on the operator's routes, and no other brand's endpoints.
  t.equal((await app.inject({ method: 'GET', url: '/api/keys', headers: a })).statusCode, 403)
  t.equal((await app.inject({ method: 'POST', url: '/api/keys', headers: a, payload: { name: 'escalate', env: 'live', scopes: ['admin'] } })).statusCode, 403)
})

t.test('a declaration whose route is refused leaves no type behind (type and route commit together)', async (t) => {
  const refused = await app.inject({ method: 'POST', url: '/api/events/types', headers: a, payload: { name: 'halfway.type.v1', fields: { eventId: { type: 'string', required: true } }, source: 'shopify', webhookPath: '/webhooks/elsewhere/x', secret: 'a-long-secret' } })
  t.equal(refused.statusCode, 422)
  t.equal((await app.inject({ method: 'GET', url: '/api/events/schema/halfway.type.v1', headers: a })).statusCode, 404, 'not declared')
  const taken = await app.inject({ method: 'POST', url: '/api/events/types', headers: a, payload: { name: 'halfway.other.v1', fields: { eventId: { type: 'string', required: true } }, source: 'custom', webhookPath: '/webhooks/b/quiz', secret: 'a-long-secret' } })
  t.equal(taken.statusCode, 409, taken.body)
  t.equal((await app.inject({ method: 'GET', url: '/api/events/schema/halfway.other.v1', headers: a })).statusCode, 404, 'not declared either')
  const fixed = await app.inject({ method: 'POST', url: '/api/events/types', headers: a, payload: { name: 'halfway.other.v1', fields: { eventId: { type: 'uuid', required: true } } } })
  t.equal(fixed.statusCode, 201, 'so a corrected declaration is a fresh one, not a 409 against the ghost')
})
