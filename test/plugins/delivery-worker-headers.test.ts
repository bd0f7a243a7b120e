// Custom headers per endpoint (docs/webhooks.md#custom-headers), end to end: a real receiver sees
// them on every attempt beside Loop's own, a PATCH changes what the next attempt sends, and no
// value ever reaches the log.
import t from 'tap'
import { Webhook } from 'standardwebhooks'
import { startReceiver, type Answer } from '../receiver.ts'
import { headerOf, register, sendLead, settledLog, startLoop } from '../webhook-api.ts'

t.test('custom headers are sent on every attempt, beside the signed headers, and a PATCH changes the next one', async (t) => {
  const loop = await startLoop(t)
  const receiver = await startReceiver(t, (request): Answer => request.n === 1 ? { status: 500 } : { status: 200 })
  const endpoint = await register(loop, receiver.url, ['lead.captured.v1'], { headers: { 'X-Api-Key': 'k_receiver_1', 'X-Tenant': 'acme' } })
  await sendLead(loop)
  const [delivery] = await settledLog(loop, endpoint.id)
  t.match(delivery, { status: 'succeeded', attemptCount: 2 })
  t.equal(receiver.requests.length, 2)
  for (const request of receiver.requests) {
    t.equal(headerOf(request, 'x-api-key'), 'k_receiver_1', `attempt ${request.n} carries X-Api-Key`)
    t.equal(headerOf(request, 'x-tenant'), 'acme')
    t.equal(headerOf(request, 'x-loop-event'), 'lead.captured.v1', "Loop's own headers are intact")
    t.ok(new Webhook(endpoint.secret).verify(request.body.toString(), request.headers as Record<string, string>), 'and still verify')
  }

  const patched = await loop.app.inject({ method: 'PATCH', url: `/api/webhooks/${endpoint.id}`, headers: loop.key, payload: { headers: { 'X-Api-Key': 'k_receiver_2', 'X-Tenant': null } } })
  t.equal(patched.statusCode, 200)
  await sendLead(loop)
  const [third] = await receiver.waitFor(3).then((all) => all.slice(2))
  t.equal(headerOf(third, 'x-api-key'), 'k_receiver_2', 'the new value')
  t.equal(headerOf(third, 'x-tenant'), undefined, 'the removed one is gone')
})

t.test('custom header values never reach the log, even at trace level, nor do refused ones', async (t) => {
  const lines: string[] = []
  const loop = await startLoop(t, { LOG_LEVEL: 'trace' }, { logStream: { write: (line) => { lines.push(line) } } })
  const receiver = await startReceiver(t, (request): Answer => request.n === 1 ? { status: 503 } : { status: 200 })
  const values = ['hv_created_5c1d9e', 'hv_patched_8a2b7f', 'hv_refused_3e4f6a', 'hv_broken_9d0c1b']
  const endpoint = await register(loop, receiver.url, ['lead.captured.v1'], { headers: { 'X-Api-Key': values[0] } })
  await loop.app.inject({ method: 'PATCH', url: `/api/webhooks/${endpoint.id}`, headers: loop.key, payload: { headers: { Authorization: values[1] } } })
  const refused = await loop.app.inject({ method: 'POST', url: '/api/webhooks', headers: loop.key, payload: { url: receiver.url, events: ['*'], headers: { Host: values[2] } } })
  t.equal(refused.statusCode, 422)
  const broken = await loop.app.inject({ method: 'POST', url: '/api/webhooks', headers: loop.key, payload: { url: receiver.url, events: ['*'], headers: { 'X-Api-Key': `${values[3]}\n` } } })
  t.equal(broken.statusCode, 422)
  await sendLead(loop)
  await settledLog(loop, endpoint.id)
  t.equal(headerOf(receiver.requests[1], 'authorization'), values[1], 'the values were sent')
  const log = lines.join('')
  t.ok(lines.length > 10, `${lines.length} log lines written`)
  for (const value of values) t.notOk(log.includes(value), `${value} is not in the log`)
})
