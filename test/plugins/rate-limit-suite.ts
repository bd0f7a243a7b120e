// The rate-limit behaviour Loop promises (docs/api.md#rate-limits), over HTTP. Run twice: in-process
// buckets (rate-limit.test.ts) and Redis (rate-limit-redis.test.ts).
import type tap from 'tap'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { authHeaders } from '../helper.ts'

/** A tap (sub)test: the argument of `t.test`'s callback (tap exports no shorter name for it). */
export type SuiteTest = Parameters<Parameters<typeof tap.test>[0]>[0]

/** A route that needs a key with events:read and does nothing else: the cost measured is auth + limit. */
export function addPingRoutes (app: FastifyInstance): void {
  app.get('/api/test/ping', { schema: { security: [{ bearer: ['events:read'] }] } }, async () => ({ ok: true }))
  // Unauthenticated webhook-style routes, added after the plugins: the per-IP limit still applies.
  app.post('/webhooks/test/ping', async () => ({ ok: true }))
  app.post('/api/signals/test-provider', async () => ({ ok: true }))
  // Under /api/signals/ but taking a key: limited per key, not per IP.
  app.get('/api/signals/test-list', { schema: { security: [{ bearer: ['signals:read'] }] } }, async () => ({ ok: true }))
}

/**
 * The time the buckets go by, as the suite reads and moves it: in-process buckets take a stepped
 * clock (BuildOptions.now), so a refill is a step, not a wait; Redis buckets keep Redis's own
 * clock, where a refill takes real time.
 */
export interface SuiteClock {
  now: () => number
  /** Moves the buckets' time on by `ms`. */
  advance: (ms: number) => Promise<void>
}

/** Redis's (and the wall's) clock: moving it on is waiting. */
export const realClock: SuiteClock = {
  now: Date.now,
  advance: async (ms) => await new Promise((resolve) => setTimeout(resolve, ms))
}

/** A clock that stands still until the test moves it: for apps built with `{ now: clock.now }`. */
export function steppedClock (start = Date.now()): SuiteClock {
  let at = start
  return { now: () => at, advance: async (ms) => { at += ms } }
}

interface Batch { responses: LightMyRequestResponse[], ok: number, limited: number, startedAt: number, endedAt: number }

/** `count` requests at once, spread over `apps` in turn; `now` is the buckets' clock. */
export async function batch (apps: FastifyInstance[], count: number, headers: Record<string, string>, url = '/api/test/ping', method: 'GET' | 'POST' = 'GET', now: () => number = Date.now): Promise<Batch> {
  const startedAt = now()
  const responses = await Promise.all(Array.from({ length: count }, (_, i) => (apps[i % apps.length] as FastifyInstance).inject({ method, url, headers })))
  const endedAt = now()
  return {
    responses,
    ok: responses.filter((r) => r.statusCode === 200).length,
    limited: responses.filter((r) => r.statusCode === 429).length,
    startedAt,
    endedAt
  }
}

const header = (res: LightMyRequestResponse, name: string) => Number(res.headers[name])

/**
 * Rounds of 100 requests until one is refused (at most 20): a slow machine needs more rounds to
 * outrun the refill, never a different assertion. Returns every round merged, and when the last
 * round (the one that saw the bucket empty) started.
 */
export async function drain (apps: FastifyInstance[], headers: Record<string, string>, url = '/api/test/ping', now: () => number = Date.now): Promise<Batch & { lastRoundStartedAt: number }> {
  const rounds: Batch[] = []
  while (rounds.length < 20 && (rounds.length === 0 || (rounds.at(-1) as Batch).limited === 0)) rounds.push(await batch(apps, 100, headers, url, 'GET', now))
  const last = rounds.at(-1) as Batch
  return {
    responses: rounds.flatMap((r) => r.responses),
    ok: rounds.reduce((n, r) => n + r.ok, 0),
    limited: rounds.reduce((n, r) => n + r.limited, 0),
    startedAt: (rounds[0] as Batch).startedAt,
    endedAt: last.endedAt,
    lastRoundStartedAt: last.startedAt
  }
}

/** Tokens a bucket refilling at `perSecond` can have gained between two instants, rounded up. */
export const refill = (perSecond: number, fromMs: number, toMs: number) => Math.ceil(((toMs - fromMs) / 1000) * perSecond)

/**
 * What is wrong with the three headers of a response decided between `fromMs` and `toMs`: Limit
 * must be the sustained rate, Remaining a whole number below the burst, Reset a Unix time no
 * earlier than the decision and no later than one full refill after it.
 */
export function rateLimitHeaderProblems (res: LightMyRequestResponse, limit: number, burst: number, fromMs: number, toMs: number): string[] {
  const problems: string[] = []
  if (header(res, 'x-ratelimit-limit') !== limit) problems.push(`X-RateLimit-Limit ${String(res.headers['x-ratelimit-limit'])}, expected ${limit}`)
  const remaining = header(res, 'x-ratelimit-remaining')
  if (!Number.isInteger(remaining) || remaining < 0 || remaining >= burst) problems.push(`X-RateLimit-Remaining ${String(res.headers['x-ratelimit-remaining'])} outside [0, ${burst})`)
  const reset = header(res, 'x-ratelimit-reset')
  const earliest = Math.floor(fromMs / 1000)
  const latest = Math.ceil(toMs / 1000 + burst / limit)
  if (!(reset >= earliest && reset <= latest)) problems.push(`X-RateLimit-Reset ${String(res.headers['x-ratelimit-reset'])} outside [${earliest}, ${latest}]`)
  return problems
}

export function checkRateLimitHeaders (t: SuiteTest, res: LightMyRequestResponse, limit: number, burst: number, fromMs: number, toMs: number): void {
  t.same(rateLimitHeaderProblems(res, limit, burst, fromMs, toMs), [], `X-RateLimit-* consistent (Limit ${limit}, Remaining ${String(res.headers['x-ratelimit-remaining'])}, Reset ${String(res.headers['x-ratelimit-reset'])})`)
}

/** The same over a whole batch, as one assertion listing every response that fails it. */
export function checkBatchHeaders (t: SuiteTest, { responses, startedAt, endedAt }: Batch, limit: number, burst: number): void {
  const problems = responses.flatMap((res) => rateLimitHeaderProblems(res, limit, burst, startedAt, endedAt))
  t.same(problems, [], `X-RateLimit-* consistent on all ${responses.length} responses (Limit ${limit}, Remaining < ${burst}, Reset within a refill)`)
}

/** `apps` share one budget (one app, or several on Redis); `clock` is their buckets' time. */
export function rateLimitSuite (t: SuiteTest | typeof tap, apps: FastifyInstance[], clock: SuiteClock): void {
  const app = apps[0] as FastifyInstance
  const { now } = clock

  t.test('a standard key: 200 at once, then 429 with Retry-After; a second later about 100 more', async (t) => {
    const key = await authHeaders(app, ['events:read'], { tier: 'standard' })
    const first = await batch(apps, 200, key, undefined, undefined, now)
    t.equal(first.ok, 200, 'the whole burst of 200 is granted')
    checkBatchHeaders(t, first, 100, 200)
    const lowest = Math.min(...first.responses.map((r) => header(r, 'x-ratelimit-remaining')))
    t.ok(lowest <= refill(100, first.startedAt, first.endedAt), `the burst drained the bucket: lowest Remaining ${lowest}`)

    const next = await drain(apps, key, undefined, now)
    t.ok(next.limited > 0, `the next requests are refused (${next.limited} of ${next.responses.length})`)
    t.ok(next.ok <= refill(100, first.startedAt, next.endedAt), `only refilled tokens granted: ${next.ok} ≤ ${refill(100, first.startedAt, next.endedAt)}`)
    const refused = next.responses.find((r) => r.statusCode === 429) as LightMyRequestResponse
    t.same(refused.json(), { ok: false, error: { code: 'RATE_LIMITED', message: 'Rate limit exceeded, retry in 1 second' } })
    t.equal(refused.headers['retry-after'], '1', 'Retry-After: whole seconds, at least 1')
    t.equal(header(refused, 'x-ratelimit-remaining'), 0)
    checkRateLimitHeaders(t, refused, 100, 200, next.startedAt, next.endedAt)

    await clock.advance(1000)
    const probe = await app.inject({ method: 'GET', url: '/api/test/ping', headers: key })
    const left = header(probe, 'x-ratelimit-remaining')
    const atMost = Math.min(199, refill(100, next.lastRoundStartedAt, now()))
    t.ok(left >= 90 && left <= atMost, `a second later the bucket holds about 100 again: Remaining ${left} in [90, ${atMost}]`)
    const after = await batch(apps, 300, key, undefined, undefined, now)
    const most = 1 + refill(100, next.startedAt, after.endedAt)
    t.ok(after.ok >= 90 && after.ok <= most, `and they are granted: ${after.ok} in [90, ${most}] (the rest refilled during the batch)`)
    t.ok(after.limited > 0)
  })

  t.test('Remaining counts down request by request; Limit stays; Reset stays ahead', async (t) => {
    // The per-IP bucket (10/s) refills slowly enough for sequential requests to see every step.
    const seen: number[] = []
    for (let i = 0; i < 5; i++) {
      const before = now()
      const res = await (apps[i % apps.length] as FastifyInstance).inject({ method: 'POST', url: '/webhooks/test/ping', remoteAddress: '192.0.2.10' })
      t.equal(res.statusCode, 200)
      checkRateLimitHeaders(t, res, 10, 20, before, now())
      seen.push(header(res, 'x-ratelimit-remaining'))
    }
    t.same(seen, [19, 18, 17, 16, 15])
  })

  t.test('a premium key gets a burst of 2,000 at 1,000/s', async (t) => {
    const key = await authHeaders(app, ['events:read'], { tier: 'premium' })
    const first = await batch(apps, 2000, key, undefined, undefined, now)
    t.equal(first.ok, 2000, 'the whole burst of 2,000 is granted')
    checkBatchHeaders(t, first, 1000, 2000)
    t.equal(Math.max(...first.responses.map((r) => header(r, 'x-ratelimit-remaining'))), 1999, 'a bucket of 2,000: the first request leaves 1,999')
    // Draining it takes more than 1,000 requests/s through inject, more than a test machine
    // reliably gives; the bucket math for premium is covered in lib/rate-limit tests.
  })

  t.test('errors of an authenticated request carry the headers too; a 401 does not', async (t) => {
    const key = await authHeaders(app, ['issues:read'])
    const admin = await authHeaders(app, ['admin'], { tier: 'premium' })
    const from = now()
    const forbidden = await app.inject({ method: 'GET', url: '/api/test/ping', headers: key })
    t.equal(forbidden.statusCode, 403)
    checkRateLimitHeaders(t, forbidden, 100, 200, from, now())
    const invalid = await app.inject({ method: 'POST', url: '/api/keys', headers: admin, payload: { name: '' } })
    t.equal(invalid.statusCode, 422)
    checkRateLimitHeaders(t, invalid, 1000, 2000, from, now())
    const missing = await app.inject({ method: 'DELETE', url: '/api/keys/00000000-0000-4000-8000-000000000000', headers: admin })
    t.equal(missing.statusCode, 404)
    checkRateLimitHeaders(t, missing, 1000, 2000, from, now())
    const anonymous = await app.inject({ method: 'GET', url: '/api/test/ping' })
    t.equal(anonymous.statusCode, 401)
    t.equal(anonymous.headers['x-ratelimit-limit'], undefined)
  })

  t.test('each key has its own bucket', async (t) => {
    const [a, b] = await Promise.all([authHeaders(app, ['events:read']), authHeaders(app, ['events:read'])])
    t.ok((await drain(apps, a as Record<string, string>, undefined, now)).limited > 0, 'a is exhausted')
    const res = await app.inject({ method: 'GET', url: '/api/test/ping', headers: b })
    t.equal(res.statusCode, 200)
    t.equal(header(res, 'x-ratelimit-remaining'), 199, 'b untouched')
  })

  t.test('unauthenticated webhook routes are limited per IP (LOOP_WEBHOOK_RATE 10/s, burst 20)', async (t) => {
    for (const url of ['/webhooks/test/ping', '/api/signals/test-provider']) {
      const first = await batch(apps, 20, {}, url, 'POST', now) // one client address (127.0.0.1): one bucket for both routes
      if (url === '/webhooks/test/ping') {
        t.equal(first.ok, 20, 'the burst of 20 is granted')
        checkRateLimitHeaders(t, first.responses[0] as LightMyRequestResponse, 10, 20, first.startedAt, first.endedAt)
      } else {
        t.ok(first.limited > 0, 'the same IP shares its bucket across webhook routes')
      }
      const refused = first.limited > 0 ? first.responses.find((r) => r.statusCode === 429) : (await batch(apps, 5, {}, url, 'POST', now)).responses.find((r) => r.statusCode === 429)
      t.ok(refused !== undefined, `${url}: refused once the IP's burst is spent`)
      t.ok(Number(refused?.headers['retry-after']) >= 1)
      t.equal(refused?.json().error.code, 'RATE_LIMITED')
    }
    const key = await authHeaders(app, ['signals:read'])
    const listed = await app.inject({ method: 'GET', url: '/api/signals/test-list', headers: key })
    t.equal(listed.statusCode, 200, 'a keyed route under /api/signals/ is limited per key, not per IP')
    t.equal(header(listed, 'x-ratelimit-limit'), 100)
    t.equal((await app.inject({ method: 'POST', url: '/webhooks/test/ping', remoteAddress: '198.51.100.7' })).statusCode, 200, 'another IP has its own bucket')
    const health = await app.inject({ method: 'GET', url: '/health' })
    t.equal(health.statusCode, 200, 'other public routes are not limited')
    t.equal(health.headers['x-ratelimit-limit'], undefined)
  })
}
