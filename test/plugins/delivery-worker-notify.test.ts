// Start at once (docs/webhooks.md#durability): the transaction that queues a delivery NOTIFYs the
// workers, so its first attempt starts within tens of milliseconds of the commit. The poll interval
// is set to 5 s here, so only the notification can explain a fast start; the poll still catches a
// delivery nobody announced.
import t from 'tap'
import { randomUUID } from 'node:crypto'
import { eventually, startReceiver } from '../receiver.ts'
import { deliveryLog, register, sendLead, startLoop } from '../webhook-api.ts'
import { sql } from '../../lib/db/sql.ts'
import type { EntityManager } from '@mikro-orm/postgresql'

t.test('the median first attempt starts within 50 ms of the commit, with a 5 s poll', async (t) => {
  const loop = await startLoop(t, {}, { deliveryWorker: { pollIntervalMs: 5000 } })
  const receiver = await startReceiver(t)
  await register(loop, receiver.url)
  await loop.app.deliveryWorker?.idle()
  const latencies: number[] = []
  for (let i = 0; i < 20; i++) {
    const sent = await sendLead(loop)
    const committed = Date.now() // the answer comes once the event and its delivery are committed
    const [request] = (await receiver.waitFor(i + 1, 6000)).slice(i)
    t.equal(request?.headers['webhook-id'], sent.id)
    // At 0 when the request beat the answer back to the test (both ride this one event loop).
    latencies.push(Math.max(0, (request?.at ?? Number.NaN) - committed))
  }
  const sorted = [...latencies].sort((a, b) => a - b)
  const median = ((sorted[9] ?? Number.NaN) + (sorted[10] ?? Number.NaN)) / 2
  t.comment(`commit → first attempt received: median ${median} ms, slowest ${sorted[19]} ms`)
  t.ok(median <= 50, `median ${median} ms <= 50 ms`)
})

t.test('a delivery queued without a notification is still found by the poll', async (t) => {
  const loop = await startLoop(t, {}, { deliveryWorker: { pollIntervalMs: 300 } })
  const receiver = await startReceiver(t)
  const endpoint = await register(loop, receiver.url)
  await loop.app.deliveryWorker?.idle()
  await sql(loop.app.orm.em.fork() as unknown as EntityManager,
    "insert into webhook_delivery (endpoint_id, message_id, event_type, body) values (?, ?, 'webhook.test', '{}')", [endpoint.id, randomUUID()])
  const [request] = await receiver.waitFor(1, 3000)
  t.equal(request?.headers['x-loop-event'], 'webhook.test')
})

t.test('re-enabling a disabled endpoint sends what waited for it at once, not at the next poll', async (t) => {
  const loop = await startLoop(t, { LOOP_DELIVERY_SCHEDULE: '1h' }, { deliveryWorker: { pollIntervalMs: 5000 } })
  const receiver = await startReceiver(t, (request) => ({ status: request.n === 1 ? 500 : 200 }))
  const endpoint = await register(loop, receiver.url)
  const patch = async (status: string) => await loop.app.inject({ method: 'PATCH', url: `/api/webhooks/${endpoint.id}`, headers: loop.key, payload: { status } })
  await sendLead(loop)
  await eventually(async () => (await deliveryLog(loop, endpoint.id))[0]?.attemptCount === 1 ? true : undefined, 5000, 'the first attempt to be recorded')
  t.equal((await patch('disabled')).statusCode, 200, 'disabled while its delivery waits an hour for the retry')
  const enabled = Date.now()
  t.equal((await patch('active')).statusCode, 200)
  const [, retry] = await receiver.waitFor(2, 3000)
  t.ok((retry?.at ?? Number.POSITIVE_INFINITY) - enabled < 1000, 'enabling made it due and woke the worker: sent within a second (the poll is 5 s)')
})
