// An endpoint's lifecycle (docs/webhooks.md#endpoint-lifecycle), end to end with real receivers:
// failing → disabled after LOOP_DISABLE_AFTER, 410 → disabled at once, failing → active again on a
// success, each announced to the brand's subscribed endpoints (webhook.failing, webhook.disabled,
// webhook.recovered); only failing is also a signal with its triage issue.
import t from 'tap'
import { operatorHeaders } from '../helper.ts'
import { eventually, startReceiver, type Answer, type Receiver } from '../receiver.ts'
import { deliveryLog, endpointStatus, headerOf, register, sendLead, settledLog, startLoop, workerIdle, type Loop } from '../webhook-api.ts'

/** The lifecycle messages' data, as far as these tests read it (docs/webhooks.md#endpoint-lifecycle). */
interface Message { id: string, type: string, createdAt: string, data: { endpoint: { failingSince: string }, delivery: { id: string } } }
const messages = (receiver: Receiver): Message[] => receiver.requests.map((r) => JSON.parse(r.body.toString()))
const messageOf = (receiver: Receiver, type: string) => eventually(() => messages(receiver).find((m) => m.type === type), 15_000, `a ${type} message`)
const statusBecomes = (loop: Loop, endpointId: string, status: string) =>
  eventually(async () => (await endpointStatus(loop, endpointId)) === status ? true : undefined, 15_000, `the endpoint to be ${status}`)
const loopSignals = async (loop: Loop) => {
  const reader = await operatorHeaders(loop.app, ['signals:read'])
  return (await loop.app.inject({ method: 'GET', url: '/api/signals?source=loop', headers: reader })).json().data as { type: string, sourceId: string }[]
}

t.test('an endpoint failing for LOOP_DISABLE_AFTER is disabled by its next failure, announced as webhook.disabled; PATCH enables it again', async (t) => {
  const loop = await startLoop(t, { LOOP_DELIVERY_SCHEDULE: '100ms', LOOP_DISABLE_AFTER: '3s' })
  let healthy = false
  const failing = await startReceiver(t, (): Answer => healthy ? { status: 200 } : { status: 500, body: 'down' })
  const watcher = await startReceiver(t)
  const endpoint = await register(loop, failing.url)
  await register(loop, watcher.url, ['webhook.*'])

  await sendLead(loop)
  await settledLog(loop, endpoint.id)
  t.equal(await endpointStatus(loop, endpoint.id), 'failing')
  const failingMessage = await messageOf(watcher, 'webhook.failing')
  const failingSince = Date.parse(failingMessage.data.endpoint.failingSince)

  await sendLead(loop)
  const second = await settledLog(loop, endpoint.id, 2)
  t.ok(Date.now() - failingSince < 3000, 'this one failed within the window')
  t.same(second.map((d) => d.status), ['failed', 'failed'])
  t.equal(await endpointStatus(loop, endpoint.id), 'failing', 'a failure within LOOP_DISABLE_AFTER leaves it failing')

  await eventually(() => Date.now() - failingSince >= 3000 ? true : undefined, 5000, 'the window to pass')
  const third = await sendLead(loop)
  await statusBecomes(loop, endpoint.id, 'disabled')
  const disabled = await messageOf(watcher, 'webhook.disabled')
  t.match(disabled.data, { reason: 'failing', endpoint: { id: endpoint.id, status: 'disabled', failingSince: failingMessage.data.endpoint.failingSince }, delivery: { eventType: 'lead.captured.v1', attempts: 1, lastStatusCode: 500 } })
  const [parked] = await deliveryLog(loop, endpoint.id)
  t.match(parked, { messageId: third.id, status: 'pending', attemptCount: 1, nextAttemptAt: null }, 'its retry waits, unscheduled')
  await workerIdle(loop)
  t.equal(failing.requests.length, 5, 'nothing sent after the disabling attempt: 2 + 2 + 1')
  t.same((await loopSignals(loop)).map((s) => s.type), ['webhook.failing'], 'disabling raises no second signal: the failing alert stands')

  healthy = true
  const enabled = await loop.app.inject({ method: 'PATCH', url: `/api/webhooks/${endpoint.id}`, headers: loop.key, payload: { status: 'active' } })
  t.equal(enabled.statusCode, 200)
  t.equal(enabled.json().status, 'active')
  const log = await settledLog(loop, endpoint.id, 3)
  t.match(log.find((d) => d.messageId === third.id), { status: 'succeeded', attemptCount: 2 }, 'enabled: what waited is sent')
  await workerIdle(loop)
  t.same(messages(watcher).map((m) => m.type), ['webhook.failing', 'webhook.disabled'], 'enabling by request is no recovery: nothing announced')
})

t.test('a 410 disables the endpoint and announces webhook.disabled with reason gone, once', async (t) => {
  const loop = await startLoop(t)
  const gone = await startReceiver(t, () => ({ status: 410 }))
  const watcher = await startReceiver(t)
  const endpoint = await register(loop, gone.url, ['lead.captured.v1', 'webhook.*'])
  await register(loop, watcher.url, ['webhook.disabled'])
  await sendLead(loop)
  await sendLead(loop)
  await statusBecomes(loop, endpoint.id, 'disabled')
  const disabled = await messageOf(watcher, 'webhook.disabled')
  t.match(disabled.data, { reason: 'gone', endpoint: { id: endpoint.id, url: gone.url, status: 'disabled', failingSince: null }, delivery: { attempts: 1, lastStatusCode: 410 } })
  await workerIdle(loop)
  t.equal(watcher.requests.length, 1, 'one message, though both deliveries may have been answered 410')
  t.equal(gone.requests.filter((r) => headerOf(r, 'x-loop-event') === 'webhook.disabled').length, 0, 'the disabled endpoint is not told')
  t.same(await loopSignals(loop), [], 'no signal: nothing is failing')
})

t.test('a failing endpoint that succeeds again is active and announced as webhook.recovered, to itself too', async (t) => {
  const loop = await startLoop(t, { LOOP_DELIVERY_SCHEDULE: '100ms' })
  let healthy = false
  const flaky = await startReceiver(t, (request): Answer => healthy || headerOf(request, 'x-loop-event') === 'webhook.recovered' ? { status: 200 } : { status: 503 })
  const watcher = await startReceiver(t)
  const endpoint = await register(loop, flaky.url, ['lead.captured.v1', 'webhook.recovered'])
  await register(loop, watcher.url, ['webhook.*'])
  await sendLead(loop)
  await settledLog(loop, endpoint.id)
  t.equal(await endpointStatus(loop, endpoint.id), 'failing')
  const failingSince = (await messageOf(watcher, 'webhook.failing')).data.endpoint.failingSince

  healthy = true
  const sent = await sendLead(loop)
  await statusBecomes(loop, endpoint.id, 'active')
  const recovered = await messageOf(watcher, 'webhook.recovered')
  t.match(recovered.data, { endpoint: { id: endpoint.id, url: flaky.url, status: 'active' }, failingSince, delivery: { eventType: 'lead.captured.v1' } })
  const log = await deliveryLog(loop, endpoint.id)
  t.equal(recovered.data.delivery.id, log.find((d) => d.messageId === sent.id)?.id, 'names the delivery that succeeded')
  await eventually(() => flaky.requests.find((r) => headerOf(r, 'x-loop-event') === 'webhook.recovered'), 15_000, 'the endpoint to hear it')
  await workerIdle(loop)
  t.equal(messages(watcher).filter((m) => m.type === 'webhook.recovered').length, 1, 'once')
  t.same((await loopSignals(loop)).map((s) => s.type), ['webhook.failing'], 'a recovery raises no signal')
})
