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
  const { signals, nextCursor } = res.json()
  t.same(signals.map((s: { id: string }) => s.id), [posthog.signalId, sentry.signalId, github.signalId])
  t.match(signals[1], { source: 'sentry', type: 'created', severity: 'critical', sourceId: '1170820242', deliveryId: String, issueId: sentry.issueId })
  t.notOk('payload' in signals[0], 'payloads stay out of lists')
  t.equal(nextCursor, null)
})

t.test('GET /api/signals filters by source and severity', async (t) => {
  const ids = async (query: string) => (await read(`/api/signals?${query}`)).json().signals.map((s: { id: string }) => s.id)
  t.same(await ids('source=github'), [github.signalId])
  t.same(await ids('source=github&source=posthog'), [posthog.signalId, github.signalId])
  t.same(await ids('severity=critical'), [sentry.signalId])
  t.same(await ids('severity=low'), [])
})

t.test('GET /api/signals pages with an opaque cursor', async (t) => {
  const first = (await read('/api/signals?limit=2')).json()
  t.equal(first.signals.length, 2)
  t.type(first.nextCursor, 'string')
  const second = (await read(`/api/signals?limit=2&cursor=${first.nextCursor}`)).json()
  t.same(second.signals.map((s: { id: string }) => s.id), [github.signalId])
  t.equal(second.nextCursor, null)
  const foreign = await read('/api/signals?cursor=WzEsIm5vdC1hLXV1aWQiXQ')
  t.equal(foreign.statusCode, 422)
  t.match(foreign.json(), envelope('VALIDATION_ERROR'))
})

t.test('GET /api/signals/{id} returns the payload as received and its issue', async (t) => {
  const res = await read(`/api/signals/${sentry.signalId}`)
  t.equal(res.statusCode, 200)
  t.match(res.json().signal, {
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
