// rateLimit (docs/webhooks.md#rate-limit): messages per second per endpoint, one bucket for every
// instance; the excess waits in the queue and nothing is dropped.
import t from 'tap'
import { envelope } from '../helper.ts'
import { startReceiver } from '../receiver.ts'
import { headerOf, sendLead, settledLog, startLoop, workerIdle } from '../webhook-api.ts'

t.test('rateLimit is part of the endpoint: 1 to 10000 a second, null lifts it, anything else 422', async (t) => {
  const loop = await startLoop(t, {}, { deliveryWorker: false })
  const created = await loop.app.inject({ method: 'POST', url: '/api/webhooks', headers: loop.key, payload: { url: 'http://127.0.0.1:9/a', events: ['*'], rateLimit: 20 } })
  t.equal(created.json().rateLimit, 20)
  const plain = await loop.app.inject({ method: 'POST', url: '/api/webhooks', headers: loop.key, payload: { url: 'http://127.0.0.1:9/b', events: ['*'] } })
  t.equal(plain.json().rateLimit, null)
  const lifted = await loop.app.inject({ method: 'PATCH', url: `/api/webhooks/${created.json().id}`, headers: loop.key, payload: { rateLimit: null } })
  t.equal(lifted.json().rateLimit, null)
  for (const rateLimit of [0, 10001, 2.5, '5']) {
    const bad = await loop.app.inject({ method: 'POST', url: '/api/webhooks', headers: loop.key, payload: { url: 'http://127.0.0.1:9/c', events: ['*'], rateLimit } })
    t.equal(bad.statusCode, 422, `rateLimit ${JSON.stringify(rateLimit)} is refused`)
    t.match(bad.json(), envelope('VALIDATION_ERROR'))
  }
})

t.test('two instances share one endpoint limit of 5 a second: 30 messages take 5 s, all arrive once', async (t) => {
  const a = await startLoop(t)
  const b = await startLoop(t, {}, { databaseUrl: a.databaseUrl }, a.key)
  const receiver = await startReceiver(t)
  const res = await a.app.inject({ method: 'POST', url: '/api/webhooks', headers: a.key, payload: { url: receiver.url, events: ['lead.captured.v1'], rateLimit: 5 } })
  t.equal(res.statusCode, 201)
  const endpoint = res.json()
  const sent: string[] = []
  for (let i = 0; i < 30; i++) sent.push((await sendLead(i % 2 === 0 ? a : b)).id)
  const log = await settledLog(a, endpoint.id, 30)
  await workerIdle(a, b)
  t.same(log.map((d) => d.status), Array(30).fill('succeeded'), 'nothing dropped')
  t.same(receiver.requests.map((r) => headerOf(r, 'webhook-id')).sort(), [...sent].sort(), 'each message once')
  const times = receiver.requests.map((r) => r.at)
  const span = Math.max(...times) - Math.min(...times)
  // A full bucket of 5 at once, then 5 a second: the 30th about 5 s after the first. Two
  // instances each with its own bucket would have taken half that.
  t.ok(span >= 4500, `30 messages over ${span} ms (at least 4.5 s)`)
  const busiest = Math.max(...times.map((start) => times.filter((at) => at >= start && at < start + 1000).length))
  t.ok(busiest <= 10, `at most the bucket and one second's refill in any second (${busiest})`)
  t.ok((a.app.deliveryWorker?.attemptsMade ?? 0) > 0 && (b.app.deliveryWorker?.attemptsMade ?? 0) > 0, 'both instances delivered')
})

t.test("one endpoint's limit does not slow another endpoint", async (t) => {
  const loop = await startLoop(t)
  const limited = await startReceiver(t)
  const free = await startReceiver(t)
  await loop.app.inject({ method: 'POST', url: '/api/webhooks', headers: loop.key, payload: { url: limited.url, events: ['lead.captured.v1'], rateLimit: 1 } })
  await loop.app.inject({ method: 'POST', url: '/api/webhooks', headers: loop.key, payload: { url: free.url, events: ['lead.captured.v1'] } })
  const started = Date.now()
  for (let i = 0; i < 10; i++) await sendLead(loop)
  await free.waitFor(10, 3000)
  t.ok(Date.now() - started < 3000, 'the unlimited endpoint got all 10 at once')
  t.ok(limited.requests.length <= 4, `the limited one got ${limited.requests.length} so far (1 a second)`)
})
