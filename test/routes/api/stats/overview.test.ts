// The delivery-health summaries against deliveries really made: a healthy receiver, one that
// fails each message's first attempt, events of two brands. The numbers match the delivery log;
// another brand's endpoint is 404; a window other than 1h or 1d is the 422 envelope; each answer
// is one statement.
import t from 'tap'
import { authHeaders, envelope } from '../../../helper.ts'
import { startReceiver } from '../../../receiver.ts'
import { allScopes, lead, register, sendLead, settledLog, startLoop, type Delivery } from '../../../webhook-api.ts'

const loop = await startLoop(t)
const brandB = await authHeaders(loop.app, allScopes)
const operator = await authHeaders(loop.app, ['admin'])

const healthy = await startReceiver(t)
const seen = new Set<string>()
// Fails the first attempt of every message, answers 200 to the next.
const flaky = await startReceiver(t, (request) => {
  const id = request.headers['webhook-id'] as string
  if (seen.has(id)) return { status: 200, body: 'OK' }
  seen.add(id)
  return { status: 503, body: 'try again' }
})
const good = await register(loop, healthy.url)
const retrying = await register(loop, flaky.url)
for (let i = 0; i < 3; i++) await sendLead(loop)
const goodLog = await settledLog(loop, good.id, 3)
const retryLog = await settledLog(loop, retrying.id, 3)
await loop.app.inject({ method: 'POST', url: '/api/events', headers: brandB, payload: { event: 'lead.captured.v1', payload: lead() } })

type Overview = { window: string, bucketSeconds: number, from: string, until: string, buckets: Array<{ at: string, events: number, succeeded: number, failed: number, queued: number, oldestQueuedSeconds: number | null }>, queue: { pending: number, due: number, oldestDueSeconds: number | null } }
type Stats = { id: string, bucketSeconds: number, buckets: Array<{ attempts: number, succeeded: number, failed: number, successRate: number | null, latencyP50Ms: number | null, latencyP95Ms: number | null }>, attemptsHistogram: Array<{ attempts: number, succeeded: number, failed: number }> }

const get = async <T>(url: string, headers = loop.key): Promise<T> => {
  const res = await loop.app.inject({ method: 'GET', url, headers })
  if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body}`)
  return res.json()
}
const sum = <T>(rows: T[], pick: (row: T) => number) => rows.reduce((n, row) => n + pick(row), 0)
const attemptsOf = (log: Delivery[]) => log.flatMap((d) => d.attempts)

t.test('the overview counts the brand\'s events and attempts, and the queue is empty once all settled', async (t) => {
  for (const window of ['1h', '1d']) {
    const overview = await get<Overview>(`/api/stats/overview?window=${window}`)
    t.equal(overview.window, window)
    t.equal(overview.buckets.length, 60, `${window}: a fixed 60 buckets`)
    t.equal(overview.bucketSeconds, window === '1h' ? 60 : 1440)
    t.equal(Date.parse(overview.until) - Date.parse(overview.from), 60 * overview.bucketSeconds * 1000)
    t.ok(Date.parse(overview.until) > Date.now() - 1000 && Date.parse(overview.buckets.at(-1)?.at ?? '') <= Date.now(), 'the last bucket holds now')
    t.equal(sum(overview.buckets, (b) => b.events), 3, `${window}: the brand's three events, not brand B's`)
    const attempts = attemptsOf([...goodLog, ...retryLog])
    t.equal(sum(overview.buckets, (b) => b.succeeded), attempts.filter((a) => a.statusCode === 200).length, 'succeeded attempts as in the log')
    t.equal(sum(overview.buckets, (b) => b.failed), 3, 'the flaky receiver\'s three 503s')
    t.same(overview.queue, { pending: 0, due: 0, oldestDueSeconds: null })
    t.equal(overview.buckets.at(-1)?.queued, 0, 'nothing queued now')
    t.ok(overview.buckets.some((b) => b.queued === 0), 'queued per bucket')
  }
  const other = await get<Overview>('/api/stats/overview', brandB)
  t.equal(sum(other.buckets, (b) => b.events), 1, 'brand B sees its one event')
  t.equal(sum(other.buckets, (b) => b.succeeded + b.failed), 0, 'and none of brand A\'s attempts')
  const all = await get<Overview>('/api/stats/overview', operator)
  t.ok(sum(all.buckets, (b) => b.events) >= 4, 'the operator sees every brand of its env')
})

t.test('an endpoint\'s stats: attempts, success rate, latency percentiles and the attempts histogram', async (t) => {
  const stats = await get<Stats>(`/api/webhooks/${good.id}/stats`)
  t.equal(stats.id, good.id)
  t.equal(stats.buckets.length, 60)
  t.equal(sum(stats.buckets, (b) => b.attempts), 3)
  const used = stats.buckets.filter((b) => b.attempts > 0)
  t.ok(used.every((b) => b.successRate === 1 && b.failed === 0), 'every attempt succeeded')
  t.ok(stats.buckets.filter((b) => b.attempts === 0).every((b) => b.successRate === null && b.latencyP50Ms === null), 'an empty bucket has no rate or latency')
  const latencies = attemptsOf(goodLog).map((a) => a.latencyMs)
  for (const b of used) {
    t.ok(b.latencyP50Ms !== null && b.latencyP95Ms !== null && b.latencyP50Ms <= b.latencyP95Ms, 'p50 ≤ p95')
    t.ok((b.latencyP95Ms ?? -1) >= Math.min(...latencies) && (b.latencyP95Ms ?? Infinity) <= Math.max(...latencies), 'within the attempts\' latencies')
  }
  t.same(stats.attemptsHistogram, [1, 2, 3, 4, 5, 6].map((n) => ({ attempts: n, succeeded: n === 1 ? 3 : 0, failed: 0 })), 'three deliveries settled in one attempt')

  const flakyStats = await get<Stats>(`/api/webhooks/${retrying.id}/stats?window=1d`)
  t.equal(sum(flakyStats.buckets, (b) => b.attempts), 6)
  t.equal(sum(flakyStats.buckets, (b) => b.succeeded), 3)
  t.equal(sum(flakyStats.buckets, (b) => b.failed), 3)
  t.same(flakyStats.attemptsHistogram.find((bin) => bin.attempts === 2), { attempts: 2, succeeded: 3, failed: 0 }, 'three deliveries took two attempts')
})

t.test('another brand\'s endpoint is 404; the operator sees it', async (t) => {
  const foreign = await loop.app.inject({ method: 'GET', url: `/api/webhooks/${good.id}/stats`, headers: brandB })
  t.equal(foreign.statusCode, 404)
  t.match(foreign.json(), envelope('NOT_FOUND'))
  t.equal((await loop.app.inject({ method: 'GET', url: `/api/webhooks/${good.id}/stats`, headers: operator })).statusCode, 200)
  t.equal((await loop.app.inject({ method: 'GET', url: '/api/webhooks/00000000-0000-4000-8000-000000000000/stats', headers: loop.key })).statusCode, 404)
})

t.test('the overview needs events:read besides webhooks:manage', async (t) => {
  const res = await loop.app.inject({ method: 'GET', url: '/api/stats/overview', headers: await authHeaders(loop.app, ['webhooks:manage']) })
  t.equal(res.statusCode, 403)
  t.match(res.json(), envelope('FORBIDDEN'))
})

t.test('a window other than 1h or 1d is a 422 envelope', async (t) => {
  for (const url of ['/api/stats/overview?window=2h', `/api/webhooks/${good.id}/stats?window=week`]) {
    const res = await loop.app.inject({ method: 'GET', url, headers: loop.key })
    t.equal(res.statusCode, 422, url)
    t.match(res.json(), { ok: false, error: { code: 'VALIDATION_ERROR', issues: [{ path: 'window' }] } })
  }
})

t.test('each summary is one statement', async (t) => {
  const knex = loop.app.orm.em.getKnex()
  for (const url of ['/api/stats/overview?window=1d', `/api/webhooks/${good.id}/stats`]) {
    const statements: string[] = []
    const listen = (query: { sql: string }) => { statements.push(query.sql) }
    knex.on('query', listen)
    try {
      await get(url)
    } finally {
      knex.off('query', listen)
    }
    t.equal(statements.filter((text) => /webhook_delivery|webhook_attempt|from event/.test(text)).length, 1, `${url}: one statement reads the log`)
  }
})

t.test('one delivery with the exact body its attempts sent; another brand\'s is 404', async (t) => {
  const [delivery] = goodLog
  const res = await loop.app.inject({ method: 'GET', url: `/api/webhooks/${good.id}/deliveries/${delivery?.id ?? ''}`, headers: loop.key })
  t.equal(res.statusCode, 200)
  const detail = res.json() as Delivery & { body: string }
  t.match(detail, { id: delivery?.id, status: 'succeeded', attempts: [{ attempt: 1, statusCode: 200 }] })
  const sent = healthy.requests.find((r) => r.headers['x-loop-delivery'] === delivery?.id)
  t.equal(detail.body, sent?.body.toString(), 'byte for byte what the receiver got')
  t.equal((await loop.app.inject({ method: 'GET', url: `/api/webhooks/${good.id}/deliveries/${delivery?.id ?? ''}`, headers: brandB })).statusCode, 404)
  t.equal((await loop.app.inject({ method: 'GET', url: `/api/webhooks/${retrying.id}/deliveries/${delivery?.id ?? ''}`, headers: loop.key })).statusCode, 404, 'under another endpoint it is not found')
})
