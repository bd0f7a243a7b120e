import t from 'tap'
import { build, envelope, testSecrets } from '../../../helper.ts'
import { posthogDelivery } from '../../../fixtures/provider-deliveries.ts'
import { countRows, issueRow } from '../../../fixtures/database-rows.ts'

const app = await build(t)

t.test('a 35% metric change over last_7_days is 201 and becomes a priority-2 issue', async (t) => {
  const res = await app.inject(posthogDelivery({ name: 'page_load_time', value: 35, timeframe: 'last_7_days' }))
  t.equal(res.statusCode, 201)
  t.match(await issueRow(app, res.json().issueId), { type: 'signal', status: 'triage', priority: 2, title: 'PostHog: page_load_time 35% (last_7_days)' })
})

t.test('a -60% change under event.name without a timeframe is priority 1, over a recent timeframe', async (t) => {
  const res = await app.inject(posthogDelivery({ event: { name: 'checkout_conversion' }, value: -60 }))
  t.equal(res.statusCode, 201)
  t.match(await issueRow(app, res.json().issueId), { priority: 1, title: 'PostHog: checkout_conversion -60% (recent)' })
})

t.test('an $insight_alert_firing event from the HTTP-webhook destination is at least priority 2', async (t) => {
  const res = await app.inject(posthogDelivery({
    event: {
      uuid: '0192f1c3-7d2e-7c1a-9b1e-5a4c3d2e1f00',
      event: '$insight_alert_firing',
      distinct_id: 'team_1',
      properties: { alert_id: '0193a2b4-1111-7000-8000-000000000001', alert_name: 'Signups dropped', insight_name: 'Daily signups', state: 'Firing', breaches: 'The insight value (42) is below the lower threshold (50)' },
      timestamp: '2026-11-25T10:00:00.000Z'
    },
    person: null
  }))
  t.equal(res.statusCode, 201)
  t.match(await issueRow(app, res.json().issueId), {
    priority: 2,
    title: 'PostHog: alert Signups dropped firing on Daily signups: The insight value (42) is below the lower threshold (50)'
  })
})

t.test('a plain { event, person } webhook becomes a priority-4 issue', async (t) => {
  const res = await app.inject(posthogDelivery({
    event: { uuid: '0192f1c3-aaaa-7c1a-9b1e-5a4c3d2e1f00', event: 'subscription_cancelled', distinct_id: 'u_42', properties: { plan: 'pro' } },
    person: { id: 'p1', name: 'ada@example.com', properties: {} }
  }))
  t.equal(res.statusCode, 201)
  t.match(await issueRow(app, res.json().issueId), { priority: 4, title: 'PostHog: subscription_cancelled by ada@example.com' })
})

const rejected: [string, Parameters<typeof posthogDelivery>[1]][] = [
  ['a wrong secret', { secret: 'not-the-secret' }],
  ['a missing X-PostHog-Secret header', { headers: { 'x-posthog-secret': undefined } }],
  ['the GitHub secret', { secret: testSecrets.GITHUB_WEBHOOK_SECRET }],
  ['the secret with a trailing character', { secret: `${testSecrets.POSTHOG_WEBHOOK_SECRET}x` }]
]
for (const [name, options] of rejected) {
  t.test(`${name} is 401 UNAUTHORIZED and creates nothing`, async (t) => {
    const before = await countRows(app, 'signal')
    const res = await app.inject(posthogDelivery({ name: 'x', value: 99 }, options))
    t.equal(res.statusCode, 401)
    t.match(res.json(), envelope('UNAUTHORIZED'))
    t.equal(await countRows(app, 'signal'), before)
  })
}

t.test('PostHog sends no delivery id: the same body twice is 200 duplicate the second time', async (t) => {
  const payload = { name: 'signups', value: 12, timeframe: 'last_24_hours' }
  const first = await app.inject(posthogDelivery(payload))
  t.equal(first.statusCode, 201)
  const before = await countRows(app, 'issue')
  const again = await app.inject(posthogDelivery(payload))
  t.equal(again.statusCode, 200)
  t.same(again.json(), { ...first.json(), duplicate: true })
  t.equal(await countRows(app, 'issue'), before)
})

t.test('10 concurrent copies of one PostHog body create exactly one issue', async (t) => {
  const payload = { name: 'error_rate', value: 70, timeframe: 'last_hour' }
  const before = await countRows(app, 'issue')
  const responses = await Promise.all(Array.from({ length: 10 }, () => app.inject(posthogDelivery(payload))))
  t.same(responses.map((r) => r.statusCode).sort(), [200, 200, 200, 200, 200, 200, 200, 200, 200, 201])
  t.equal(await countRows(app, 'issue'), before + 1)
})

t.test('malformed JSON is 400, a JSON string is 400', async (t) => {
  t.equal((await app.inject(posthogDelivery(null, { body: '{"name":' }))).statusCode, 400)
  const string = await app.inject(posthogDelivery(null, { body: '"page_load_time"' }))
  t.equal(string.statusCode, 400)
  t.match(string.json(), envelope('BAD_REQUEST'))
})

t.test('with POSTHOG_WEBHOOK_SECRET unset, even the right header is 500 NOT_CONFIGURED', async (t) => {
  const unconfigured = await build(t, { POSTHOG_WEBHOOK_SECRET: '' })
  const res = await unconfigured.inject(posthogDelivery({ name: 'x', value: 1 }))
  t.equal(res.statusCode, 500)
  t.match(res.json(), envelope('NOT_CONFIGURED'))
  t.equal(await countRows(unconfigured, 'signal'), 0)
})
