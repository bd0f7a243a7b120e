// ordering: "fifo" (docs/webhooks.md#ordering): an endpoint's messages arrive one at a time in the
// order Loop accepted them; the head blocks the rest until it succeeds or exhausts its retries.
import t from 'tap'
import { envelope } from '../helper.ts'
import { startReceiver, type Answer, type ReceivedRequest } from '../receiver.ts'
import { headerOf, sendLead, settledLog, startLoop, workerIdle, type Loop } from '../webhook-api.ts'

async function registerFifo (loop: Loop, url: string): Promise<{ id: string, ordering: string }> {
  const res = await loop.app.inject({ method: 'POST', url: '/api/webhooks', headers: loop.key, payload: { url, events: ['lead.captured.v1'], ordering: 'fifo' } })
  if (res.statusCode !== 201) throw new Error(`register: ${res.statusCode} ${res.body}`)
  return res.json()
}

const ids = (requests: ReceivedRequest[]) => requests.map((r) => headerOf(r, 'webhook-id'))

t.test('ordering is part of the endpoint: fifo on request, unordered by default, changed by PATCH, anything else 422', async (t) => {
  const loop = await startLoop(t, {}, { deliveryWorker: false })
  const fifo = await registerFifo(loop, 'http://127.0.0.1:9/fifo')
  t.equal(fifo.ordering, 'fifo')
  const plain = await loop.app.inject({ method: 'POST', url: '/api/webhooks', headers: loop.key, payload: { url: 'http://127.0.0.1:9/plain', events: ['*'] } })
  t.equal(plain.json().ordering, 'unordered')
  const patched = await loop.app.inject({ method: 'PATCH', url: `/api/webhooks/${fifo.id}`, headers: loop.key, payload: { ordering: 'unordered' } })
  t.equal(patched.json().ordering, 'unordered')
  const bad = await loop.app.inject({ method: 'POST', url: '/api/webhooks', headers: loop.key, payload: { url: 'http://127.0.0.1:9/x', events: ['*'], ordering: 'lifo' } })
  t.equal(bad.statusCode, 422)
  t.match(bad.json(), envelope('VALIDATION_ERROR'))
})

t.test('under retries a FIFO endpoint gets its messages in acceptance order: message 2 waits until message 1 succeeds', async (t) => {
  const loop = await startLoop(t)
  // The first message to arrive fails once, the third twice; the test checks that those were the
  // first and third accepted, and that nothing overtook them while they were retried.
  const seen: string[] = []
  const attempts = new Map<string, number>()
  const receiver = await startReceiver(t, (request): Answer => {
    const id = headerOf(request, 'webhook-id') ?? ''
    if (!seen.includes(id)) seen.push(id)
    const attempt = (attempts.get(id) ?? 0) + 1
    attempts.set(id, attempt)
    const failFor = [1, 0, 2][seen.indexOf(id)] ?? 0
    return attempt <= failFor ? { status: 500 } : { status: 200 }
  })
  const endpoint = await registerFifo(loop, receiver.url)
  const order: string[] = []
  for (let i = 0; i < 6; i++) order.push((await sendLead(loop)).id)
  const log = await settledLog(loop, endpoint.id, 6)
  await workerIdle(loop)
  t.same(log.map((d) => d.status), Array(6).fill('succeeded'))
  const expected = [order[0], order[0], order[1], order[2], order[2], order[2], order[3], order[4], order[5]]
  t.same(ids(receiver.requests), expected, 'each message only after the one before it succeeded')
})

t.test('a head that exhausts its retries stops blocking: the next message follows', async (t) => {
  const loop = await startLoop(t, { LOOP_DELIVERY_SCHEDULE: '50ms,50ms' })
  let first = ''
  const receiver = await startReceiver(t, (request): Answer => headerOf(request, 'webhook-id') === first ? { status: 500 } : { status: 200 })
  const endpoint = await registerFifo(loop, receiver.url)
  first = (await sendLead(loop)).id
  const second = (await sendLead(loop)).id
  const log = await settledLog(loop, endpoint.id, 2)
  t.same(log.map((d) => d.status).sort(), ['failed', 'succeeded'])
  t.same(ids(receiver.requests), [first, first, first, second], 'the head: 1 attempt and 2 retries, then the next')
})

t.test('two instances keep one FIFO order: 30 messages arrive once each, in acceptance order', async (t) => {
  const a = await startLoop(t)
  const b = await startLoop(t, {}, { databaseUrl: a.databaseUrl }, a.key)
  const receiver = await startReceiver(t, (request): Answer => ({ status: request.n % 7 === 0 ? 503 : 200, delayMs: request.n % 3 === 0 ? 30 : 0 }))
  const endpoint = await registerFifo(a, receiver.url)
  const order: string[] = []
  for (let i = 0; i < 30; i++) order.push((await sendLead(i % 2 === 0 ? a : b)).id)
  await settledLog(a, endpoint.id, 30)
  await workerIdle(a, b)
  const succeeded = receiver.requests.filter((r) => r.n % 7 !== 0)
  t.same(ids(succeeded), order, 'the successful attempts, in acceptance order')
  t.ok(receiver.requests.every((r, i) => r.n % 7 !== 0 || headerOf(receiver.requests[i + 1], 'webhook-id') === headerOf(r, 'webhook-id')), 'a failed attempt is followed by its own retry')
  t.ok((a.app.deliveryWorker?.attemptsMade ?? 0) > 0 && (b.app.deliveryWorker?.attemptsMade ?? 0) > 0, 'both instances delivered')
})
