import t from 'tap'
import { severityFromSentry } from '../../../lib/severity/sentry.ts'
import type { Severity } from '../../../lib/severity/signal-mapping.ts'

const issue = (fields: Record<string, unknown>) => ({ action: 'created', data: { issue: { id: '1170820242', title: 'TypeError: undefined is not a function', ...fields } } })

const cases: [string, unknown, Severity, string][] = [
  ['fatal is critical whatever the count', issue({ level: 'fatal', count: '1' }), 'critical', 'Sentry: TypeError: undefined is not a function (1 event)'],
  ['error with 523 events is critical', issue({ level: 'error', count: '523' }), 'critical', 'Sentry: TypeError: undefined is not a function (523 events)'],
  ['error with exactly 100 events is critical', issue({ level: 'error', count: 100 }), 'critical', 'Sentry: TypeError: undefined is not a function (100 events)'],
  ['error with 99 events is high', issue({ level: 'error', count: '99' }), 'high', 'Sentry: TypeError: undefined is not a function (99 events)'],
  ['error without a count is high', issue({ level: 'error' }), 'high', 'Sentry: TypeError: undefined is not a function'],
  ['warning is medium even with many events', issue({ level: 'warning', count: '5000' }), 'medium', 'Sentry: TypeError: undefined is not a function (5000 events)'],
  ['info is low', issue({ level: 'info', count: '2' }), 'low', 'Sentry: TypeError: undefined is not a function (2 events)'],
  ['debug is low', issue({ level: 'debug' }), 'low', 'Sentry: TypeError: undefined is not a function'],
  ['a missing level is low, even with a large count', issue({ count: '1000' }), 'low', 'Sentry: TypeError: undefined is not a function (1000 events)'],
  ['the level is read case-insensitively', issue({ level: 'FATAL' }), 'critical', 'Sentry: TypeError: undefined is not a function'],
  ['a count that is not a number is ignored', issue({ level: 'error', count: 'many' }), 'high', 'Sentry: TypeError: undefined is not a function'],
  ['data.error is read when there is no data.issue', { action: 'created', data: { error: { title: 'ReferenceError: x is not defined', level: 'error', count: 150 } } }, 'critical', 'Sentry: ReferenceError: x is not defined (150 events)'],
  ['data.event (event alerts) is read too', { action: 'triggered', data: { event: { title: 'OOM', level: 'fatal' } } }, 'critical', 'Sentry: OOM'],
  ['a payload without data is low and still titled', { action: 'created' }, 'low', 'Sentry: event created'],
  ['an empty object is low', {}, 'low', 'Sentry: event received']
]

for (const [name, payload, severity, title] of cases) {
  t.test(name, async (t) => {
    const mapped = severityFromSentry(payload)
    t.equal(mapped.severity, severity)
    t.equal(mapped.title, title)
  })
}

t.test('action becomes the type (default event) and data.issue.id the sourceId', async (t) => {
  t.match(severityFromSentry(issue({ level: 'error' })), { type: 'created', sourceId: '1170820242' })
  t.match(severityFromSentry({ data: { error: { title: 'x', issue_id: '42' } } }), { type: 'event', sourceId: '42' })
  t.equal(severityFromSentry({ data: {} }).sourceId, undefined)
})

t.test('the resource header names what arrived when the payload has no title', async (t) => {
  t.equal(severityFromSentry({ action: 'created' }, 'installation').title, 'Sentry: installation created')
})

t.test('an over-long title is clipped to 500 characters', async (t) => {
  const mapped = severityFromSentry(issue({ title: 'x'.repeat(2000), level: 'error' }))
  t.equal(mapped.title.length, 500)
  t.ok(mapped.title.endsWith('…'))
})
