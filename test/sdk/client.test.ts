// createClient (the built @loop/sdk) against a running Loop over real HTTP: authenticated and
// public operations on the API's shapes (lists `{data, iterator, prevIterator, done}`, bare
// resources), `paginate` over every page, errors as the typed envelope and as LoopError, and a
// retried POST that Loop does once (its Idempotency-Key), through a proxy that loses an answer.
import t from 'tap'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { createClient, LoopError, type ErrorCode } from '@loop/sdk'
import type { TestContext } from '../helper.ts'
import { listeningLoop } from './loop-server.ts'

const loop = await listeningLoop(t)

t.test('an agent key lists, creates, claims and updates issues', async (t) => {
  const loopClient = createClient({ baseUrl: `${loop.baseUrl}/`, apiKey: await loop.keyWith(['issues:read', 'issues:write']) })
  const created = await loopClient.POST('/api/issues', { body: { title: 'Rotate the staging database password', type: 'task', priority: 2 } })
  t.equal(created.response.status, 201)
  const issueId = created.data?.id
  t.type(issueId, 'string')

  const listed = await loopClient.GET('/api/issues', { params: { query: { status: ['todo'] } } })
  t.equal(listed.response.status, 200)
  t.ok(listed.data?.data.some((issue) => issue.id === issueId), 'the new issue is listed')

  const claimed = await loopClient.POST('/api/issues/claim', { body: { agent: 'sdk-test' } })
  t.equal(claimed.response.status, 200)
  t.equal(claimed.data?.id, issueId)
  t.equal(claimed.data?.claimedBy, 'sdk-test')

  const done = await loopClient.PATCH('/api/issues/{id}', { params: { path: { id: issueId as string } }, body: { status: 'done' } })
  t.equal(done.data?.status, 'done')

  const none = await loopClient.POST('/api/issues/claim', { body: { agent: 'sdk-test' } })
  t.equal(none.response.status, 204, 'nothing left to claim')
})

t.test('paginate yields every item of a list across its pages, with the filters on each', async (t) => {
  const apiKey = await loop.keyWith(['issues:read', 'issues:write'])
  let gets = 0
  const loopClient = createClient({ baseUrl: loop.baseUrl, apiKey, fetch: (request, init) => { if (request.method === 'GET') gets++; return fetch(request, init) } })
  const ids: string[] = []
  for (let i = 0; i < 7; i++) {
    const created = await loopClient.POST('/api/issues', { body: { title: `Feature ${i}`, type: 'feature', priority: 3 } })
    ids.push(created.data?.id as string)
  }
  await loopClient.POST('/api/issues', { body: { title: 'A bug, filtered out', type: 'bug' } })
  const seen: string[] = []
  for await (const issue of loopClient.paginate('/api/issues', { query: { type: ['feature'], limit: 2 } })) {
    t.equal(issue.type, 'feature')
    seen.push(issue.id)
  }
  t.same([...seen].sort(), [...ids].sort(), 'all seven, each once')
  t.equal(gets, 4, 'pages of 2, 2, 2 and 1')

  const empty: unknown[] = []
  for await (const issue of loopClient.paginate('/api/issues', { query: { type: ['signal'] } })) empty.push(issue)
  t.same(empty, [], 'an empty list is one page and no items')
})

t.test('errors come back as the typed envelope in `error`, and paginate throws them as LoopError', async (t) => {
  const readOnly = createClient({ baseUrl: loop.baseUrl, apiKey: await loop.keyWith(['issues:read']) })
  const forbidden = await readOnly.POST('/api/issues', { body: { title: 'x', type: 'task' } })
  t.equal(forbidden.response.status, 403)
  t.match(forbidden.error, { ok: false, error: { code: 'FORBIDDEN', message: String } })
  const code: ErrorCode | undefined = forbidden.error?.error.code
  t.equal(code, 'FORBIDDEN')
  t.match(LoopError.from(forbidden.error, forbidden.response), { name: 'LoopError', status: 403, code: 'FORBIDDEN', issues: [] })

  const anonymous = createClient({ baseUrl: loop.baseUrl })
  const unauthorized = await anonymous.GET('/api/issues')
  t.equal(unauthorized.response.status, 401)
  t.match(unauthorized.error, { ok: false, error: { code: 'UNAUTHORIZED' } })

  await t.rejects((async () => { for await (const _ of readOnly.paginate('/api/issues', { query: { iterator: 'not-an-iterator' } })) t.fail('no page') })(),
    { name: 'LoopError', status: 422, code: 'VALIDATION_ERROR', issues: [{ path: 'iterator' }] }, 'a foreign iterator is a 422, thrown')
  await t.rejects((async () => { for await (const _ of readOnly.paginate('/api/keys')) t.fail('no page') })(), { name: 'LoopError', status: 403, code: 'FORBIDDEN' })

  const revokedKey = 'lk_live_' + 'x'.repeat(40)
  const unknown = await createClient({ baseUrl: loop.baseUrl, apiKey: revokedKey }).GET('/api/issues')
  t.equal(unknown.response.status, 401)
})

/** A proxy to Loop that forwards every request but answers 502 to the first `lose` of them, as if the answer was lost. */
async function lossyProxy (t: TestContext, lose: number) {
  let seen = 0
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      seen++
      const headers = Object.fromEntries(Object.entries(req.headers).filter(([name]) => name !== 'host' && name !== 'connection' && name !== 'content-length')) as Record<string, string>
      void fetch(`${loop.baseUrl}${req.url ?? ''}`, { method: req.method ?? 'GET', headers, ...(chunks.length > 0 ? { body: Buffer.concat(chunks) } : {}) }).then(async (answer) => {
        const body = Buffer.from(await answer.arrayBuffer())
        if (seen <= lose) { res.writeHead(502, { 'content-type': 'text/plain' }).end('Bad Gateway'); return }
        res.writeHead(answer.status, Object.fromEntries([...answer.headers].filter(([name]) => name !== 'content-encoding' && name !== 'transfer-encoding'))).end(body)
      })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { server.closeAllConnections(); server.close() })
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

t.test('a POST whose answer was lost is retried with its Idempotency-Key and done once', async (t) => {
  const apiKey = await loop.keyWith(['issues:read', 'issues:write', 'events:write', 'events:read'])
  const direct = createClient({ baseUrl: loop.baseUrl, apiKey })
  const throughProxy = createClient({ baseUrl: await lossyProxy(t, 1), apiKey, retryDelaysMs: [10] })
  const created = await throughProxy.POST('/api/issues', { body: { title: 'Created once though sent twice', type: 'task' } })
  t.equal(created.response.status, 201)
  t.equal(created.response.headers.get('idempotent-replayed'), 'true', 'the retry was answered from the first request')
  const listed = await direct.GET('/api/issues', { params: { query: { limit: 250 } } })
  t.equal(listed.data?.data.filter((issue) => issue.title === 'Created once though sent twice').length, 1, 'one issue')

  const eventsProxy = createClient({ baseUrl: await lossyProxy(t, 1), apiKey, retryDelaysMs: [10] })
  const payload = { eventId: '0d1c2b3a-4f5e-4a6b-8c7d-9e0f1a2b3c4d', occurredAt: '2026-05-19T12:00:00Z', brandId: '7d0c5a4e-2f6b-4c1e-9a63-5f0f8f1f2b11', email: 'once@example.com', source: 'inbound_lead', attribution: {} }
  const sent = await eventsProxy.POST('/api/events', { body: { event: 'lead.captured.v1', payload } })
  t.equal(sent.response.status, 200)
  t.equal(sent.response.headers.get('idempotent-replayed'), 'true', 'keyed by the eventId, the retry replays')
  t.equal(sent.data?.eventId, payload.eventId)
  const events = await direct.GET('/api/events', { params: { query: { limit: 250 } } })
  t.equal(events.data?.data.filter((event) => event.eventId === payload.eventId).length, 1, 'one stored event')
})

t.test('public operations work without a key', async (t) => {
  const anonymous = createClient({ baseUrl: loop.baseUrl })
  const schema = await anonymous.GET('/api/events/schema/{name}', { params: { path: { name: 'lead.captured.v1' } } })
  t.equal(schema.data?.name, 'lead.captured.v1')
  t.same(schema.data?.fields.email, { type: 'email', required: true })
  const health = await anonymous.GET('/health')
  t.equal(health.response.status, 200)
})

t.test('bad options are refused before any request', async (t) => {
  t.throws(() => createClient({ baseUrl: '' }), { name: 'TypeError', message: /baseUrl/ })
  t.throws(() => createClient({ baseUrl: loop.baseUrl, apiKey: 'sk_live_123' }), { name: 'TypeError', message: /apiKey/ })
})
