import t from 'tap'
import { scheduleNextAttempt, type NextState } from '../../../lib/outbound/schedule.ts'

const schedule = [60_000, 300_000, 1_800_000, 7_200_000, 86_400_000]
const cases: [string, number | null, number, boolean, NextState][] = [
  ['a 200 succeeds', 200, 1, false, { status: 'succeeded' }],
  ['a 204 succeeds', 204, 3, false, { status: 'succeeded' }],
  ['a 500 on attempt 1 retries after 1 minute', 500, 1, false, { status: 'pending', retryInMs: 60_000 }],
  ['a timeout on attempt 2 retries after 5 minutes', null, 2, false, { status: 'pending', retryInMs: 300_000 }],
  ['a 302 is a failure: redirects are not followed', 302, 3, false, { status: 'pending', retryInMs: 1_800_000 }],
  ['a 404 on attempt 5 retries after 24 hours', 404, 5, false, { status: 'pending', retryInMs: 86_400_000 }],
  ['attempt 6 failing exhausts the schedule', 503, 6, false, { status: 'failed', exhausted: true }],
  ['a failed manual retry just fails', 500, 7, true, { status: 'failed', exhausted: false }],
  ['a manual retry can succeed', 200, 7, true, { status: 'succeeded' }],
  ['a 199 is not a success', 199, 1, false, { status: 'pending', retryInMs: 60_000 }]
]
for (const [name, statusCode, attempt, manualRetry, expected] of cases) {
  t.test(name, async (t) => t.same(scheduleNextAttempt({ outcome: { statusCode }, attempt, manualRetry, schedule }), expected))
}

t.test('an empty schedule means one attempt only', async (t) => {
  t.same(scheduleNextAttempt({ outcome: { statusCode: 500 }, attempt: 1, manualRetry: false, schedule: [] }), { status: 'failed', exhausted: true })
})
