// createClient (the built @loop/sdk) against a running Loop over real HTTP: authenticated and
// public operations, the error envelope typed as `error`, and the options it refuses.
import t from 'tap'
import { createClient } from '@loop/sdk'
import { listeningLoop } from './loop-server.ts'

const loop = await listeningLoop(t)

t.test('an agent key lists, creates, claims and updates issues', async (t) => {
  const loopClient = createClient({ baseUrl: `${loop.baseUrl}/`, apiKey: await loop.keyWith(['issues:read', 'issues:write']) })
  const created = await loopClient.POST('/api/issues', { body: { title: 'Rotate the staging database password', type: 'task', priority: 2 } })
  t.equal(created.response.status, 201)
  const issueId = created.data?.issue.id
  t.type(issueId, 'string')

  const listed = await loopClient.GET('/api/issues', { params: { query: { status: ['todo'] } } })
  t.equal(listed.response.status, 200)
  t.ok(listed.data?.issues.some((issue) => issue.id === issueId), 'the new issue is listed')

  const claimed = await loopClient.POST('/api/issues/claim', { body: { agent: 'sdk-test' } })
  t.equal(claimed.response.status, 200)
  t.equal(claimed.data?.issue.id, issueId)
  t.equal(claimed.data?.issue.claimedBy, 'sdk-test')

  const done = await loopClient.PATCH('/api/issues/{id}', { params: { path: { id: issueId as string } }, body: { status: 'done' } })
  t.equal(done.data?.issue.status, 'done')

  const none = await loopClient.POST('/api/issues/claim', { body: { agent: 'sdk-test' } })
  t.equal(none.response.status, 204, 'nothing left to claim')
})

t.test('errors come back as the envelope in `error`', async (t) => {
  const readOnly = createClient({ baseUrl: loop.baseUrl, apiKey: await loop.keyWith(['issues:read']) })
  const forbidden = await readOnly.POST('/api/issues', { body: { title: 'x', type: 'task' } })
  t.equal(forbidden.response.status, 403)
  t.match(forbidden.error, { ok: false, error: { code: 'FORBIDDEN', message: String } })

  const anonymous = createClient({ baseUrl: loop.baseUrl })
  const unauthorized = await anonymous.GET('/api/issues')
  t.equal(unauthorized.response.status, 401)
  t.match(unauthorized.error, { ok: false, error: { code: 'UNAUTHORIZED' } })

  const revokedKey = 'lk_live_' + 'x'.repeat(40)
  const unknown = await createClient({ baseUrl: loop.baseUrl, apiKey: revokedKey }).GET('/api/issues')
  t.equal(unknown.response.status, 401)
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
