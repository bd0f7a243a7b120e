import t from 'tap'
import type { FastifyInstance, InjectOptions } from 'fastify'
import { build, envelope, operatorHeaders } from '../../helper.ts'
import { dependabotAlert, githubDelivery } from '../../fixtures/provider-deliveries.ts'

type Body = Record<string, unknown>

/**
 * A caller holding an operator key with `scopes`: the operator owns the signal issues providers
 * raise and sees every brand's, so readers and writers share one view (the walls between tenants
 * are test/reliability/tenancy.test.ts's).
 */
async function caller (app: FastifyInstance, scopes: string[]) {
  const headers = await operatorHeaders(app, scopes)
  return async (method: InjectOptions['method'], url: string, payload?: Body) =>
    await app.inject({ method, url, headers, ...(payload !== undefined ? { payload } : {}) })
}

const app = await build(t)
const reader = await caller(app, ['issues:read'])
const writer = await caller(app, ['issues:write'])

async function newIssue (fields: Body = {}): Promise<Body> {
  const res = await writer('POST', '/api/issues', { title: 'Upgrade lodash', ...fields })
  if (res.statusCode !== 201) throw new Error(`create failed: ${res.body}`)
  return res.json()
}

t.test('POST /api/issues creates a todo task of priority 3 with the next number', async (t) => {
  const res = await writer('POST', '/api/issues', { title: 'Write the release notes' })
  t.equal(res.statusCode, 201)
  const issue = res.json()
  t.notOk('ok' in issue, 'the issue itself, no wrapper')
  t.match(issue, {
    id: String,
    number: Number,
    type: 'task',
    status: 'todo',
    priority: 3,
    title: 'Write the release notes',
    description: null,
    signalId: null,
    assignee: null,
    claimedBy: null,
    claimedAt: null
  })
  t.match(issue.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
  const next = await newIssue()
  t.equal(next.number, issue.number + 1, 'numbers are sequential')
})

t.test('POST /api/issues takes type, priority, status triage, description and assignee', async (t) => {
  const issue = await newIssue({ type: 'bug', priority: 1, status: 'triage', description: 'Crashes on save', assignee: 'ada' })
  t.match(issue, { type: 'bug', priority: 1, status: 'triage', description: 'Crashes on save', assignee: 'ada' })
})

t.test('POST /api/issues with an Idempotency-Key: a retry replays the first answer, another body is 422', async (t) => {
  const headers = await operatorHeaders(app, ['issues:write'])
  const post = async (payload: Body) => await app.inject({ method: 'POST', url: '/api/issues', headers: { ...headers, 'idempotency-key': 'create-once' }, payload })
  const first = await post({ title: 'Created once' })
  t.equal(first.statusCode, 201)
  t.equal(first.headers['idempotent-replayed'], undefined)
  const replay = await post({ title: 'Created once' })
  t.equal(replay.statusCode, 201)
  t.equal(replay.headers['idempotent-replayed'], 'true')
  t.equal(replay.body, first.body, 'the same issue, not a second one')
  const reused = await post({ title: 'Something else' })
  t.equal(reused.statusCode, 422)
  t.match(reused.json(), envelope('IDEMPOTENCY_KEY_REUSED'))
  const listed = (await reader('GET', '/api/issues?limit=250')).json().data.filter((i: Body) => i.title === 'Created once')
  t.equal(listed.length, 1, 'stored once')
})

const invalidCreates: [string, Body, string][] = [
  ['a missing title', {}, 'required@title'],
  ['an empty title', { title: '' }, 'too_small@title'],
  ['type signal (reserved for webhooks)', { title: 'x', type: 'signal' }, 'invalid_enum_value@type'],
  ['priority 5', { title: 'x', priority: 5 }, 'too_big@priority'],
  ['status in_progress (use claim)', { title: 'x', status: 'in_progress' }, 'invalid_enum_value@status'],
  ['an unknown field', { title: 'x', owner: 'me' }, 'unrecognized_keys@owner'],
  ['a title over 500 characters', { title: 'x'.repeat(501) }, 'too_big@title']
]
for (const [name, payload, issue] of invalidCreates) {
  t.test(`POST /api/issues with ${name} is 422 VALIDATION_ERROR`, async (t) => {
    const res = await writer('POST', '/api/issues', payload)
    t.equal(res.statusCode, 422)
    t.match(res.json(), envelope('VALIDATION_ERROR'))
    t.ok(res.json().error.issues.some((i: { code: string, path: string }) => `${i.code}@${i.path}` === issue), JSON.stringify(res.json().error.issues))
  })
}

t.test('GET /api/issues/{id} returns a signal issue with its signal and payload', async (t) => {
  const delivered = (await app.inject(githubDelivery('dependabot_alert', dependabotAlert('critical')))).json()
  const res = await reader('GET', `/api/issues/${delivered.issueId}`)
  t.equal(res.statusCode, 200)
  const body = res.json()
  t.notOk('issue' in body || 'ok' in body, "the issue's fields at the top")
  t.match(body, { id: delivered.issueId, type: 'signal', status: 'triage', priority: 1, signalId: delivered.signalId, title: 'GitHub: dependabot alert: lodash (critical) in octo/app' })
  t.match(body.signal, {
    id: delivered.signalId,
    source: 'github',
    type: 'dependabot_alert',
    severity: 'critical',
    sourceId: 'dependabot_alert:octo/app:7',
    deliveryId: String,
    payloadHash: /^[0-9a-f]{64}$/,
    issueId: delivered.issueId,
    payload: { action: 'created', alert: { number: 7 } }
  })
})

t.test('GET /api/issues/{id} of an issue made through the API has signal null', async (t) => {
  const issue = await newIssue()
  const res = await reader('GET', `/api/issues/${String(issue.id)}`)
  t.equal(res.statusCode, 200)
  t.equal(res.json().signal, null)
})

t.test('an unknown id is 404 NOT_FOUND and a malformed one 422 VALIDATION_ERROR', async (t) => {
  const missing = await reader('GET', '/api/issues/00000000-0000-4000-8000-000000000000')
  t.equal(missing.statusCode, 404)
  t.match(missing.json(), envelope('NOT_FOUND'))
  const malformed = await reader('GET', '/api/issues/12')
  t.equal(malformed.statusCode, 422)
  t.match(malformed.json(), { error: { code: 'VALIDATION_ERROR', issues: [{ path: 'id', code: 'invalid_string' }] } })
  t.equal((await writer('PATCH', '/api/issues/00000000-0000-4000-8000-000000000000', { status: 'done' })).statusCode, 404)
  t.equal((await writer('PATCH', '/api/issues/nope', { status: 'done' })).statusCode, 422)
})

t.test('listing: most urgent first, then oldest first, filtered and paginated', async (t) => {
  const fresh = await build(t)
  const write = await caller(fresh, ['issues:write'])
  const read = await caller(fresh, ['issues:read'])
  const specs: Body[] = [
    { title: 'p3 first', priority: 3 },
    { title: 'p1 first', priority: 1, type: 'bug' },
    { title: 'p3 second', priority: 3, status: 'triage' },
    { title: 'p2 only', priority: 2, type: 'feature' },
    { title: 'p1 second', priority: 1, type: 'bug', status: 'triage' }
  ]
  for (const spec of specs) t.equal((await write('POST', '/api/issues', spec)).statusCode, 201)

  const all = await read('GET', '/api/issues')
  t.equal(all.statusCode, 200)
  t.same(all.json().data.map((i: Body) => i.title), ['p1 first', 'p1 second', 'p2 only', 'p3 first', 'p3 second'])
  t.match(all.json(), { iterator: null, prevIterator: null, done: true })

  const titles = async (query: string) => (await read('GET', `/api/issues?${query}`)).json().data.map((i: Body) => i.title)
  t.same(await titles('status=triage'), ['p1 second', 'p3 second'])
  t.same(await titles('type=bug&type=feature'), ['p1 first', 'p1 second', 'p2 only'], 'a repeated filter means any of')
  t.same(await titles('priority=3'), ['p3 first', 'p3 second'])
  t.same(await titles('priority=1&status=todo'), ['p1 first'], 'different filters combine')

  const first = (await read('GET', '/api/issues?limit=2')).json()
  const second = (await read('GET', `/api/issues?limit=2&iterator=${first.iterator as string}`)).json()
  t.same(second.data.map((i: Body) => i.title), ['p2 only', 'p3 first'])
  t.equal(second.done, false)
  const back = (await read('GET', `/api/issues?limit=2&iterator=${second.prevIterator as string}`)).json()
  t.same(back.data.map((i: Body) => i.title), ['p1 first', 'p1 second'], 'prevIterator pages back, in the same order')
  t.equal(back.done, false, 'a page paged back to has a next page')

  const seen: string[] = []
  let iterator: string | null = null
  let pages = 0
  do {
    const page = await read('GET', `/api/issues?limit=2${iterator === null ? '' : `&iterator=${iterator}`}`)
    t.equal(page.statusCode, 200)
    seen.push(...page.json().data.map((i: Body) => i.title))
    iterator = page.json().iterator
    t.equal(page.json().done, iterator === null, 'done exactly when there is no next iterator')
    pages++
    if (iterator !== null) await write('POST', '/api/issues', { title: `created while paging ${pages}`, priority: 1 })
  } while (iterator !== null && pages < 10)
  // Issues created mid-walk may land after the iterator (and be seen) or before it (and not be);
  // the ones that existed are each seen exactly once, in order.
  t.same(seen.filter((title) => !title.startsWith('created')), ['p1 first', 'p1 second', 'p2 only', 'p3 first', 'p3 second'], 'in order, nothing skipped')
  t.equal(new Set(seen).size, seen.length, 'no repeats')
})

t.test('listing refuses a limit over 250, an unknown filter value and a foreign iterator with 422', async (t) => {
  for (const query of ['limit=251', 'limit=0', 'status=open', 'priority=9', 'iterator=bm9wZQ', 'colour=red']) {
    const res = await reader('GET', `/api/issues?${query}`)
    t.equal(res.statusCode, 422, query)
    t.match(res.json(), envelope('VALIDATION_ERROR'))
  }
  t.equal((await reader('GET', '/api/issues?limit=250')).statusCode, 200, 'up to 250 a page')
  await newIssue()
  await newIssue()
  const triage = (await reader('GET', '/api/issues?status=todo&limit=1')).json()
  t.type(triage.iterator, 'string')
  const otherFilters = await reader('GET', `/api/issues?status=triage&limit=1&iterator=${triage.iterator as string}`)
  t.equal(otherFilters.statusCode, 422, 'an iterator made under other filters')
  t.match(otherFilters.json(), { error: { code: 'VALIDATION_ERROR', issues: [{ path: 'iterator' }] } })
  // The built-in event types are more than one page of one: their list hands out an iterator.
  const types = (await app.inject({ method: 'GET', url: '/api/events/schemas?limit=1' })).json()
  t.type(types.iterator, 'string')
  const foreign = await reader('GET', `/api/issues?iterator=${types.iterator as string}`)
  t.equal(foreign.statusCode, 422, "the event types list's iterator is not the issues list's")
  t.match(foreign.json(), { error: { code: 'VALIDATION_ERROR', issues: [{ path: 'iterator' }] } })
})

t.test('PATCH changes fields and walks the workflow triage → todo → in_progress → done', async (t) => {
  const issue = await newIssue({ status: 'triage' })
  const url = `/api/issues/${String(issue.id)}`
  for (const status of ['todo', 'in_progress', 'done']) {
    const res = await writer('PATCH', url, { status })
    t.equal(res.statusCode, 200, `to ${status}`)
    t.equal(res.json().status, status)
  }
  const renamed = await writer('PATCH', url, { title: 'Upgraded lodash', priority: 2, assignee: 'grace', description: null })
  t.match(renamed.json(), { title: 'Upgraded lodash', priority: 2, assignee: 'grace', description: null, status: 'done' })
  t.ok(String(renamed.json().updatedAt) >= String(issue.updatedAt), 'updatedAt moves forward')
})

t.test('PATCH with a transition the workflow refuses is 409 CONFLICT naming both states', async (t) => {
  const issue = await newIssue()
  await writer('PATCH', `/api/issues/${String(issue.id)}`, { status: 'done' })
  const res = await writer('PATCH', `/api/issues/${String(issue.id)}`, { status: 'in_progress' })
  t.equal(res.statusCode, 409)
  t.match(res.json(), envelope('CONFLICT'))
  t.match(res.json().error.message, /from done to in_progress/)
  t.equal((await reader('GET', `/api/issues/${String(issue.id)}`)).json().status, 'done', 'nothing changed')
})

t.test('PATCH to the status an issue already has changes nothing and is 200', async (t) => {
  const issue = await newIssue()
  const res = await writer('PATCH', `/api/issues/${String(issue.id)}`, { status: 'todo' })
  t.equal(res.statusCode, 200)
})

t.test('PATCH refuses an empty body, type signal and unknown fields with 422', async (t) => {
  const issue = await newIssue()
  for (const payload of [{}, { type: 'signal' }, { claimedBy: 'me' }, { status: 'open' }]) {
    const res = await writer('PATCH', `/api/issues/${String(issue.id)}`, payload)
    t.equal(res.statusCode, 422, JSON.stringify(payload))
  }
})

t.test('claiming hands out the most urgent issue, oldest first, and records who and when', async (t) => {
  const fresh = await build(t)
  const write = await caller(fresh, ['issues:write'])
  await write('POST', '/api/issues', { title: 'low', priority: 4 })
  const older = (await write('POST', '/api/issues', { title: 'urgent, older', priority: 1, status: 'triage' })).json()
  await write('POST', '/api/issues', { title: 'urgent, newer', priority: 1 })
  const res = await write('POST', '/api/issues/claim', { agent: 'claude-code@box-1' })
  t.equal(res.statusCode, 200)
  t.match(res.json(), { id: older.id, title: 'urgent, older', status: 'in_progress', claimedBy: 'claude-code@box-1', claimedAt: /Z$/ })
  t.equal((await write('POST', '/api/issues/claim', { agent: 'b' })).json().title, 'urgent, newer')
  t.equal((await write('POST', '/api/issues/claim', { agent: 'c' })).json().title, 'low')
  const none = await write('POST', '/api/issues/claim', { agent: 'd' })
  t.equal(none.statusCode, 204)
  t.equal(none.body, '')
})

t.test('claiming by type, and an issue assigned to someone else is left to them', async (t) => {
  const fresh = await build(t)
  const write = await caller(fresh, ['issues:write'])
  await write('POST', '/api/issues', { title: 'a feature', type: 'feature', priority: 1 })
  await write('POST', '/api/issues', { title: 'for grace', type: 'bug', priority: 1, assignee: 'grace' })
  await write('POST', '/api/issues', { title: 'a bug', type: 'bug', priority: 2 })
  t.equal((await write('POST', '/api/issues/claim', { agent: 'ada', types: ['bug'] })).json().title, 'a bug')
  t.equal((await write('POST', '/api/issues/claim', { agent: 'ada', types: ['bug'] })).statusCode, 204)
  t.equal((await write('POST', '/api/issues/claim', { agent: 'grace', types: ['bug'] })).json().title, 'for grace')
  t.equal((await write('POST', '/api/issues/claim', { agent: 'ada', types: ['signal'] })).statusCode, 204)
  t.equal((await write('POST', '/api/issues/claim', { agent: 'ada' })).json().title, 'a feature')
})

t.test('a claimed issue put back to todo is released and can be claimed again', async (t) => {
  const fresh = await build(t)
  const write = await caller(fresh, ['issues:write'])
  await write('POST', '/api/issues', { title: 'flaky test' })
  const claimed = (await write('POST', '/api/issues/claim', { agent: 'a' })).json()
  const released = await write('PATCH', `/api/issues/${String(claimed.id)}`, { status: 'todo' })
  t.match(released.json(), { status: 'todo', claimedBy: null, claimedAt: null })
  t.match((await write('POST', '/api/issues/claim', { agent: 'b' })).json(), { id: claimed.id, claimedBy: 'b' })
})

t.test('signal issues from webhooks are claimable', async (t) => {
  const fresh = await build(t)
  const write = await caller(fresh, ['issues:write'])
  const delivered = (await fresh.inject(githubDelivery('dependabot_alert', dependabotAlert('high')))).json()
  const res = await write('POST', '/api/issues/claim', { agent: 'openhands', types: ['signal'] })
  t.match(res.json(), { id: delivered.issueId, signalId: delivered.signalId, status: 'in_progress' })
})

t.test('claim refuses a missing or empty agent and unknown types with 422', async (t) => {
  for (const payload of [{}, { agent: '' }, { agent: 'a', types: ['epic'] }, { agent: 'a', types: [] }]) {
    t.equal((await writer('POST', '/api/issues/claim', payload)).statusCode, 422, JSON.stringify(payload))
  }
})

t.test('50 concurrent claims over 20 issues hand out 20 distinct issues and 30 empty answers', async (t) => {
  const fresh = await build(t)
  const write = await caller(fresh, ['issues:write'])
  for (let i = 0; i < 20; i++) await write('POST', '/api/issues', { title: `issue ${i}`, priority: (i % 4) + 1 })
  const responses = await Promise.all(Array.from({ length: 50 }, (_, i) => write('POST', '/api/issues/claim', { agent: `agent-${i}` })))
  const claimed = responses.filter((r) => r.statusCode === 200).map((r) => r.json())
  t.equal(claimed.length, 20)
  t.equal(responses.filter((r) => r.statusCode === 204).length, 30)
  t.equal(new Set(claimed.map((i) => i.id)).size, 20, 'no issue handed to two agents')
  t.equal(new Set(claimed.map((i) => i.claimedBy)).size, 20, 'each agent got at most one')
  const read = await caller(fresh, ['issues:read'])
  const inProgress = (await read('GET', '/api/issues?status=in_progress&limit=200')).json().data
  t.equal(inProgress.length, 20)
})
