import t from 'tap'
import { severityFromPosthog } from '../../../lib/severity/posthog.ts'
import type { Severity } from '../../../lib/severity/signal-mapping.ts'

const metric = (value: unknown, extra: Record<string, unknown> = {}) => ({ name: 'page_load_time', value, timeframe: 'last_7_days', ...extra })

const cases: [string, unknown, Severity, string][] = [
  ['35% is high', metric(35), 'high', 'PostHog: page_load_time 35% (last_7_days)'],
  ['exactly 50% is critical', metric(50), 'critical', 'PostHog: page_load_time 50% (last_7_days)'],
  ['49.9% is high', metric(49.9), 'high', 'PostHog: page_load_time 49.9% (last_7_days)'],
  ['exactly 25% is high', metric(25), 'high', 'PostHog: page_load_time 25% (last_7_days)'],
  ['24.99% is medium', metric(24.99), 'medium', 'PostHog: page_load_time 24.99% (last_7_days)'],
  ['exactly 10% is medium', metric(10), 'medium', 'PostHog: page_load_time 10% (last_7_days)'],
  ['9.99% is low', metric(9.99), 'low', 'PostHog: page_load_time 9.99% (last_7_days)'],
  ['0% is low', metric(0), 'low', 'PostHog: page_load_time 0% (last_7_days)'],
  ['-50% is critical (magnitude counts)', metric(-50), 'critical', 'PostHog: page_load_time -50% (last_7_days)'],
  ['-30% is high', metric(-30), 'high', 'PostHog: page_load_time -30% (last_7_days)'],
  ['-10% is medium', metric(-10), 'medium', 'PostHog: page_load_time -10% (last_7_days)'],
  ['-9% is low', metric(-9), 'low', 'PostHog: page_load_time -9% (last_7_days)'],
  ['a numeric string value counts', metric('60'), 'critical', 'PostHog: page_load_time 60% (last_7_days)'],
  ['a missing value is low', { name: 'signups', timeframe: 'last_24_hours' }, 'low', 'PostHog: signups (last_24_hours)'],
  ['the timeframe defaults to recent', { name: 'signups', value: 12 }, 'medium', 'PostHog: signups 12% (recent)'],
  ['event.name is used when present', { event: { name: 'checkout_conversion' }, value: -27, timeframe: 'last_30_days' }, 'high', 'PostHog: checkout_conversion -27% (last_30_days)'],
  ['event.name wins over name', { event: { name: 'a' }, name: 'b', value: 1 }, 'low', 'PostHog: a 1% (recent)'],
  ['a payload with nothing known is a low metric change', {}, 'low', 'PostHog: metric (recent)']
]

for (const [name, payload, severity, title] of cases) {
  t.test(name, async (t) => {
    const mapped = severityFromPosthog(payload)
    t.equal(mapped.severity, severity)
    t.equal(mapped.title, title)
  })
}

t.test('metric alerts have type metric_change and no sourceId', async (t) => {
  t.same(severityFromPosthog(metric(35)), { severity: 'high', title: 'PostHog: page_load_time 35% (last_7_days)', type: 'metric_change' })
})

// PostHog's HTTP-webhook destination, default body `{ event: "{event}", person: "{person}" }`.
const httpWebhook = (event: string, properties: Record<string, unknown>) => ({
  event: {
    uuid: '0192f1c3-7d2e-7c1a-9b1e-5a4c3d2e1f00',
    event,
    distinct_id: 'team_1',
    properties,
    timestamp: '2026-11-25T10:00:00.000Z',
    url: 'https://us.posthog.com/project/1/events/0192f1c3'
  },
  person: { id: 'p1', name: 'ada@example.com', properties: {}, url: 'https://us.posthog.com/person/p1' }
})

t.test('a firing insight alert is at least high, titled by alert, insight and breaches', async (t) => {
  const mapped = severityFromPosthog(httpWebhook('$insight_alert_firing', {
    alert_id: '0193a2b4-1111-7000-8000-000000000001',
    alert_name: 'Signups dropped',
    insight_name: 'Daily signups',
    insight_id: 'AbC123',
    state: 'Firing',
    breaches: 'The insight value (42) for previous interval is below the lower threshold (50)'
  }))
  t.same(mapped, {
    severity: 'high',
    title: 'PostHog: alert Signups dropped firing on Daily signups: The insight value (42) for previous interval is below the lower threshold (50)',
    type: 'insight_alert',
    sourceId: '0193a2b4-1111-7000-8000-000000000001',
    description: 'Source: https://us.posthog.com/project/1/events/0192f1c3'
  })
})

t.test('a firing insight alert with a large change is critical; breaches given as a list are joined', async (t) => {
  const mapped = severityFromPosthog(httpWebhook('$insight_alert_firing', { alert_name: 'Errors up', value: 80, breaches: ['a', 'b'] }))
  t.equal(mapped.severity, 'critical')
  t.equal(mapped.title, 'PostHog: alert Errors up firing: a, b')
})

t.test('a firing insight alert with a small change is still high', async (t) => {
  t.equal(severityFromPosthog(httpWebhook('$insight_alert_firing', { alert_name: 'x', value: 3 })).severity, 'high')
})

t.test('a flattened `{ event: "$insight_alert_firing", properties }` body is recognised too', async (t) => {
  const mapped = severityFromPosthog({ event: '$insight_alert_firing', properties: { alert_name: 'Churn', insight_name: 'Weekly churn' } })
  t.match(mapped, { severity: 'high', title: 'PostHog: alert Churn firing on Weekly churn', type: 'insight_alert' })
})

t.test('any other HTTP-webhook event is low, titled by event and person, with the event uuid as sourceId', async (t) => {
  t.same(severityFromPosthog(httpWebhook('$pageview', { $current_url: 'https://acme.test/' })), {
    severity: 'low',
    title: 'PostHog: $pageview by ada@example.com',
    type: 'event',
    sourceId: '0192f1c3-7d2e-7c1a-9b1e-5a4c3d2e1f00',
    description: 'Source: https://us.posthog.com/project/1/events/0192f1c3'
  })
})
