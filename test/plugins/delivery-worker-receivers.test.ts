// Receivers are heard (docs/webhooks.md#delivery-schedule): real receivers on 127.0.0.1 answer
// 429 with Retry-After, 410, 503 then 200, or nothing at all, and the delivery log and the
// endpoint show what Loop made of each answer.
import t from 'tap'
import { eventually, startReceiver, type Answer } from '../receiver.ts'
import { deliveryLog, endpointStatus, register, sendLead, settledLog, startLoop, workerIdle, type Delivery, type Loop } from '../webhook-api.ts'

/** The delivery once its first `count` attempts are recorded. */
const afterAttempts = (loop: Loop, endpointId: string, count: number) => eventually(async () => {
  const [delivery] = await deliveryLog(loop, endpointId)
  return delivery !== undefined && delivery.attemptCount >= count ? delivery : undefined
}, 15_000, `attempt ${count}`)

/** Milliseconds from the last recorded attempt's start to the next attempt stored for it. */
const gapToNext = (delivery: Delivery) => Date.parse(delivery.nextAttemptAt ?? 'invalid') - Date.parse(delivery.attempts.at(-1)?.attemptedAt ?? 'invalid')

t.test('a 429 with Retry-After: 3 stores the next attempt 3 s later, not at the 100 ms of the schedule', async (t) => {
  const loop = await startLoop(t)
  const receiver = await startReceiver(t, (request): Answer => request.n === 1 ? { status: 429, headers: { 'retry-after': '3' } } : { status: 200 })
  const endpoint = await register(loop, receiver.url)
  await sendLead(loop)
  const delivery = await afterAttempts(loop, endpoint.id, 1)
  t.match(delivery, { status: 'pending', attemptCount: 1, attempts: [{ statusCode: 429 }] })
  const gap = gapToNext(delivery)
  t.ok(gap >= 2990 && gap <= 3500, `next attempt ${gap} ms after the first`)
  t.equal(receiver.requests.length, 1, 'no second request before then')
})

t.test('a 503 with Retry-After as an HTTP date is retried at that date, and then succeeds', async (t) => {
  const loop = await startLoop(t)
  const retryAt = new Date(Math.ceil((Date.now() + 2500) / 1000) * 1000)
  const receiver = await startReceiver(t, (request): Answer => request.n === 1 ? { status: 503, headers: { 'retry-after': retryAt.toUTCString() } } : { status: 200, body: 'back' })
  const endpoint = await register(loop, receiver.url)
  await sendLead(loop)
  const delivery = await afterAttempts(loop, endpoint.id, 1)
  const off = Date.parse(delivery.nextAttemptAt ?? 'invalid') - retryAt.getTime()
  t.ok(Math.abs(off) < 100, `the next attempt is the date the receiver named (${off} ms off: the record's own time)`)
  const [settled] = await settledLog(loop, endpoint.id)
  t.match(settled, { status: 'succeeded', attemptCount: 2, attempts: [{ attempt: 1, statusCode: 503 }, { attempt: 2, statusCode: 200, responseBody: 'back' }] })
  t.ok(Date.parse(settled?.attempts[1]?.attemptedAt ?? '') >= retryAt.getTime(), 'not before it')
})

t.test('a 503 then a 200 succeeds on the retry', async (t) => {
  const loop = await startLoop(t)
  const receiver = await startReceiver(t, (request): Answer => request.n === 1 ? { status: 503, body: 'busy' } : { status: 200, body: 'OK' })
  const endpoint = await register(loop, receiver.url)
  await sendLead(loop)
  const [delivery] = await settledLog(loop, endpoint.id)
  t.match(delivery, { status: 'succeeded', attemptCount: 2 })
  t.same(delivery?.attempts.map((a) => [a.statusCode, a.responseBody]), [[503, 'busy'], [200, 'OK']])
  t.equal(await endpointStatus(loop, endpoint.id), 'active')
  await workerIdle(loop)
  t.equal(receiver.requests.length, 2)
})

t.test('a 410 disables the endpoint at once: nothing more is sent until it is enabled again', async (t) => {
  const loop = await startLoop(t)
  let gone = true
  const receiver = await startReceiver(t, (): Answer => gone ? { status: 410, body: 'gone' } : { status: 200 })
  const endpoint = await register(loop, receiver.url)
  await sendLead(loop)
  await eventually(async () => (await endpointStatus(loop, endpoint.id)) === 'disabled' ? true : undefined, 10_000, 'the endpoint to be disabled')
  const [delivery] = await deliveryLog(loop, endpoint.id)
  t.match(delivery, { status: 'pending', attemptCount: 1, nextAttemptAt: null, attempts: [{ statusCode: 410, responseBody: 'gone' }] }, 'not retried: it waits, unscheduled')
  await sendLead(loop)
  await workerIdle(loop) // a retry (100 ms on this schedule) or the second event would have been sent by now
  t.equal(receiver.requests.length, 1, 'one request: the one answered 410')
  t.equal((await deliveryLog(loop, endpoint.id)).length, 1, 'no delivery queued for a disabled endpoint')

  gone = false
  const enabled = await loop.app.inject({ method: 'PATCH', url: `/api/webhooks/${endpoint.id}`, headers: loop.key, payload: { status: 'active' } })
  t.equal(enabled.statusCode, 200)
  t.equal(enabled.json().status, 'active')
  const [resent] = await settledLog(loop, endpoint.id)
  t.match(resent, { id: delivery?.id, status: 'succeeded', attemptCount: 2, attempts: [{ statusCode: 410 }, { statusCode: 200 }] }, 'enabling it sends what waited')
})

t.test("a hanging receiver times out after the endpoint's timeoutMs (1 s)", async (t) => {
  const loop = await startLoop(t, { LOOP_DELIVERY_SCHEDULE: '100ms' })
  const receiver = await startReceiver(t, () => ({ status: 200, delayMs: 20_000 }))
  const endpoint = await register(loop, receiver.url, ['lead.captured.v1'], { timeoutMs: 1000 })
  t.equal((endpoint as unknown as { timeoutMs: number }).timeoutMs, 1000)
  await sendLead(loop)
  const [delivery] = await settledLog(loop, endpoint.id)
  t.match(delivery, { status: 'failed', attempts: [{ statusCode: null, error: 'timed out after 1000 ms' }, { statusCode: null, error: 'timed out after 1000 ms' }] })
  for (const attempt of delivery?.attempts ?? []) t.ok(attempt.latencyMs >= 990 && attempt.latencyMs < 2500, `gave up after ${attempt.latencyMs} ms`)
})

t.test('retries are jittered: each stored next attempt is within ±20% of the 10 s delay, and they differ', async (t) => {
  const loop = await startLoop(t, { LOOP_DELIVERY_SCHEDULE: '10s' })
  const receiver = await startReceiver(t, () => ({ status: 500 }))
  const endpoint = await register(loop, receiver.url)
  for (let i = 0; i < 8; i++) await sendLead(loop)
  const log = await eventually(async () => {
    const deliveries = await deliveryLog(loop, endpoint.id)
    return deliveries.length === 8 && deliveries.every((d) => d.attemptCount === 1) ? deliveries : undefined
  }, 15_000, 'first attempts')
  const gaps = log.map(gapToNext)
  t.ok(gaps.every((gap) => gap >= 8000 && gap <= 12_500), `gaps ${gaps.join(', ')} ms within [8000, 12000] plus the attempt's own time`)
  t.ok(new Set(gaps).size > 1, 'not all the same')
})
