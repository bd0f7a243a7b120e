// The circuit breaker (docs/webhooks.md#fairness): failed attempts in a row pause an endpoint on
// every instance; after the cool-down one probe is made at a time; a success closes it.
import t from 'tap'
import { eventually, startReceiver, type Answer } from '../receiver.ts'
import { register, sendLead, settledLog, startLoop, workerIdle } from '../webhook-api.ts'
import { sql } from '../../lib/db/sql.ts'
import type { EntityManager } from '@mikro-orm/postgresql'

const env = { LOOP_DELIVERY_BREAKER_FAILURES: '3', LOOP_DELIVERY_BREAKER_COOLDOWN_MS: '1000' }

t.test('3 failures in a row pause the endpoint for the cool-down on both instances; one probe at a time; a success closes it', async (t) => {
  const first = await startLoop(t, env, { deliveryWorker: { perEndpoint: 1 } })
  const second = await startLoop(t, env, { databaseUrl: first.databaseUrl, deliveryWorker: { perEndpoint: 1 } }, first.key)
  let healthy = false
  const receiver = await startReceiver(t, (): Answer => healthy ? { status: 200 } : { status: 503, delayMs: 100 })
  const endpoint = await register(first, receiver.url)
  for (let i = 0; i < 6; i++) await sendLead(i % 2 === 0 ? first : second)

  const [, , third, probe] = await receiver.waitFor(4, 10_000)
  const breaker = await sql<{ consecutive_failures: number, paused: boolean }>(first.app.orm.em.fork() as unknown as EntityManager,
    'select consecutive_failures, paused_until > now() as paused from webhook_endpoint where id = ?', [endpoint.id])
  t.ok((probe?.at ?? 0) - (third?.at ?? 0) >= 950, `the 4th attempt (the probe) waited for the cool-down after the 3rd failure (${(probe?.at ?? 0) - (third?.at ?? 0)} ms)`)
  t.match(breaker, [{ consecutive_failures: 3 }], 'three failures in a row counted on the endpoint while its probe was in flight')
  const [, , , , again] = await receiver.waitFor(5, 10_000)
  t.ok((again?.at ?? 0) - (probe?.at ?? 0) >= 950, 'the failed probe paused it again for a cool-down')
  // The API says so: GET /api/webhooks/{id} names when the pause ends.
  const pausedUntil = await eventually(async () => {
    const view = (await first.app.inject({ method: 'GET', url: `/api/webhooks/${endpoint.id}`, headers: first.key })).json() as { pausedUntil: string | null }
    return view.pausedUntil ?? undefined
  }, 5000, 'the endpoint to show its pause')
  t.ok(Date.parse(pausedUntil) > (again?.at ?? 0), `pausedUntil ${pausedUntil} is after the failed probe`)
  healthy = true
  const log = await settledLog(first, endpoint.id, 6)
  await workerIdle(first, second)
  t.same(log.map((d) => d.status), Array(6).fill('succeeded'), 'every message delivered once the receiver answered, nothing dropped')
  t.equal(receiver.requests.length, 6 + 5, '6 successes and the 5 failed attempts: nothing was tried while paused')
  const [closed] = await sql<{ consecutive_failures: number, paused_until: Date | null }>(first.app.orm.em.fork() as unknown as EntityManager,
    'select consecutive_failures, paused_until from webhook_endpoint where id = ?', [endpoint.id])
  t.same(closed, { consecutive_failures: 0, paused_until: null }, 'the breaker is closed')
  t.equal((await first.app.inject({ method: 'GET', url: `/api/webhooks/${endpoint.id}`, headers: first.key })).json().pausedUntil, null, 'and the API shows no pause')
})

t.test("a failing endpoint's pause does not hold back another endpoint", async (t) => {
  const loop = await startLoop(t, env)
  const failing = await startReceiver(t, () => ({ status: 500 }))
  const healthy = await startReceiver(t)
  await register(loop, failing.url)
  await register(loop, healthy.url)
  for (let i = 0; i < 8; i++) await sendLead(loop)
  await healthy.waitFor(8, 5000)
  await workerIdle(loop)
  t.ok(failing.requests.length <= 3 + 3, `the failing endpoint got ${failing.requests.length} attempts, then a pause (at most its cap in flight past the third failure)`)
  t.equal(healthy.requests.length, 8)
})
