// Custom senders and the safety rails: declared at run time, signed, transformed by JSONPath,
// rejected when invalid (and kept for replay), never accepted unverified.
import t from 'tap'
import { createHmac } from 'node:crypto'
import { authHeaders, build, envelope } from '../../helper.ts'

const app = await build(t)
const admin = await authHeaders(app, ['schemas:write', 'events:read', 'events:write'])
const secret = 'custom-sender-secret'
const declare = (body: Record<string, unknown>) => app.inject({ method: 'POST', url: '/api/events/types', headers: admin, payload: body })
const send = (url: string, body: string, key = secret) =>
  app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json', 'x-loop-signature': createHmac('sha256', key).update(body).digest('hex') }, payload: body })

const signupFields = {
  eventId: { type: 'string', required: true },
  email: { type: 'email', required: true },
  plan: { type: 'enum', values: ['free', 'pro'], required: true }
}

t.test('a custom source declared at run time receives its first webhook with no restart', async (t) => {
  const declared = await declare({ name: 'acme.signup.v1', fields: signupFields, source: 'custom', webhookPath: '/webhooks/acme/signup', secret, transform: { eventId: '$.id', email: '$.user.email', plan: '$.user.plan' } })
  t.equal(declared.statusCode, 201, declared.body)
  const res = await send('/webhooks/acme/signup', JSON.stringify({ id: 'evt_1', user: { email: 'a@acme.dev', plan: 'pro' } }))
  t.equal(res.statusCode, 200, res.body)
  t.match(res.json(), { ok: true, id: /^[0-9a-f-]{36}$/, eventId: 'evt_1', event: 'acme.signup.v1', receivedAt: String })
  const wrong = await send('/webhooks/acme/signup', JSON.stringify({ id: 'evt_2' }), 'guess')
  t.equal(wrong.statusCode, 401)
})

t.test('an invalid transform result is 422 to the sender, kept with its issues, and replayable once fixed', async (t) => {
  await declare({ name: 'acme.signup.v1', source: 'custom', webhookPath: '/webhooks/acme/v2', secret, transform: { eventId: '$.id', email: '$.user.mail', plan: '$.user.plan' } })
  const body = JSON.stringify({ id: 'evt_9', user: { email: 'b@acme.dev', plan: 'pro' } })
  const res = await send('/webhooks/acme/v2', body)
  t.equal(res.statusCode, 422)
  t.same(res.json().error.issues, [{ path: 'email', message: 'Required', code: 'required' }])
  const list = await app.inject({ method: 'GET', url: '/api/events/rejections', headers: admin })
  const rejection = list.json().data.find((r: { webhookPath: string }) => r.webhookPath === '/webhooks/acme/v2')
  t.match(rejection, { event: 'acme.signup.v1', source: 'custom', body, issues: [{ path: 'email', code: 'required' }] })
  t.equal(rejection.headers['x-loop-signature'], undefined, 'signatures are not kept')
  t.equal(rejection.headers['content-type'], 'application/json')

  const stillBroken = await app.inject({ method: 'POST', url: `/api/events/rejections/${rejection.id}/replay`, headers: admin })
  t.equal(stillBroken.statusCode, 422)
  const fixed = await declare({ name: 'acme.signup.v1', source: 'custom', webhookPath: '/webhooks/acme/v2', transform: { eventId: '$.id', email: '$.user.email', plan: '$.user.plan' } })
  t.equal(fixed.statusCode, 200, 'the route is updated in place; the secret is kept')
  const replayed = await app.inject({ method: 'POST', url: `/api/events/rejections/${rejection.id}/replay`, headers: admin })
  t.equal(replayed.statusCode, 200, replayed.body)
  t.match(replayed.json(), { ok: true, id: /^[0-9a-f-]{36}$/, eventId: 'evt_9', event: 'acme.signup.v1' })
  const stored = await app.inject({ method: 'GET', url: `/api/events/${replayed.json().id as string}`, headers: admin })
  t.match(stored.json(), { id: replayed.json().id, eventId: 'evt_9', payload: { email: 'b@acme.dev' } }, "`id` is Loop's id of the stored event")
  const twice = await app.inject({ method: 'POST', url: `/api/events/rejections/${rejection.id}/replay`, headers: admin })
  t.equal(twice.statusCode, 409)
  const after = await send('/webhooks/acme/v2', JSON.stringify({ id: 'evt_10', user: { email: 'c@acme.dev', plan: 'free' } }))
  t.equal(after.statusCode, 200, 'the changed transform applies to new deliveries at once')
})

t.test('JSONPath that tries script evaluation is refused at declaration and has no effect', async (t) => {
  for (const expression of ["$..[?(@.constructor.constructor('return process')())]", '$[(@.length-1)]', "$[?(eval('1'))]"]) {
    const res = await declare({ name: 'acme.signup.v1', source: 'custom', webhookPath: '/webhooks/acme/evil', secret, transform: { eventId: expression, email: '$.e', plan: '$.p' } })
    t.equal(res.statusCode, 422, expression)
    t.same(res.json().error.issues.map((i: { path: string }) => i.path), ['transform.eventId'])
  }
  const unknown = await app.inject({ method: 'POST', url: '/webhooks/acme/evil', headers: { 'content-type': 'application/json' }, payload: '{}' })
  t.equal(unknown.statusCode, 404, 'no route was created')
  t.match(unknown.json(), envelope('NOT_FOUND'))
})

t.test("a transform's regular expression cannot stall Loop: search(@.name, '(a+)+b') on 28 a's answers at once, and /health meanwhile", async (t) => {
  const declared = await declare({
    name: 'acme.redos.v1',
    fields: { eventId: { type: 'string', required: true }, name: { type: 'string' } },
    source: 'custom',
    webhookPath: '/webhooks/acme/redos',
    secret,
    transform: { eventId: '$.id', name: "$.items[?search(@.name, '(a+)+b')].name" }
  })
  t.equal(declared.statusCode, 201, declared.body)
  const body = JSON.stringify({ id: 'evt_redos', items: [{ name: 'a'.repeat(28) }] })
  const timed = async <T>(work: Promise<T>) => { const started = performance.now(); const result = await work; return { result, ms: performance.now() - started } }
  // On V8's backtracking RegExp this one search held the event loop for 1.8 s, doubling per
  // character. /health is asked again and again while the delivery runs: a stall shows as a gap
  // between two of its answers, the time a /health caller would have waited.
  let settled = false
  const delivery = timed(send('/webhooks/acme/redos', body)).finally(() => { settled = true })
  let lastAnswer = performance.now()
  let longestWait = 0
  while (!settled) {
    const health = await app.inject({ method: 'GET', url: '/health' })
    if (health.statusCode !== 200) t.fail(`/health answered ${health.statusCode}`)
    // inject completes without I/O; let the delivery's database round trips in between.
    await new Promise((resolve) => setImmediate(resolve))
    longestWait = Math.max(longestWait, performance.now() - lastAnswer)
    lastAnswer = performance.now()
  }
  const { result, ms } = await delivery
  t.equal(result.statusCode, 200, result.body)
  t.match(result.json(), { ok: true, event: 'acme.redos.v1', id: String, eventId: 'evt_redos', receivedAt: String }, 'stored; the search simply did not match')
  t.ok(ms < 1000, `the delivery took ${ms.toFixed(0)} ms`)
  t.ok(longestWait < 1000, `/health waited at most ${longestWait.toFixed(0)} ms meanwhile`)
})

t.test('a regular expression RE2 cannot run is refused at declaration with the reason', async (t) => {
  const res = await declare({ name: 'acme.signup.v1', source: 'custom', webhookPath: '/webhooks/acme/lookahead', secret, transform: { eventId: "$.ids[?match(@, '(?=x)x')]", email: '$.e', plan: '$.p' } })
  t.equal(res.statusCode, 422)
  t.match(res.json(), envelope('VALIDATION_ERROR'))
  t.match(res.json().error.issues, [{ path: 'transform.eventId', code: 'invalid_string', message: /I-Regexp/ }])
})

t.test('a route without a secret refuses deliveries with 500 NOT_CONFIGURED', async (t) => {
  const declared = await declare({ name: 'acme.signup.v1', source: 'custom', webhookPath: '/webhooks/acme/open' })
  t.equal(declared.statusCode, 201)
  t.equal(declared.json().inbound.hasSecret, false)
  const res = await send('/webhooks/acme/open', JSON.stringify({ eventId: 'x', email: 'a@b.co', plan: 'free' }))
  t.equal(res.statusCode, 500)
  t.match(res.json(), envelope('NOT_CONFIGURED'))
})

t.test('declaration rules: source paths, known fields, built-in transforms', async (t) => {
  const wrongPrefix = await declare({ name: 'order.completed.v1', source: 'shopify', webhookPath: '/webhooks/orders', secret })
  t.equal(wrongPrefix.statusCode, 422)
  t.same(wrongPrefix.json().error.issues.map((i: { path: string }) => i.path), ['webhookPath'])
  const reserved = await declare({ name: 'acme.signup.v1', source: 'custom', webhookPath: '/webhooks/shopify/mine', secret })
  t.equal(reserved.statusCode, 422)
  const unknownField = await declare({ name: 'acme.signup.v1', source: 'custom', webhookPath: '/webhooks/acme/x', secret, transform: { nope: '$.a' } })
  t.same(unknownField.json().error.issues, [{ path: 'transform.nope', message: "The event type has no field 'nope'", code: 'unrecognized_keys' }])
  const noBuiltin = await declare({ name: 'acme.signup.v1', source: 'shopify', webhookPath: '/webhooks/shopify/acme', secret })
  t.same(noBuiltin.json().error.issues.map((i: { path: string }) => i.path), ['transform'])
  const taken = await declare({ name: 'lead.captured.v1', source: 'custom', webhookPath: '/webhooks/acme/signup', secret, transform: { eventId: '$.id' } })
  t.equal(taken.statusCode, 409, 'a path bound to another type')
  const undeclared = await declare({ name: 'ghost.thing.v1', source: 'custom', webhookPath: '/webhooks/ghost', secret })
  t.same(undeclared.json().error.issues.map((i: { path: string }) => i.path), ['fields'])
})

t.test("the seed's order.completed.v1 declaration: a Shopify route with the seed's transform", async (t) => {
  const res = await declare({
    name: 'order.completed.v1',
    source: 'shopify',
    webhookPath: '/webhooks/shopify/order-completed',
    secret,
    transform: { eventId: '$.id', occurredAt: '$.created_at', brandId: '$.note_attributes.brand_id', email: '$.email' }
  })
  t.equal(res.statusCode, 201, res.body)
  const body = JSON.stringify({ id: 1001, created_at: '2026-05-19T12:00:00Z', email: 'x@y.co', note_attributes: { brand_id: 'brand-7' } })
  const hmac = createHmac('sha256', secret).update(body).digest('base64')
  const received = await app.inject({ method: 'POST', url: '/webhooks/shopify/order-completed', headers: { 'content-type': 'application/json', 'x-shopify-hmac-sha256': hmac, 'x-shopify-topic': 'orders/create' }, payload: body })
  t.equal(received.statusCode, 200, received.body)
  t.equal(received.json().eventId, '1001', "the payload's eventId, as the transform made it")
  const event = (await app.inject({ method: 'GET', url: `/api/events/${received.json().id}`, headers: admin })).json()
  t.match(event.payload, { eventId: '1001', brandId: 'brand-7', email: 'x@y.co', source: 'shopify' })
})

t.test('an X-Loop-Signature body replayed under a fresh webhook-id is the same delivery (its hash identifies it)', async (t) => {
  // X-Loop-Signature covers the body alone; the webhook-id header is anyone's to change.
  const declared = await declare({ name: 'acme.note.v1', fields: { note: { type: 'string', required: true } }, source: 'custom', webhookPath: '/webhooks/acme/notes', secret, transform: { note: '$.note' } })
  t.equal(declared.statusCode, 201, declared.body)
  const body = JSON.stringify({ note: 'ship it' })
  const sign = createHmac('sha256', secret).update(body).digest('hex')
  const deliver = (webhookId: string) => app.inject({ method: 'POST', url: '/webhooks/acme/notes', headers: { 'content-type': 'application/json', 'x-loop-signature': sign, 'webhook-id': webhookId }, payload: body })
  const first = await deliver('msg_1')
  const replay = await deliver('msg_2')
  t.equal(first.statusCode, 200, first.body)
  t.equal(replay.statusCode, 200)
  t.equal(replay.json().duplicate, true)
  t.equal(replay.json().id, first.json().id, "the first event's id")
  t.equal(first.json().eventId, null, 'acme.note.v1 has no eventId field')
  const listed = await app.inject({ method: 'GET', url: '/api/events?event=acme.note.v1', headers: admin })
  t.equal(listed.json().data.length, 1, 'stored once')
})

t.test('a signed delivery nested deeper than LOOP_JSON_MAX_DEPTH is 400; 64 levels are stored', async (t) => {
  const declared = await declare({ name: 'acme.signup.v1', source: 'custom', webhookPath: '/webhooks/acme/deep', secret, transform: { eventId: '$.id', email: '$.user.email', plan: '$.user.plan' } })
  t.equal(declared.statusCode, 201, declared.body)
  // The body object is the first level; `extra` holds the other depth - 1.
  const body = (id: string, depth: number) => `{"id":"${id}","user":{"email":"d@acme.dev","plan":"pro"},"extra":${'{"a":'.repeat(depth - 1)}1${'}'.repeat(depth - 1)}}`
  const deep = await send('/webhooks/acme/deep', body('evt_deep_65', 65))
  t.equal(deep.statusCode, 400, deep.body)
  t.match(deep.json(), envelope('BAD_REQUEST'))
  t.match(deep.json().error.message, /nested more than 64 levels/)
  const huge = await send('/webhooks/acme/deep', `{"id":"evt_huge","x":${'['.repeat(20_000)}${']'.repeat(20_000)}}`)
  t.equal(huge.statusCode, 400, huge.body.slice(0, 200))
  t.match(huge.json(), envelope('BAD_REQUEST'))
  const fits = await send('/webhooks/acme/deep', body('evt_deep_64', 64))
  t.equal(fits.statusCode, 200, fits.body)
})
