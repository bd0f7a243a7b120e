import t from 'tap'
import type { InjectOptions } from 'fastify'
import { build, envelope, operatorHeaders } from '../../../helper.ts'
import { dependabotAlert, githubDelivery, posthogDelivery, sentryDelivery, sentryIssue } from '../../../fixtures/provider-deliveries.ts'

const app = await build(t)
// Provider signals are the operator's (docs/tenancy.md).
const headers = await operatorHeaders(app, ['signals:read'])
const read = async (url: string) => await app.inject({ method: 'GET', url, headers } satisfies InjectOptions)

const github = (await app.inject(githubDelivery('dependabot_alert', dependabotAlert('high')))).json()
const sentry = (await app.inject(sentryDelivery(sentryIssue({ level: 'fatal' })))).json()
const posthog = (await app.inject(posthogDelivery({ name: 'page_load_time', value: 35, timeframe: 'last_7_days' }))).json()

t.test('GET /api/signals lists signals newest first, each with its issue and without payload', async (t) => {
  const res = await read('/api/signals')
  t.equal(res.statusCode, 200)
  const { data: signals, iterator, prevIterator, done } = res.json()
  t.same(signals.map((s: { id: string }) => s.id), [posthog.signalId, sentry.signalId, github.signalId])
  t.match(signals[1], { source: 'sentry', type: 'created', severity: 'critical', sourceId: '1170820242', deliveryId: String, issueId: sentry.issueId })
  t.notOk('payload' in signals[0], 'payloads stay out of lists')
  t.equal(iterator, null)
  t.equal(prevIterator, null, 'nothing before the first page')
  t.equal(done, true)
})

t.test('GET /api/signals filters by source and severity', async (t) => {
  const ids = async (query: string) => (await read(`/api/signals?${query}`)).json().data.map((s: { id: string }) => s.id)
  t.same(await ids('source=github'), [github.signalId])
  t.same(await ids('source=github&source=posthog'), [posthog.signalId, github.signalId])
  t.same(await ids('severity=critical'), [sentry.signalId])
  t.same(await ids('severity=low'), [])
})

t.test('GET /api/signals pages with an opaque iterator', async (t) => {
  const first = (await read('/api/signals?limit=2')).json()
  t.equal(first.data.length, 2)
  t.type(first.iterator, 'string')
  t.equal(first.done, false)
  const second = (await read(`/api/signals?limit=2&iterator=${first.iterator}`)).json()
  t.same(second.data.map((s: { id: string }) => s.id), [github.signalId])
  t.equal(second.iterator, null)
  t.equal(second.done, true)
  const back = (await read(`/api/signals?limit=2&iterator=${second.prevIterator}`)).json()
  t.same(back.data.map((s: { id: string }) => s.id), [posthog.signalId, sentry.signalId], 'prevIterator pages back')
  const foreign = await read('/api/signals?iterator=WzEsIm5vdC1hLXV1aWQiXQ')
  t.equal(foreign.statusCode, 422)
  t.match(foreign.json(), envelope('VALIDATION_ERROR'))
  t.match(foreign.json(), { error: { issues: [{ path: 'iterator' }] } })
  const filtered = (await read('/api/signals?source=github&source=posthog&limit=1')).json()
  t.type(filtered.iterator, 'string')
  const otherFilters = await read(`/api/signals?source=github&limit=1&iterator=${filtered.iterator}`)
  t.equal(otherFilters.statusCode, 422, 'an iterator made under other filters')
  t.match(otherFilters.json(), { error: { code: 'VALIDATION_ERROR', issues: [{ path: 'iterator' }] } })
  const sameFilters = await read(`/api/signals?source=posthog&source=github&limit=1&iterator=${filtered.iterator}`)
  t.same(sameFilters.json().data.map((s: { id: string }) => s.id), [github.signalId], 'the same filters in another order')
  const issues = (await app.inject({ method: 'GET', url: '/api/issues?limit=1', headers: await operatorHeaders(app, ['issues:read']) })).json()
  t.type(issues.iterator, 'string')
  const ofIssues = await read(`/api/signals?iterator=${issues.iterator}`)
  t.equal(ofIssues.statusCode, 422, "the issues list's iterator is not the signals list's")
  t.match(ofIssues.json(), { error: { code: 'VALIDATION_ERROR', issues: [{ path: 'iterator' }] } })
  t.equal((await read('/api/signals?limit=250')).statusCode, 200)
  t.equal((await read('/api/signals?limit=251')).statusCode, 422, 'at most 250 a page')
})

t.test('GET /api/signals/{id} returns the payload as received and its issue', async (t) => {
  const res = await read(`/api/signals/${sentry.signalId}`)
  t.equal(res.statusCode, 200)
  t.notOk('signal' in res.json() || 'ok' in res.json(), 'the signal itself, no wrapper')
  t.match(res.json(), {
    id: sentry.signalId,
    issueId: sentry.issueId,
    source: 'sentry',
    payload: { action: 'created', data: { issue: { id: '1170820242', level: 'fatal', count: '523' } } },
    createdAt: /Z$/
  })
})

t.test('GET /api/signals/{id}: unknown is 404, malformed is 422', async (t) => {
  const missing = await read('/api/signals/00000000-0000-4000-8000-000000000000')
  t.equal(missing.statusCode, 404)
  t.match(missing.json(), envelope('NOT_FOUND'))
  t.equal((await read('/api/signals/github')).statusCode, 422)
})
