// The built @loop/sdk's transport against real HTTP peers on 127.0.0.1 (node:http servers that
// answer what Loop or a proxy in front of it answers when things go wrong): retries on 5xx, 429
// and network errors on a schedule, Retry-After honoured, one Idempotency-Key per call so a retried
// POST cannot be done twice, a timeout per attempt, and what is never retried.
import t from 'tap'
import http from 'node:http'
import v8 from 'node:v8'
import { runInNewContext } from 'node:vm'
import type { AddressInfo } from 'node:net'
import { createClient, defaultRetryDelaysMs, LoopError, type RetryInfo } from '@loop/sdk'
import type { TestContext } from '../helper.ts'
import { startReceiver, type Answer, type ReceivedRequest } from '../receiver.ts'

const apiKey = 'lk_test_' + 'a'.repeat(40)
const envelope = (code: string) => JSON.stringify({ ok: false, error: { code, message: code } })
const json = { 'content-type': 'application/json' }
// paginate typed for any path: these peers answer lists whatever the contract of this checkout says.
const paginateOf = (loop: { paginate: unknown }) => loop.paginate as (path: string, options?: { query?: Record<string, unknown> }) => AsyncIterable<{ id: string }>
const page = (data: unknown[], iterator: string | null) => ({ status: 200, headers: json, body: JSON.stringify({ data, iterator, prevIterator: null, done: iterator === null }) })

/** A peer answering `answers` in turn (the last one for ever after), and a client of it recording its retries. */
async function peer (t: TestContext, answers: Array<Answer | ((request: ReceivedRequest) => Answer)>, options: { retryDelaysMs?: number[], timeoutMs?: number } = {}) {
  const server = await startReceiver(t, (request) => {
    const answer = answers[Math.min(request.n, answers.length) - 1] as Answer | ((request: ReceivedRequest) => Answer)
    return typeof answer === 'function' ? answer(request) : answer
  })
  const retries: RetryInfo[] = []
  const loop = createClient({ baseUrl: new URL(server.url).origin, apiKey, retryDelaysMs: options.retryDelaysMs ?? [10, 10, 10], timeoutMs: options.timeoutMs ?? 5000, onRetry: (retry) => { retries.push(retry) } })
  return { server, loop, retries }
}

t.test('the default schedule is the documented one: 1 s, 5 s, 30 s, 2 min, 10 min', async (t) => {
  t.same(defaultRetryDelaysMs, [1000, 5000, 30_000, 120_000, 600_000])
})

t.test('5xx answers are retried on the schedule until one succeeds', async (t) => {
  const { server, loop, retries } = await peer(t, [
    { status: 500, headers: json, body: envelope('INTERNAL_ERROR') },
    { status: 502, body: '<html>Bad Gateway</html>' },
    { status: 503, headers: json, body: envelope('NOT_READY') },
    { status: 200, headers: json, body: JSON.stringify({ ok: true }) }
  ], { retryDelaysMs: [10, 20, 30] })
  const health = await loop.GET('/health')
  t.equal(health.response.status, 200)
  t.equal(server.requests.length, 4)
  t.same(retries.map((r) => [r.attempt, r.status, r.delayMs]), [[1, 500, 10], [2, 502, 20], [3, 503, 30]])
})

t.test('when the schedule runs out the last answer is returned, its code typed', async (t) => {
  const { server, loop } = await peer(t, [{ status: 503, headers: json, body: envelope('NOT_READY') }], { retryDelaysMs: [5, 5] })
  const { error, response } = await loop.GET('/ready')
  t.equal(server.requests.length, 3, 'the first try and two retries')
  t.equal(response.status, 503)
  t.equal(LoopError.from(error, response).code, 'NOT_READY')
})

t.test('429 waits what Retry-After says, in seconds or as an HTTP date', async (t) => {
  const { server, loop, retries } = await peer(t, [
    { status: 429, headers: { ...json, 'retry-after': '1' }, body: envelope('RATE_LIMITED') },
    () => ({ status: 429, headers: { ...json, 'retry-after': new Date(Date.now() + 2000).toUTCString() }, body: envelope('RATE_LIMITED') }),
    { status: 200, headers: json, body: '{}' }
  ], { retryDelaysMs: [10, 10, 3000] })
  await loop.GET('/health')
  t.equal(server.requests.length, 3)
  t.equal(retries[0]?.delayMs, 1000, 'Retry-After: 1 is one second, not the 10 ms of the schedule')
  t.ok((retries[1]?.delayMs ?? 0) > 900 && (retries[1]?.delayMs ?? 0) <= 2000, `an HTTP date two seconds ahead (second precision) waits about that: ${retries[1]?.delayMs}`)
  const gaps = [server.requests[1]!.at - server.requests[0]!.at, server.requests[2]!.at - server.requests[1]!.at]
  t.ok(gaps[0]! >= 990, `the second request came ${gaps[0]} ms after the first`)
  t.ok(gaps[1]! >= (retries[1]?.delayMs ?? 0) - 10, `the third ${gaps[1]} ms after the second`)
})

t.test('a Retry-After beyond the longest wait of the schedule is not retried: the 429 is the answer', async (t) => {
  const { server, loop, retries } = await peer(t, [{ status: 429, headers: { ...json, 'retry-after': '1' }, body: envelope('RATE_LIMITED') }], { retryDelaysMs: [10, 500] })
  const { error, response } = await loop.GET('/health')
  t.equal(response.status, 429)
  t.equal(server.requests.length, 1)
  t.same(retries, [])
  t.equal(LoopError.from(error, response).code, 'RATE_LIMITED')
})

t.test('4xx answers other than 429 are never retried', async (t) => {
  const { server, loop } = await peer(t, [{ status: 422, headers: json, body: JSON.stringify({ ok: false, error: { code: 'VALIDATION_ERROR', message: 'title is required', issues: [{ path: 'title', message: 'Required', code: 'required' }] } }) }])
  const { error, response } = await loop.POST('/api/issues', { body: { title: '', type: 'task' } })
  t.equal(server.requests.length, 1)
  const failure = LoopError.from(error, response)
  t.match(failure, { name: 'LoopError', status: 422, code: 'VALIDATION_ERROR', message: 'title is required', issues: [{ path: 'title', code: 'required' }] })
  t.ok(failure instanceof Error)
})

t.test('every POST under /api carries one Idempotency-Key, the same on each retry', async (t) => {
  const { server, loop } = await peer(t, [
    { status: 500, headers: json, body: envelope('INTERNAL_ERROR') },
    { status: 201, headers: json, body: '{}' }
  ])
  await loop.POST('/api/issues', { body: { title: 'Renew the certificate', type: 'task' } })
  const keys = server.requests.map((r) => r.headers['idempotency-key'])
  t.equal(keys.length, 2)
  t.match(keys[0], /^[0-9a-f-]{36}$/, 'a UUID made for the call')
  t.equal(keys[1], keys[0], 'the retry sends the same key, so Loop replays instead of creating a second issue')
  t.same(server.requests[1]!.body, server.requests[0]!.body, 'and the same body')

  const next = server.requests.length
  await loop.POST('/api/issues', { body: { title: 'Another', type: 'task' } })
  t.not(server.requests[next]?.headers['idempotency-key'], keys[0], 'a new call gets a new key')
})

t.test('an event is keyed by its payload\'s eventId unless the caller gave a key', async (t) => {
  const { server, loop } = await peer(t, [{ status: 200, headers: json, body: '{}' }])
  const eventId = '550e8400-e29b-41d4-a716-446655440000'
  await loop.POST('/api/events', { body: { event: 'lead.captured.v1', payload: { eventId } } })
  await loop.POST('/api/events', { body: { event: 'lead.captured.v1', payload: { eventId } }, headers: { 'Idempotency-Key': 'my-own-key' } })
  await loop.POST('/api/events', { body: { event: 'lead.captured.v1', payload: { eventId: 'x'.repeat(300) } } })
  t.equal(server.requests[0]?.headers['idempotency-key'], eventId)
  t.equal(server.requests[1]?.headers['idempotency-key'], 'my-own-key')
  t.match(server.requests[2]?.headers['idempotency-key'], /^[0-9a-f-]{36}$/, 'an eventId longer than a key may be gets a UUID instead')
})

t.test('PATCH has no Idempotency-Key: retried only when it surely was not processed (429, 503)', async (t) => {
  const ambiguous = await peer(t, [{ status: 500, headers: json, body: envelope('INTERNAL_ERROR') }])
  const first = await ambiguous.loop.PATCH('/api/issues/{id}', { params: { path: { id: '7d0c5a4e-2f6b-4c1e-9a63-5f0f8f1f2b11' } }, body: { status: 'done' } })
  t.equal(first.response.status, 500)
  t.equal(ambiguous.server.requests.length, 1, 'a 500 may have applied it: not sent again')
  t.equal(ambiguous.server.requests[0]?.headers['idempotency-key'], undefined)

  const refused = await peer(t, [{ status: 503, headers: json, body: envelope('NOT_READY') }, { status: 429, headers: json, body: envelope('RATE_LIMITED') }, { status: 200, headers: json, body: '{}' }])
  const second = await refused.loop.PATCH('/api/issues/{id}', { params: { path: { id: '7d0c5a4e-2f6b-4c1e-9a63-5f0f8f1f2b11' } }, body: { status: 'done' } })
  t.equal(second.response.status, 200)
  t.equal(refused.server.requests.length, 3)
})

/** A node:http server that cuts the connection of its first `drops` requests without answering. */
async function droppingServer (t: TestContext, drops: number) {
  let seen = 0
  const server = http.createServer((req, res) => {
    seen++
    if (seen <= drops) { req.socket.destroy(); return }
    res.writeHead(200, json).end('{"ok":true}')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { server.closeAllConnections(); server.close() })
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen: () => seen }
}

t.test('a dropped connection is retried for a GET and a keyed POST, not for a PATCH', async (t) => {
  const server = await droppingServer(t, 2)
  const retries: RetryInfo[] = []
  const loop = createClient({ baseUrl: server.url, apiKey, retryDelaysMs: [10, 10, 10], onRetry: (retry) => { retries.push(retry) } })
  const health = await loop.GET('/health')
  t.equal(health.response.status, 200)
  t.equal(server.seen(), 3)
  t.equal(retries.length, 2)
  t.type(retries[0]?.error, TypeError, 'fetch failed')
  t.equal(retries[0]?.status, undefined)

  const again = await droppingServer(t, 1)
  const posted = await createClient({ baseUrl: again.url, apiKey, retryDelaysMs: [10] }).POST('/api/issues', { body: { title: 'x', type: 'task' } })
  t.equal(posted.response.status, 200, 'the POST went again with its key')

  const patchServer = await droppingServer(t, 1)
  await t.rejects(createClient({ baseUrl: patchServer.url, apiKey, retryDelaysMs: [10] }).PATCH('/api/issues/{id}', { params: { path: { id: 'x' } }, body: { status: 'done' } }), TypeError,
    'the connection was cut after the PATCH was sent: it may have been applied')
  t.equal(patchServer.seen(), 1)
})

t.test('a refused connection is retried for any method: nothing was sent (Loop restarting)', async (t) => {
  // A port nobody listens on until the first retry is announced.
  const probe = http.createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const port = (probe.address() as AddressInfo).port
  await new Promise<void>((resolve) => probe.close(() => resolve()))
  const server = http.createServer((_req, res) => { res.writeHead(200, json).end('{}') })
  t.teardown(() => { server.closeAllConnections(); server.close() })
  const listening = new Promise<void>((resolve) => server.once('listening', resolve))
  const loop = createClient({
    baseUrl: `http://127.0.0.1:${port}`,
    apiKey,
    retryDelaysMs: [50],
    onRetry: (retry) => {
      t.match((retry.error as { cause?: { code?: string } }).cause?.code, 'ECONNREFUSED')
      server.listen(port, '127.0.0.1')
    }
  })
  const patched = await loop.PATCH('/api/issues/{id}', { params: { path: { id: 'x' } }, body: { status: 'done' } })
  await listening
  t.equal(patched.response.status, 200)
})

t.test('each attempt has its own timeout, the body included', async (t) => {
  const slow = await peer(t, [{ status: 200, headers: json, body: '{}', delayMs: 10_000 }], { retryDelaysMs: [], timeoutMs: 200 })
  const started = Date.now()
  await t.rejects(slow.loop.GET('/health'), { name: 'TimeoutError', message: /within 200 ms/ })
  t.ok(Date.now() - started < 5000, 'well before the peer would have answered')

  const onceSlow = await peer(t, [{ status: 200, headers: json, body: '{"slow":true}', delayMs: 10_000 }, { status: 200, headers: json, body: '{"ok":true}' }], { retryDelaysMs: [10], timeoutMs: 300 })
  const answer = await onceSlow.loop.GET('/health')
  t.same(answer.data, { ok: true }, 'a timed-out GET is retried')
  t.equal(onceSlow.retries[0]?.status, undefined)
  t.match(onceSlow.retries[0]?.error, { name: 'TimeoutError' })

  // Headers at once, then a body that never ends.
  const stalling = http.createServer((_req, res) => { res.writeHead(200, json); res.write('{"data":') })
  await new Promise<void>((resolve) => stalling.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { stalling.closeAllConnections(); stalling.close() })
  const stalled = createClient({ baseUrl: `http://127.0.0.1:${(stalling.address() as AddressInfo).port}`, apiKey, retryDelaysMs: [], timeoutMs: 300 })
  await t.rejects(stalled.GET('/health'), { name: 'TimeoutError' }, 'a stalled body times out too')
})

t.test('the timeout and the caller\'s abort still hold after a garbage collection mid-attempt', async (t) => {
  // A Request made from another follows its signal through a weak reference (nodejs/undici#4068):
  // an SDK that passed its timeout that way waited the peer out once the copy was collected.
  v8.setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  const collectWhile = async (server: { waitFor: (n: number) => Promise<unknown> }) => {
    await server.waitFor(1)
    for (let i = 0; i < 3; i++) { gc(); await new Promise((resolve) => setImmediate(resolve)) }
  }

  const slow = await peer(t, [{ status: 200, headers: json, body: '{}', delayMs: 10_000 }], { retryDelaysMs: [], timeoutMs: 500 })
  const started = Date.now()
  const timedOut = slow.loop.GET('/health')
  await collectWhile(slow.server)
  await t.rejects(timedOut, { name: 'TimeoutError', message: /within 500 ms/ })
  t.ok(Date.now() - started < 5000, `timed out after ${Date.now() - started} ms, well before the peer would have answered`)

  const hanging = await peer(t, [{ status: 200, headers: json, body: '{}', delayMs: 10_000 }], { retryDelaysMs: [], timeoutMs: 60_000 })
  const controller = new AbortController()
  const aborted = hanging.loop.GET('/health', { signal: controller.signal })
  await collectWhile(hanging.server)
  const abortedAt = Date.now()
  controller.abort()
  await t.rejects(aborted, { name: 'AbortError' })
  t.ok(Date.now() - abortedAt < 1000, 'the caller\'s abort ends the attempt at once')
})

t.test('the caller\'s own abort stops the retries at once', async (t) => {
  const { server, loop } = await peer(t, [{ status: 503, headers: json, body: envelope('NOT_READY') }], { retryDelaysMs: [60_000] })
  const controller = new AbortController()
  const call = loop.GET('/health', { signal: controller.signal })
  await server.waitFor(1)
  const started = Date.now()
  controller.abort()
  await t.rejects(call, { name: 'AbortError' })
  t.ok(Date.now() - started < 1000, 'not after the minute\'s wait')
  t.equal(server.requests.length, 1)
})

t.test('paginate follows iterator until done, and a failing page is retried, not skipped', async (t) => {
  const { server, loop, retries } = await peer(t, [
    page([{ id: 'a' }, { id: 'b' }], 'it-2'),
    { status: 502, body: 'Bad Gateway' },
    page([{ id: 'c' }, { id: 'd' }], 'it-3'),
    page([{ id: 'e' }], null)
  ])
  const ids: string[] = []
  for await (const item of paginateOf(loop)('/api/signals', { query: { limit: 2, source: ['github'] } })) ids.push(item.id)
  t.same(ids, ['a', 'b', 'c', 'd', 'e'])
  t.same(server.requests.map((r) => r.path), [
    '/api/signals?limit=2&source=github',
    '/api/signals?limit=2&source=github&iterator=it-2',
    '/api/signals?limit=2&source=github&iterator=it-2',
    '/api/signals?limit=2&source=github&iterator=it-3'
  ], 'the filters on every page, and the 502 page asked again')
  t.equal(retries.length, 1)
})

t.test('paginate throws a LoopError for a page that fails for good, or is not a list page', async (t) => {
  const failing = await peer(t, [page([{ id: 'a' }], 'it-2'), { status: 422, headers: json, body: JSON.stringify({ ok: false, error: { code: 'VALIDATION_ERROR', message: 'iterator is not one this list returned', issues: [{ path: 'iterator', message: 'Invalid iterator', code: 'invalid_string' }] } }) }])
  const paginate = paginateOf(failing.loop)
  const seen: string[] = []
  await t.rejects((async () => { for await (const item of paginate('/api/signals')) seen.push(item.id) })(), { name: 'LoopError', status: 422, code: 'VALIDATION_ERROR', issues: [{ path: 'iterator' }] })
  t.same(seen, ['a'], 'the items before the failure were yielded')

  const old = await peer(t, [{ status: 200, headers: json, body: JSON.stringify({ ok: true, signals: [], nextCursor: null }) }])
  await t.rejects((async () => { for await (const _ of paginateOf(old.loop)('/api/signals')) t.fail('no items') })(), { name: 'LoopError', code: 'UNEXPECTED_RESPONSE' })
})

t.test('options are checked before any request', async (t) => {
  t.throws(() => createClient({ baseUrl: 'http://127.0.0.1:9', timeoutMs: 0 }), { name: 'TypeError', message: /timeoutMs/ })
  t.throws(() => createClient({ baseUrl: 'http://127.0.0.1:9', retryDelaysMs: [1000, -1] }), { name: 'TypeError', message: /retryDelaysMs/ })
})
