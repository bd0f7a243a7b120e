import t from 'tap'
import { authHeaders, envelope } from '../../../helper.ts'
import { eventually, startReceiver, type Answer } from '../../../receiver.ts'
import { allScopes, deliveryLog, register, settledLog, startLoop, workerIdle, type Loop } from '../../../webhook-api.ts'
import { sql } from '../../../../lib/db/sql.ts'

// One retry 100 ms after the first attempt: a failing receiver exhausts a delivery in a blink.
const loop = await startLoop(t, { LOOP_DELIVERY_SCHEDULE: '100ms' })
const HOUR = 60 * 60 * 1000
const ago = (ms: number) => new Date(Date.now() - ms).toISOString()

const post = (target: Loop, url: string, payload: unknown, headers = target.key) => target.app.inject({ method: 'POST', url, headers, payload: payload as Record<string, unknown> })
const queueTest = async (target: Loop, endpointId: string): Promise<string> => (await post(target, `/api/webhooks/${endpointId}/test`, undefined)).json().id
const backdate = async (target: Loop, deliveryId: string, ms: number) =>
  await sql(target.app.orm.em.fork(), "update webhook_delivery set created_at = now() - ? * interval '1 millisecond' where id = ?", [ms, deliveryId])
const statusesOf = async (target: Loop, endpointId: string) => new Map((await deliveryLog(target, endpointId)).map((d) => [d.id, d.status]))

t.test("recovering a window re-queues the endpoint's failed deliveries created in it, and they are delivered", async (t) => {
  let healthy = false
  const receiver = await startReceiver(t, (): Answer => healthy ? { status: 200 } : { status: 500 })
  const endpoint = await register(loop, receiver.url)
  const inWindow = [await queueTest(loop, endpoint.id), await queueTest(loop, endpoint.id)]
  const before = await queueTest(loop, endpoint.id)
  await settledLog(loop, endpoint.id, 3)
  await backdate(loop, before, 3 * 24 * HOUR)
  healthy = true
  const succeeded = await queueTest(loop, endpoint.id)
  await settledLog(loop, endpoint.id, 4)
  t.equal(receiver.requests.length, 7, 'two attempts each for the three failed, one for the succeeded')

  const res = await post(loop, `/api/webhooks/${endpoint.id}/recover`, { since: ago(HOUR) })
  t.equal(res.statusCode, 202, res.body)
  t.match(res.json(), { requeued: 2, since: String, until: String })
  t.ok(Math.abs(Date.parse(res.json().until) - Date.now()) < 60_000, 'until is now when left out')

  const log = await settledLog(loop, endpoint.id, 4)
  const byId = new Map(log.map((d) => [d.id, d]))
  for (const id of inWindow) {
    t.match(byId.get(id), { status: 'succeeded', attemptCount: 3 }, 'a re-queued delivery is sent again')
    t.same(byId.get(id)?.attempts.map((a) => a.statusCode), [500, 500, 200])
  }
  t.match(byId.get(before), { status: 'failed', attemptCount: 2 }, 'a failure created before the window stays as it was')
  t.match(byId.get(succeeded), { status: 'succeeded', attemptCount: 1 }, 'a success is never sent again')
  await workerIdle(loop)
  t.equal(receiver.requests.length, 9, 'exactly the two recovered deliveries reached the receiver again')
  const resent = receiver.requests.slice(7).map((r) => r.headers['x-loop-delivery']).sort()
  t.same(resent, [...inWindow].sort())

  const again = await post(loop, `/api/webhooks/${endpoint.id}/recover`, { since: ago(HOUR) })
  t.match(again.json(), { requeued: 0 }, 'nothing failed is left in the window')
})

t.test('a recovered delivery that fails again is one attempt, not a new schedule', async (t) => {
  const receiver = await startReceiver(t, () => ({ status: 503 }))
  const endpoint = await register(loop, receiver.url)
  const id = await queueTest(loop, endpoint.id)
  await settledLog(loop, endpoint.id)
  const res = await post(loop, `/api/webhooks/${endpoint.id}/recover`, { since: ago(HOUR), until: new Date(Date.now() + HOUR).toISOString() })
  t.match(res.json(), { requeued: 1 })
  await eventually(async () => {
    const [delivery] = await deliveryLog(loop, endpoint.id)
    return delivery?.status === 'failed' && delivery.attemptCount === 3 ? delivery : undefined
  }, 10_000, 'the recovered attempt')
  await workerIdle(loop)
  t.equal(receiver.requests.length, 3)
  t.equal((await statusesOf(loop, endpoint.id)).get(id), 'failed')
})

t.test("another brand's endpoint, an unknown one and a disabled one cannot be recovered", async (t) => {
  const endpoint = await register(loop, 'http://127.0.0.1:9/recover-tenancy')
  const otherBrand = await authHeaders(loop.app, ['webhooks:manage'])
  const foreign = await post(loop, `/api/webhooks/${endpoint.id}/recover`, { since: ago(HOUR) }, otherBrand)
  t.equal(foreign.statusCode, 404)
  t.match(foreign.json(), envelope('NOT_FOUND'))
  const unknown = await post(loop, '/api/webhooks/00000000-0000-4000-8000-000000000000/recover', { since: ago(HOUR) })
  t.equal(unknown.statusCode, 404)
  const bulkForeign = await post(loop, '/api/webhooks/recover', { since: ago(HOUR), endpointIds: [endpoint.id] }, otherBrand)
  t.equal(bulkForeign.statusCode, 404, 'nor in the bulk form')
  t.match(bulkForeign.json(), envelope('NOT_FOUND'))
  const reader = await authHeaders(loop.app, ['events:read'])
  t.equal((await post(loop, `/api/webhooks/${endpoint.id}/recover`, { since: ago(HOUR) }, reader)).statusCode, 403, 'webhooks:manage is needed')

  await loop.app.inject({ method: 'PATCH', url: `/api/webhooks/${endpoint.id}`, headers: loop.key, payload: { status: 'disabled' } })
  const disabled = await post(loop, `/api/webhooks/${endpoint.id}/recover`, { since: ago(HOUR) })
  t.equal(disabled.statusCode, 409)
  t.match(disabled.json(), envelope('CONFLICT'))
})

t.test('a window that is not one, or is wider than 14 days, is 422 and says so', async (t) => {
  const endpoint = await register(loop, 'http://127.0.0.1:9/recover-window')
  const recover = (payload: unknown) => post(loop, `/api/webhooks/${endpoint.id}/recover`, payload)
  const anHourAgo = ago(HOUR)
  const cases: [unknown, string, RegExp][] = [
    [{ since: ago(15 * 24 * HOUR) }, 'since', /at most 14 days wide; this one is 15 days/],
    [{ since: ago(10 * 24 * HOUR), until: new Date(Date.now() + 5 * 24 * HOUR).toISOString() }, 'since', /at most 14 days/],
    [{ since: ago(HOUR), until: ago(2 * HOUR) }, 'until', /later than since/],
    [{ since: anHourAgo, until: anHourAgo }, 'until', /later than since/],
    [{ since: new Date(Date.now() + HOUR).toISOString() }, 'since', /in the past/],
    [{ until: ago(HOUR) }, 'since', /required/i],
    [{ since: 'yesterday' }, 'since', /date-time/],
    [{ since: ago(HOUR), status: 'failed' }, 'status', /recognized/]
  ]
  for (const [payload, path, message] of cases) {
    const res = await recover(payload)
    t.equal(res.statusCode, 422, JSON.stringify(payload))
    t.match(res.json(), envelope('VALIDATION_ERROR'))
    t.match(res.json().error.issues, [{ path }], `${JSON.stringify(payload)} names ${path}`)
    t.match(res.json().error.message, message)
  }
  const bulk = await post(loop, '/api/webhooks/recover', { since: ago(15 * 24 * HOUR) })
  t.equal(bulk.statusCode, 422, 'the bulk form has the same bounds')
  t.match(bulk.json().error.message, /at most 14 days/)
  t.equal((await post(loop, '/api/webhooks/recover', { since: ago(HOUR), endpointIds: [] })).statusCode, 422, 'an empty list of endpoints')
  t.equal((await post(loop, '/api/webhooks/recover', { since: ago(HOUR), endpointIds: ['nope'] })).statusCode, 422)
})

t.test('more than 10,000 failed deliveries in the window is 422 and re-queues none; 10,000 are re-queued', async (t) => {
  // No worker: the 10,000 re-queued deliveries are counted, not sent.
  const quiet = await startLoop(t, {}, { deliveryWorker: false })
  const endpoint = await register(quiet, 'http://127.0.0.1:9/recover-limit')
  const em = quiet.app.orm.em.fork()
  await sql(em,
    `insert into webhook_delivery (endpoint_id, message_id, event_type, body, status, attempt_count)
     select ?, gen_random_uuid(), 'webhook.test', '{}', 'failed', 6 from generate_series(1, 10001)`,
    [endpoint.id])
  const failedCount = async () => (await sql<{ n: number }>(em, "select count(*)::int as n from webhook_delivery where endpoint_id = ? and status = 'failed'", [endpoint.id]))[0]?.n
  const tooMany = await post(quiet, `/api/webhooks/${endpoint.id}/recover`, { since: ago(HOUR) })
  t.equal(tooMany.statusCode, 422)
  t.match(tooMany.json(), envelope('VALIDATION_ERROR'))
  t.match(tooMany.json().error.message, /more than 10,000 failed deliveries .*nothing was re-queued/)
  t.equal(await failedCount(), 10001, 'all or nothing')

  await sql(em, "delete from webhook_delivery where id = (select id from webhook_delivery where endpoint_id = ? and status = 'failed' limit 1)", [endpoint.id])
  const limit = await post(quiet, `/api/webhooks/${endpoint.id}/recover`, { since: ago(HOUR) })
  t.equal(limit.statusCode, 202, limit.body)
  t.match(limit.json(), { requeued: 10000 })
  t.equal(await failedCount(), 0)
})

t.test("the bulk form recovers the listed endpoints, or all the caller's, and no other brand's", async (t) => {
  const quiet = await startLoop(t, {}, { deliveryWorker: false })
  const other: Loop = { ...quiet, key: await authHeaders(quiet.app, allScopes) }
  const [a, b, disabled] = [await register(quiet, 'http://127.0.0.1:9/a'), await register(quiet, 'http://127.0.0.1:9/b'), await register(quiet, 'http://127.0.0.1:9/c')]
  const foreign = await register(other, 'http://127.0.0.1:9/foreign')
  const em = quiet.app.orm.em.fork()
  for (const endpoint of [a, b, disabled, foreign]) {
    await sql(em,
      `insert into webhook_delivery (endpoint_id, message_id, event_type, body, status, attempt_count)
       select ?, gen_random_uuid(), 'webhook.test', '{}', 'failed', 6 from generate_series(1, 3)`,
      [endpoint.id])
  }
  await quiet.app.inject({ method: 'PATCH', url: `/api/webhooks/${disabled.id}`, headers: quiet.key, payload: { status: 'disabled' } })
  const pendingOf = async (endpointId: string) => (await sql<{ n: number }>(em, "select count(*)::int as n from webhook_delivery where endpoint_id = ? and status = 'pending'", [endpointId]))[0]?.n

  const listed = await post(quiet, '/api/webhooks/recover', { since: ago(HOUR), endpointIds: [a.id] })
  t.equal(listed.statusCode, 202, listed.body)
  t.match(listed.json(), { requeued: 3 })
  t.same([await pendingOf(a.id), await pendingOf(b.id)], [3, 0], 'only the listed endpoint')

  const all = await post(quiet, '/api/webhooks/recover', { since: ago(HOUR) })
  t.match(all.json(), { requeued: 3 }, "every endpoint of the caller's that has failures left: b")
  t.same([await pendingOf(b.id), await pendingOf(disabled.id), await pendingOf(foreign.id)], [3, 0, 0], 'disabled endpoints and other brands are left alone')
  const mixed = await post(quiet, '/api/webhooks/recover', { since: ago(HOUR), endpointIds: [a.id, foreign.id] })
  t.equal(mixed.statusCode, 404, "one id of another brand's fails the request")
})
