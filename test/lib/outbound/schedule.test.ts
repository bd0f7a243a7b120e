import t from 'tap'
import { jittered, parseRetryAfter, RETRY_AFTER_CAP_MS, scheduleNextAttempt, type NextState } from '../../../lib/outbound/schedule.ts'

const schedule = [60_000, 300_000, 1_800_000, 7_200_000, 86_400_000]
// random() = 0.5 draws the middle of the ±20% band: the nominal delay.
const middle = () => 0.5
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
  ['a 199 is not a success', 199, 1, false, { status: 'pending', retryInMs: 60_000 }],
  ['a 410 means gone: the endpoint is disabled, not retried', 410, 1, false, { status: 'gone' }],
  ['a 410 on the last attempt is gone too, not exhausted', 410, 6, false, { status: 'gone' }],
  ['a 410 to a manual retry is gone too', 410, 7, true, { status: 'gone' }]
]
for (const [name, statusCode, attempt, manualRetry, expected] of cases) {
  t.test(name, async (t) => t.same(scheduleNextAttempt({ outcome: { statusCode }, attempt, manualRetry, schedule, random: middle }), expected))
}

t.test('an empty schedule means one attempt only', async (t) => {
  t.same(scheduleNextAttempt({ outcome: { statusCode: 500 }, attempt: 1, manualRetry: false, schedule: [] }), { status: 'failed', exhausted: true })
})

const now = Date.parse('2026-12-11T12:00:00.000Z')
const retryAfterCases: [string, string | null | undefined, number | null][] = [
  ['delay-seconds', '3', 3_000],
  ['delay-seconds with spaces around', ' 120 ', 120_000],
  ['zero: at once', '0', 0],
  ['an IMF-fixdate 90 s ahead', 'Fri, 11 Dec 2026 12:01:30 GMT', 90_000],
  ['an RFC 850 date 10 s ahead', 'Friday, 11-Dec-26 12:00:10 GMT', 10_000],
  ['an asctime date 5 s ahead (UTC)', 'Fri Dec 11 12:00:05 2026', 5_000],
  ['a date in the past: at once', 'Fri, 11 Dec 2026 11:00:00 GMT', 0],
  ['a day of seconds is cut to the 1 hour cap', '86400', RETRY_AFTER_CAP_MS],
  ['a date next week is cut to the cap', 'Fri, 18 Dec 2026 12:00:00 GMT', RETRY_AFTER_CAP_MS],
  ['a number too large for any clock is cut to the cap', '99999999999999999999999', RETRY_AFTER_CAP_MS],
  ['negative seconds are not a delay', '-5', null],
  ['fractional seconds are not delay-seconds', '1.5', null],
  ['an ISO date is not an HTTP date', '2026-12-11T12:01:00Z', null],
  ['words are not a date', 'tomorrow', null],
  ['empty', '', null],
  ['absent', undefined, null],
  ['null', null, null]
]
for (const [name, text, expected] of retryAfterCases) {
  t.test(`Retry-After: ${name}`, async (t) => t.equal(parseRetryAfter(text, now), expected))
}

t.test('a throttling answer with Retry-After sets the next attempt instead of the schedule, without jitter', async (t) => {
  for (const statusCode of [429, 502, 503, 504]) {
    t.same(scheduleNextAttempt({ outcome: { statusCode, retryAfter: '3' }, attempt: 1, manualRetry: false, schedule, now, random: () => 0 }), { status: 'pending', retryInMs: 3_000 }, `${statusCode}`)
  }
  t.same(scheduleNextAttempt({ outcome: { statusCode: 503, retryAfter: 'Fri, 11 Dec 2026 12:00:42 GMT' }, attempt: 2, manualRetry: false, schedule, now }), { status: 'pending', retryInMs: 42_000 }, 'an HTTP date')
  t.same(scheduleNextAttempt({ outcome: { statusCode: 429, retryAfter: 'soon' }, attempt: 1, manualRetry: false, schedule, now, random: middle }), { status: 'pending', retryInMs: 60_000 }, 'an unreadable one: the schedule')
  t.same(scheduleNextAttempt({ outcome: { statusCode: 429 }, attempt: 1, manualRetry: false, schedule, now, random: middle }), { status: 'pending', retryInMs: 60_000 }, 'none: the schedule')
})

t.test('Retry-After on other answers is ignored, and never adds an attempt beyond the schedule', async (t) => {
  t.same(scheduleNextAttempt({ outcome: { statusCode: 500, retryAfter: '3' }, attempt: 1, manualRetry: false, schedule, now, random: middle }), { status: 'pending', retryInMs: 60_000 }, 'a 500 follows the schedule')
  t.same(scheduleNextAttempt({ outcome: { statusCode: 301, retryAfter: '3' }, attempt: 1, manualRetry: false, schedule, now, random: middle }), { status: 'pending', retryInMs: 60_000 }, 'a 301 too')
  t.same(scheduleNextAttempt({ outcome: { statusCode: 429, retryAfter: '3' }, attempt: 6, manualRetry: false, schedule, now }), { status: 'failed', exhausted: true }, 'the last attempt stays the last')
  t.same(scheduleNextAttempt({ outcome: { statusCode: 429, retryAfter: '3' }, attempt: 7, manualRetry: true, schedule, now }), { status: 'failed', exhausted: false }, 'a manual retry stays one attempt')
})

t.test('jitter keeps every delay within ±20% of the schedule, and spreads them', async (t) => {
  t.equal(jittered(60_000, () => 0), 48_000, 'the lowest draw: -20%')
  t.equal(jittered(60_000, () => 0.999999), 72_000, 'the highest draw: just under +20%')
  t.equal(jittered(60_000, middle), 60_000)
  for (const [attempt, delay] of schedule.map((d, i) => [i + 1, d] as const)) {
    const drawn = Array.from({ length: 2000 }, () => {
      const next = scheduleNextAttempt({ outcome: { statusCode: 500 }, attempt, manualRetry: false, schedule })
      return next.status === 'pending' ? next.retryInMs : Number.NaN
    })
    t.ok(drawn.every((ms) => ms >= delay * 0.8 && ms <= delay * 1.2), `retry ${attempt}: every draw within [${delay * 0.8}, ${delay * 1.2}]`)
    t.ok(Math.min(...drawn) < delay * 0.85 && Math.max(...drawn) > delay * 1.15, `retry ${attempt}: the draws cover the band (${Math.min(...drawn)}..${Math.max(...drawn)})`)
  }
})
