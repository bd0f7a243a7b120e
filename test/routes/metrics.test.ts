// GET /metrics (docs/operations.md#metrics): scraped before and after real traffic (a signed
// GitHub delivery, events, a webhook delivered to a receiver, refused requests), parsed with a
// Prometheus text-format parser, and the counters and histograms seen to move.
import t from 'tap'
import parsePrometheusTextFormat, { type MetricFamily } from 'parse-prometheus-text-format'
import type { FastifyInstance } from 'fastify'
import { authHeaders, build, envelope, operatorHeaders } from '../helper.ts'
import { githubDelivery, dependabotAlert } from '../fixtures/provider-deliveries.ts'
import { startReceiver } from '../receiver.ts'
import { lead, register, sendLead, startLoop } from '../webhook-api.ts'

// A burst of one failed authentication per address, so that the second guess is refused (429).
const loop = await startLoop(t, { LOOP_AUTH_FAILURE_BURST: '1' })
const { app } = loop
const admin = await operatorHeaders(app, ['admin'])

/**
 * The scrape, parsed twice: as it is (every family with its HELP and TYPE), and as plain samples.
 * The parser folds a histogram's labelled series into one (it keeps only `le`), so the series
 * values are read from the same text with the histograms' TYPE lines left out: each
 * `_bucket`, `_sum` and `_count` is then a family of its own, labels intact.
 */
function parse (text: string): { families: MetricFamily[], samples: MetricFamily[] } {
  return {
    families: parsePrometheusTextFormat(text),
    samples: parsePrometheusTextFormat(text.split('\n').filter((line) => !/^# TYPE \S+ histogram$/.test(line)).join('\n'))
  }
}

async function scrape (instance: FastifyInstance = app, headers: Record<string, string> = admin): Promise<MetricFamily[]> {
  const res = await instance.inject({ method: 'GET', url: '/metrics', headers })
  if (res.statusCode !== 200) throw new Error(`scrape: ${res.statusCode} ${res.body}`)
  return parse(res.body).samples
}

const matches = (labels: Record<string, string> | undefined, wanted: Record<string, string>) =>
  Object.entries(wanted).every(([name, value]) => labels?.[name] === value)

/** Every series of `name` (read as plain samples, a histogram's series come one family per run of lines). */
const series = (families: MetricFamily[], name: string) => families.filter((f) => f.name === name).flatMap((f) => f.metrics)

/** A counter's or gauge's value for these labels (0 when the series does not exist yet). */
function value (families: MetricFamily[], name: string, labels: Record<string, string> = {}): number {
  const sample = series(families, name).find((m) => matches(m.labels, labels))
  return sample?.value === undefined ? 0 : Number(sample.value)
}

/** A histogram's observation count for these labels (0 when none yet). */
const observations = (samples: MetricFamily[], name: string, labels: Record<string, string> = {}) => value(samples, `${name}_count`, labels)

t.test('/metrics takes an admin key: none is 401, a brand key 403', async (t) => {
  const none = await app.inject({ method: 'GET', url: '/metrics' })
  t.equal(none.statusCode, 401)
  t.match(none.json(), envelope('UNAUTHORIZED'))
  const brand = await app.inject({ method: 'GET', url: '/metrics', headers: await authHeaders(app, ['events:read', 'webhooks:manage']) })
  t.equal(brand.statusCode, 403)
  t.match(brand.json(), envelope('FORBIDDEN'))
  const ok = await app.inject({ method: 'GET', url: '/metrics', headers: admin })
  t.equal(ok.statusCode, 200)
  t.match(ok.headers['content-type'], /^text\/plain; version=0\.0\.4/)
})

t.test('a scrape before and after traffic: counters and histograms move, and every label is bounded', async (t) => {
  const receiver = await startReceiver(t)
  const endpoint = await register(loop, receiver.url)
  const before = await scrape()

  // A signed GitHub delivery, and one with a wrong signature.
  t.equal((await app.inject(githubDelivery('dependabot_alert', dependabotAlert('high')))).statusCode, 201)
  t.equal((await app.inject(githubDelivery('dependabot_alert', dependabotAlert('high'), { secret: 'not-the-secret' }))).statusCode, 401)
  // A valid event (delivered to the endpoint) and one its schema refuses.
  await sendLead(loop)
  const invalid = await app.inject({ method: 'POST', url: '/api/events', headers: loop.key, payload: { event: 'lead.captured.v1', payload: lead({ email: 'not an email' }) } })
  t.equal(invalid.statusCode, 422)
  await receiver.waitFor(1)
  await app.deliveryWorker?.idle()
  // Two wrong keys from one address: the second is over its burst of failures (429).
  const guess = { method: 'GET' as const, url: '/api/webhooks', remoteAddress: '10.9.8.7', headers: { authorization: `Bearer lk_live_${'x'.repeat(40)}` } }
  t.equal((await app.inject(guess)).statusCode, 401)
  t.equal((await app.inject(guess)).statusCode, 429)
  // An id in a URL: counted under the route's pattern; a path no route serves, under `unmatched`.
  t.equal((await app.inject({ method: 'GET', url: `/api/webhooks/${endpoint.id}`, headers: loop.key })).statusCode, 200)
  t.equal((await app.inject({ method: 'GET', url: '/no/such/path/4711' })).statusCode, 404)

  const res = await app.inject({ method: 'GET', url: '/metrics', headers: admin })
  const { families, samples: after } = parse(res.body)
  const types = new Map(families.map((f) => [f.name, f.type]))
  for (const [name, type] of [['loop_http_request_duration_seconds', 'HISTOGRAM'], ['loop_ingest_accepted_total', 'COUNTER'], ['loop_delivery_queue', 'GAUGE'], ['loop_delivery_attempt_duration_seconds', 'HISTOGRAM']]) {
    t.equal(types.get(name ?? ''), type, `${name} parses as a ${type}`)
  }
  t.ok(families.every((f) => f.help !== '' || f.metrics.length === 0), 'every family has its HELP')
  const moved = (name: string, labels: Record<string, string>, by = 1) =>
    t.equal(value(after, name, labels) - value(before, name, labels), by, `${name} ${JSON.stringify(labels)} +${by}`)
  const observed = (name: string, labels: Record<string, string>, atLeast = 1) =>
    t.ok(observations(after, name, labels) - observations(before, name, labels) >= atLeast, `${name} ${JSON.stringify(labels)} observed`)

  observed('loop_http_request_duration_seconds', { method: 'POST', route: '/api/signals/github', status_code: '201' })
  observed('loop_http_request_duration_seconds', { method: 'POST', route: '/api/events', status_code: '422' })
  observed('loop_http_request_duration_seconds', { method: 'GET', route: '/api/webhooks/:id', status_code: '200' })
  observed('loop_http_request_duration_seconds', { method: 'GET', route: 'unmatched', status_code: '404' })
  moved('loop_ingest_accepted_total', { kind: 'signal' })
  moved('loop_ingest_rejected_total', { kind: 'signal', reason: 'UNAUTHORIZED' })
  moved('loop_ingest_accepted_total', { kind: 'event' })
  moved('loop_ingest_rejected_total', { kind: 'event', reason: 'VALIDATION_ERROR' })
  observed('loop_ingest_batch_size', { writer: 'signals' })
  observed('loop_ingest_batch_wait_seconds', { writer: 'events' })
  observed('loop_ingest_batch_commit_seconds', { writer: 'events', result: 'ok' })
  moved('loop_delivery_attempts_total', { outcome: 'succeeded' })
  observed('loop_delivery_attempt_duration_seconds', { outcome: 'succeeded' })
  moved('loop_rate_limit_refusals_total', { bucket: 'auth_failure' })

  // States, read at scrape time: the endpoint is active, the queue drained.
  t.equal(value(after, 'loop_endpoints', { state: 'active' }), 1)
  for (const state of ['failing', 'paused', 'disabled']) t.equal(value(after, 'loop_endpoints', { state }), 0, `no ${state} endpoint`)
  for (const state of ['due', 'in_flight', 'scheduled', 'parked']) t.equal(value(after, 'loop_delivery_queue', { state }), 0, `nothing ${state}`)
  t.equal(value(after, 'loop_delivery_queue_oldest_due_age_seconds'), 0)
  t.same(series(after, 'loop_db_pool_connections').map((m) => m.labels?.state).sort(), ['free', 'pending', 'used'])
  t.ok(value(after, 'loop_db_pool_connections', { state: 'used' }) + value(after, 'loop_db_pool_connections', { state: 'free' }) >= 1, 'the pool holds a connection')
  // Node's process metrics (prom-client's defaults).
  for (const name of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes']) {
    t.ok(after.some((f) => f.name === name), `${name} is exported`)
  }

  // Bounded labels: no id and no raw URL anywhere in the output.
  t.notOk(res.body.includes(endpoint.id), 'no endpoint id')
  t.notOk(res.body.includes(receiver.url), 'no receiver URL')
  t.notOk(res.body.includes('/no/such/path'), 'no unmatched path')
  t.notOk(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/.test(res.body), 'no uuid at all')
  const routes = new Set(series(after, 'loop_http_request_duration_seconds_count').map((m) => m.labels?.route))
  t.ok(routes.size >= 5, `${routes.size} routes seen`)
  t.ok([...routes].every((route) => route === 'unmatched' || (route?.startsWith('/') && !route.includes('?'))), `route patterns only: ${[...routes].join(' ')}`)
})

t.test('a due delivery shows in the queue depth and its age, read at scrape time', async (t) => {
  const parked = await startLoop(t, {}, { deliveryWorker: false })
  const receiver = await startReceiver(t)
  await register(parked, receiver.url)
  await sendLead(parked)
  const admin = await operatorHeaders(parked.app, ['admin'])
  const families = await scrape(parked.app, admin)
  t.equal(value(families, 'loop_delivery_queue', { state: 'due' }), 1)
  t.ok(value(families, 'loop_delivery_queue_oldest_due_age_seconds') >= 0)
  t.equal(value(families, 'loop_endpoints', { state: 'active' }), 1)
})

t.test('with LOOP_METRICS_PUBLIC=true no key is asked, and each app counts only its own traffic', async (t) => {
  const open = await build(t, { LOOP_METRICS_PUBLIC: 'true' })
  const res = await open.inject({ method: 'GET', url: '/metrics' })
  t.equal(res.statusCode, 200)
  const families = parse(res.body).samples
  t.equal(value(families, 'loop_ingest_accepted_total', { kind: 'signal' }), 0, 'the other app\'s GitHub delivery is not counted here')
  // The closed label sets are exported at 0 before anything happened, so a first increase is seen.
  const exported = (name: string, label: string) => series(families, name).map((m) => m.labels?.[label]).sort()
  t.same(exported('loop_rate_limit_refusals_total', 'bucket'), ['api_key', 'auth_failure', 'ip'])
  t.same(exported('loop_ingest_accepted_total', 'kind'), ['event', 'inbound', 'signal'])
  t.same(exported('loop_delivery_attempts_total', 'outcome'), ['failed', 'gone', 'lease_lost', 'retrying', 'succeeded'])
  t.ok(series(families, 'loop_delivery_attempts_total').every((m) => Number(m.value) === 0), 'all at 0')
  t.ok(value(await scrape(), 'loop_ingest_accepted_total', { kind: 'signal' }) >= 1, 'while the first app still has it')
})

t.test('a webhook over its per-IP rate is counted as a refusal of the ip bucket and a RATE_LIMITED rejection', async (t) => {
  const limited = await build(t, { LOOP_METRICS_PUBLIC: 'true', LOOP_WEBHOOK_RATE: '1', LOOP_WEBHOOK_BURST: '1' })
  const statuses = []
  for (let i = 0; i < 2; i++) statuses.push((await limited.inject(githubDelivery('ping', { zen: 'Keep it logically awesome.' }))).statusCode)
  t.same(statuses, [200, 429])
  const families = await scrape(limited, {})
  t.equal(value(families, 'loop_rate_limit_refusals_total', { bucket: 'ip' }), 1)
  t.equal(value(families, 'loop_ingest_accepted_total', { kind: 'signal' }), 1)
  t.equal(value(families, 'loop_ingest_rejected_total', { kind: 'signal', reason: 'RATE_LIMITED' }), 1)
})
