// The delivery worker end to end: real PostgreSQL, real HTTP receivers on 127.0.0.1, Loop's own
// API to register endpoints, send events and read the delivery log.
import t from 'tap'
import { createHmac, randomUUID } from 'node:crypto'
import { Webhook } from 'standardwebhooks'
import { authHeaders, operatorHeaders, testSecrets } from '../helper.ts'
import { eventually, seedExpressReceiver, startReceiver, type Answer } from '../receiver.ts'
import { deliveryLog, endpointStatus, headerOf, register, sendLead, settledLog, startLoop, workerIdle } from '../webhook-api.ts'
import { loopSignature } from '../../lib/signing/outbound.ts'
import { createKey } from '../../lib/keys/key-service.ts'
import { sql } from '../../lib/db/sql.ts'
import type { EntityManager } from '@mikro-orm/postgresql'

t.test("an Express receiver as docs/webhooks.md#receivers shows accepts Loop's deliveries and standardwebhooks verifies the same ones", async (t) => {
  const loop = await startLoop(t)
  let secret = ''
  const receiver = await startReceiver(t, (request) => seedExpressReceiver(secret)(request))
  const endpoint = await register(loop, receiver.url)
  secret = endpoint.secret
  const sent = await sendLead(loop)

  const [log] = [await settledLog(loop, endpoint.id)]
  const delivery = log[0]
  t.match(delivery, { messageId: sent.id, eventType: 'lead.captured.v1', status: 'succeeded', attemptCount: 1 })
  t.match(delivery?.attempts, [{ attempt: 1, statusCode: 200, error: null, responseBody: 'OK' }], "the seed's signature check passed: it answered 200 OK")

  const request = receiver.requests[0]
  t.equal(receiver.requests.length, 1)
  t.equal(request?.method, 'POST')
  const body = request?.body.toString('utf8') ?? ''
  t.same(JSON.parse(body), { id: sent.id, type: 'lead.captured.v1', createdAt: sent.receivedAt, data: sent.payload })
  t.same(Object.keys(JSON.parse(body)), ['id', 'type', 'createdAt', 'data'])
  t.match(request?.headers, { 'content-type': 'application/json', 'x-loop-event': 'lead.captured.v1', 'x-loop-delivery': delivery?.id, 'webhook-id': sent.id })
  t.same(new Webhook(secret).verify(body, request?.headers as Record<string, string>), JSON.parse(body), 'standardwebhooks verifies the same delivery')
  t.throws(() => new Webhook(`whsec_${Buffer.alloc(32, 1).toString('base64')}`).verify(body, request?.headers as Record<string, string>), 'and another secret does not')
})

t.test('after a rotation both secrets sign for 24 hours: webhook-signature twice, X-Loop-Signature new, X-Loop-Signature-Previous old', async (t) => {
  const loop = await startLoop(t)
  const receiver = await startReceiver(t)
  const endpoint = await register(loop, receiver.url)
  const rotated = await loop.app.inject({ method: 'POST', url: `/api/webhooks/${endpoint.id}/rotate-secret`, headers: loop.key })
  t.equal(rotated.statusCode, 200)
  const newSecret: string = rotated.json().secret
  t.not(newSecret, endpoint.secret)
  t.ok(Date.parse(rotated.json().previousSecretExpiresAt) > Date.now() + 23 * 3600_000, 'the old secret signs for 24 hours')
  await sendLead(loop)
  const [request] = await receiver.waitFor(1)
  const body = request?.body.toString('utf8') ?? ''
  const headers = request?.headers as Record<string, string>
  t.equal(headers['x-loop-signature'], loopSignature(body, newSecret))
  t.equal(headers['x-loop-signature-previous'], loopSignature(body, endpoint.secret))
  t.equal(headers['webhook-signature']?.split(' ').length, 2)
  t.ok(new Webhook(newSecret).verify(body, headers), 'the new secret verifies')
  t.ok(new Webhook(endpoint.secret).verify(body, headers), 'the old secret still verifies')
})

t.test('a receiver failing 3 times then succeeding gets one successful delivery after 4 attempts, logged in order', async (t) => {
  const loop = await startLoop(t)
  const receiver = await startReceiver(t, (request): Answer => request.n <= 3 ? { status: 500, body: `failure ${request.n}` } : { status: 200, body: 'OK' })
  const endpoint = await register(loop, receiver.url)
  const sent = await sendLead(loop)
  const [delivery] = await settledLog(loop, endpoint.id)
  await workerIdle(loop) // a wrongful fifth attempt would have been made by now
  t.equal(receiver.requests.length, 4, 'exactly 4 requests')
  t.equal(receiver.requests.filter((r) => r.n === 4).length, 1, 'one of them answered 200')
  t.match(delivery, { messageId: sent.id, status: 'succeeded', attemptCount: 4 })
  t.same(delivery?.attempts.map((a) => [a.attempt, a.statusCode]), [[1, 500], [2, 500], [3, 500], [4, 200]])
  t.same(delivery?.attempts.map((a) => a.responseBody), ['failure 1', 'failure 2', 'failure 3', 'OK'])
  const times = delivery?.attempts.map((a) => Date.parse(a.attemptedAt)) ?? []
  for (let i = 1; i < times.length; i++) t.ok((times[i] ?? 0) - (times[i - 1] ?? 0) >= 79, `attempt ${i + 1} waited for the schedule (100 ms, -20% at most)`)
  // Same message on every attempt: same ids, same bytes; only the timestamp and its signature change.
  t.equal(new Set(receiver.requests.map((r) => headerOf(r, 'webhook-id'))).size, 1)
  t.equal(new Set(receiver.requests.map((r) => headerOf(r, 'x-loop-delivery'))).size, 1)
  t.equal(new Set(receiver.requests.map((r) => r.body.toString('base64'))).size, 1)
})

t.test('an endpoint that always fails ends failing with exactly one alert; a later success makes it active', async (t) => {
  const loop = await startLoop(t)
  let healthy = false
  const failing = await startReceiver(t, () => healthy ? { status: 200 } : { status: 503, body: 'down' })
  const watcher = await startReceiver(t)
  const endpoint = await register(loop, failing.url)
  const alerts = await register(loop, watcher.url, ['webhook.failing'])
  await sendLead(loop)
  await sendLead(loop)

  const log = await settledLog(loop, endpoint.id, 2)
  t.same(log.map((d) => [d.status, d.attemptCount]), [['failed', 6], ['failed', 6]], 'attempt 1 and 5 retries, each')
  t.equal(await endpointStatus(loop, endpoint.id), 'failing')
  const [alert] = await watcher.waitFor(1)
  await workerIdle(loop) // a second alert would have been queued with the second exhaustion, and sent by now
  t.equal(watcher.requests.length, 1, 'one alert for one transition, though two deliveries exhausted their retries')
  t.equal(headerOf(alert, 'x-loop-event'), 'webhook.failing')
  t.match(JSON.parse(alert?.body.toString() ?? '{}'), { type: 'webhook.failing', data: { endpoint: { id: endpoint.id, url: failing.url, status: 'failing' }, delivery: { attempts: 6, lastStatusCode: 503 } } })
  t.equal((await settledLog(loop, alerts.id))[0]?.status, 'succeeded')
  t.equal(failing.requests.filter((r) => headerOf(r, 'x-loop-event') === 'webhook.failing').length, 0, 'the failing endpoint is not alerted about itself')
  // The alert belongs to the endpoint's brand: the operator sees it, another brand does not.
  const reader = await operatorHeaders(loop.app, ['signals:read', 'issues:read'])
  const signals = (await loop.app.inject({ method: 'GET', url: '/api/signals?source=loop', headers: reader })).json().data
  t.equal(signals.length, 1, 'one alert signal')
  const stranger = await authHeaders(loop.app, ['signals:read'])
  t.same((await loop.app.inject({ method: 'GET', url: '/api/signals?source=loop', headers: stranger })).json().data, [], 'another brand sees none of it')
  t.match(signals[0], { source: 'loop', type: 'webhook.failing', severity: 'high', sourceId: endpoint.id })
  const issue = (await loop.app.inject({ method: 'GET', url: `/api/issues/${signals[0].issueId}`, headers: reader })).json()
  t.match(issue, { type: 'signal', status: 'triage', priority: 2, title: /^Loop: webhook endpoint failing: http:\/\/127\.0\.0\.1:\d+ / })

  healthy = true
  const test = await loop.app.inject({ method: 'POST', url: `/api/webhooks/${endpoint.id}/test`, headers: loop.key })
  t.equal(test.statusCode, 202)
  await eventually(async () => (await endpointStatus(loop, endpoint.id)) === 'active' ? true : undefined, 10_000, 'endpoint to recover')
  t.pass('a successful delivery made it active again')
})

t.test('killing the server between attempts loses nothing: another instance on the same database finishes the delivery', async (t) => {
  const first = await startLoop(t, { LOOP_DELIVERY_SCHEDULE: '1500ms,100ms' })
  const receiver = await startReceiver(t, (request): Answer => request.n === 1 ? { status: 502 } : { status: 200 })
  const endpoint = await register(first, receiver.url)
  const sent = await sendLead(first)
  await eventually(async () => (await deliveryLog(first, endpoint.id))[0]?.attemptCount === 1 ? true : undefined, 10_000, 'attempt 1')
  await first.app.close()
  t.equal(receiver.requests.length, 1, 'only attempt 1 was made before the restart')

  const second = await startLoop(t, { LOOP_DELIVERY_SCHEDULE: '1500ms,100ms' }, { databaseUrl: first.databaseUrl }, first.key)
  const [delivery] = await settledLog(second, endpoint.id)
  t.match(delivery, { messageId: sent.id, status: 'succeeded', attemptCount: 2 })
  t.same(delivery?.attempts.map((a) => [a.attempt, a.statusCode]), [[1, 502], [2, 200]])
  t.equal(receiver.requests.length, 2)
})

t.test('closing the app waits for the attempt in flight and records it', async (t) => {
  const loop = await startLoop(t)
  const receiver = await startReceiver(t, () => ({ status: 200, body: 'slow OK', delayMs: 600 }))
  const endpoint = await register(loop, receiver.url)
  await sendLead(loop)
  await receiver.waitFor(1)
  await loop.app.close()
  const after = await startLoop(t, {}, { databaseUrl: loop.databaseUrl, deliveryWorker: false }, loop.key)
  const [delivery] = await deliveryLog(after, endpoint.id)
  t.match(delivery, { status: 'succeeded', attemptCount: 1, attempts: [{ attempt: 1, statusCode: 200, responseBody: 'slow OK' }] })
})

t.test('closing the app abandons an attempt still waiting after the drain time: not recorded, back in the queue, sent again by the next instance', async (t) => {
  const loop = await startLoop(t, {}, { deliveryWorker: { drainMs: 300 } })
  // The first request hangs (its 30 s timeout outlasts any close); the next is answered.
  const receiver = await startReceiver(t, (request): Answer | Promise<Answer> => request.n === 1 ? new Promise<Answer>(() => {}) : { status: 200 })
  const endpoint = await register(loop, receiver.url, ['lead.captured.v1'], { timeoutMs: 30_000 })
  const sent = await sendLead(loop)
  await receiver.waitFor(1)
  const closing = Date.now()
  await loop.app.close()
  const closedIn = Date.now() - closing
  t.ok(closedIn < 5000, `closed in ${closedIn} ms, not after the receiver's 30 s`)

  const after = await startLoop(t, {}, { databaseUrl: loop.databaseUrl, deliveryWorker: false }, loop.key)
  const [parked] = await deliveryLog(after, endpoint.id)
  t.match(parked, { messageId: sent.id, status: 'pending', attemptCount: 0, attempts: [] }, 'no attempt recorded: its outcome is unknown')
  const [row] = await sql<{ locked: boolean }>(after.app.orm.em.fork() as unknown as EntityManager, 'select locked_until is not null as locked from webhook_delivery where endpoint_id = ?', [endpoint.id])
  t.equal(row?.locked, false, 'its lease released, so nobody waits for it to lapse')
  await after.app.close()

  const next = await startLoop(t, {}, { databaseUrl: loop.databaseUrl }, loop.key)
  const [delivered] = await settledLog(next, endpoint.id)
  t.match(delivered, { status: 'succeeded', attemptCount: 1, attempts: [{ attempt: 1, statusCode: 200 }] })
  t.equal(headerOf(receiver.requests[1]!, 'webhook-id'), headerOf(receiver.requests[0]!, 'webhook-id'), 'sent again under the same webhook-id, for the receiver to deduplicate')
})

t.test('at send time a private destination is refused without any request, even if it was allowed at registration', async (t) => {
  const permissive = await startLoop(t)
  const receiver = await startReceiver(t)
  const endpoint = await register(permissive, receiver.url)
  await permissive.app.close()
  const strict = await startLoop(t, { LOOP_ALLOW_PRIVATE_URLS: 'false', LOOP_DELIVERY_SCHEDULE: '100ms' }, { databaseUrl: permissive.databaseUrl }, permissive.key)
  const queued = await strict.app.inject({ method: 'POST', url: `/api/webhooks/${endpoint.id}/test`, headers: strict.key })
  t.equal(queued.statusCode, 202)
  const [delivery] = await settledLog(strict, endpoint.id)
  t.match(delivery, { eventType: 'webhook.test', status: 'failed', attemptCount: 2 })
  t.match(delivery?.attempts[0], { statusCode: null, error: 'refused: 127.0.0.1 is a loopback address' })
  t.equal(receiver.requests.length, 0, 'no request was made')
})

t.test('redirects are not followed, a slow receiver times out, and only 4 KB of a response is kept', async (t) => {
  const loop = await startLoop(t, { LOOP_DELIVERY_SCHEDULE: '100ms' }, { deliveryWorker: { timeoutMs: 300 } })
  const target = await startReceiver(t)
  const redirecting = await startReceiver(t, () => ({ status: 302, headers: { location: target.url } }))
  const slow = await startReceiver(t, () => ({ status: 200, delayMs: 2000 }))
  const chatty = await startReceiver(t, () => ({ status: 200, body: 'x'.repeat(20_000) }))
  const [toRedirect, toSlow, toChatty] = [await register(loop, redirecting.url), await register(loop, slow.url), await register(loop, chatty.url)]
  await sendLead(loop)

  const [redirected] = await settledLog(loop, toRedirect.id)
  t.match(redirected, { status: 'failed', attempts: [{ statusCode: 302, error: `redirect to ${target.url} not followed` }, { statusCode: 302 }] })
  t.equal(target.requests.length, 0, 'the redirect target was never called')
  const [timedOut] = await settledLog(loop, toSlow.id)
  t.match(timedOut, { status: 'failed', attempts: [{ statusCode: null, error: 'timed out after 300 ms' }, { statusCode: null }] })
  t.ok((timedOut?.attempts[0]?.latencyMs ?? 0) >= 290)
  const [long] = await settledLog(loop, toChatty.id)
  t.equal(long?.status, 'succeeded')
  t.equal(long?.attempts[0]?.responseBody?.length, 4096)
})

t.test('a GitHub signal reaches a brandless endpoint as signal.created and issue.created, signed like any delivery', async (t) => {
  const loop = await startLoop(t)
  const { secret: adminKey } = await createKey(loop.app.orm.em.fork(), { name: 'ops', env: 'live', scopes: ['admin'], brandId: null })
  const ops = { ...loop, key: { authorization: `Bearer ${adminKey}` } }
  const receiver = await startReceiver(t)
  const endpoint = await register(ops, receiver.url, ['signal.*', 'issue.*'])
  const branded = await startReceiver(t)
  await register(loop, branded.url, ['*'])
  const body = JSON.stringify({ action: 'opened', issue: { title: 'Crash on login', labels: [{ name: 'bug' }] }, repository: { full_name: 'octo/app' } })
  const signed = await loop.app.inject({
    method: 'POST',
    url: '/api/signals/github',
    headers: { 'content-type': 'application/json', 'x-github-event': 'issues', 'x-github-delivery': randomUUID(), 'x-hub-signature-256': `sha256=${createHmac('sha256', testSecrets.GITHUB_WEBHOOK_SECRET).update(body).digest('hex')}` },
    payload: body
  })
  t.equal(signed.statusCode, 201, signed.body)
  const { signalId, issueId } = signed.json()
  const requests = await receiver.waitFor(2)
  const messages = requests.map((r) => JSON.parse(r.body.toString())).sort((a, b) => a.type.localeCompare(b.type))
  t.match(messages, [{ type: 'issue.created', data: { id: issueId, type: 'signal', status: 'triage', signalId } }, { type: 'signal.created', data: { id: signalId, source: 'github', issueId } }])
  for (const request of requests) t.ok(new Webhook(endpoint.secret).verify(request.body.toString(), request.headers as Record<string, string>))
  await workerIdle(loop)
  t.equal(branded.requests.length, 0, "a brand's endpoint gets no signals: they belong to no brand")
})

t.test('secrets never reach the log, even at trace level', async (t) => {
  const lines: string[] = []
  const loop = await startLoop(t, { LOG_LEVEL: 'trace' }, { logStream: { write: (line) => { lines.push(line) } } })
  const receiver = await startReceiver(t, (request): Answer => request.n === 1 ? { status: 500 } : { status: 200 })
  const endpoint = await register(loop, receiver.url)
  const rotated = (await loop.app.inject({ method: 'POST', url: `/api/webhooks/${endpoint.id}/rotate-secret`, headers: loop.key })).json()
  await sendLead(loop)
  await settledLog(loop, endpoint.id)
  const log = lines.join('')
  t.ok(lines.length > 10, `${lines.length} log lines written`)
  for (const secret of [endpoint.secret, rotated.secret, endpoint.secret.slice(6), rotated.secret.slice(6)]) t.notOk(log.includes(secret), 'no secret in the log')
  for (const request of receiver.requests) {
    for (const header of ['x-loop-signature', 'x-loop-signature-previous', 'webhook-signature']) t.notOk(log.includes(String(request.headers[header])), `no ${header} in the log`)
  }
})
