// Several Loop instances on one database: each message reaches each endpoint once, whichever
// instance's worker claims it. In its own file: it is the slowest test of the worker.
import t from 'tap'
import { startReceiver } from '../receiver.ts'
import { headerOf, register, sendLead, startLoop, workerIdle } from '../webhook-api.ts'

t.test('1,000 events to 3 endpoints arrive exactly once each with two instances delivering', async (t) => {
  const a = await startLoop(t, {}, { deliveryWorker: { pollIntervalMs: 50 } })
  const b = await startLoop(t, {}, { databaseUrl: a.databaseUrl, deliveryWorker: { pollIntervalMs: 50 } }, a.key)
  const receivers = await Promise.all([startReceiver(t), startReceiver(t), startReceiver(t)])
  for (const receiver of receivers) await register(a, receiver.url, ['*'])
  const total = 1000
  for (let sent = 0; sent < total; sent += 50) {
    await Promise.all(Array.from({ length: 50 }, (_, i) => sendLead(i % 2 === 0 ? a : b)))
  }
  await Promise.all(receivers.map((r) => r.waitFor(total, 60_000)))
  await workerIdle(a, b) // a duplicate in flight or still due would have arrived by now
  for (const [index, receiver] of receivers.entries()) {
    t.equal(receiver.requests.length, total, `receiver ${index + 1} got ${total} requests`)
    t.equal(new Set(receiver.requests.map((r) => headerOf(r, 'x-loop-delivery'))).size, total, 'each delivery id once')
    t.equal(new Set(receiver.requests.map((r) => headerOf(r, 'webhook-id'))).size, total, 'each message once')
  }
  t.ok((a.app.deliveryWorker?.attemptsMade ?? 0) > 0 && (b.app.deliveryWorker?.attemptsMade ?? 0) > 0,
    `both instances delivered (${a.app.deliveryWorker?.attemptsMade} and ${b.app.deliveryWorker?.attemptsMade})`)
})
