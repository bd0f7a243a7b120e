// OpenTelemetry traces (docs/operations.md#traces), exported to an OTLP/HTTP receiver in this
// process (a node:http server taking the exporter's JSON): a signed GitHub delivery is one trace
// holding its request and the group-commit batch that wrote it; a delivery attempt is a span with
// its webhook-id. Without OTEL_EXPORTER_OTLP_ENDPOINT, nothing of the OpenTelemetry SDK is loaded.
import t from 'tap'
import http from 'node:http'
import { createRequire } from 'node:module'
import { Writable } from 'node:stream'
import type { AddressInfo } from 'node:net'
import { build, buildWithDetails, operatorHeaders, type TestContext } from '../helper.ts'
import { dependabotAlert, githubDelivery } from '../fixtures/provider-deliveries.ts'
import { eventually, startReceiver } from '../receiver.ts'
import { register, sendLead, type Loop } from '../webhook-api.ts'

interface OtlpValue { stringValue?: string, intValue?: string | number, doubleValue?: number, boolValue?: boolean }
interface OtlpSpan {
  traceId: string
  spanId: string
  parentSpanId?: string
  name: string
  attributes: { key: string, value: OtlpValue }[]
  links?: { traceId: string, spanId: string }[]
}
interface OtlpExport { resourceSpans: { resource: { attributes: { key: string, value: OtlpValue }[] }, scopeSpans: { spans: OtlpSpan[] }[] }[] }

// The API alone is no-op code, and prom-client's process metrics load it anyway: what must stay
// unloaded is the SDK, the exporter and the instrumentation.
const loadedOpenTelemetry = () => Object.keys(createRequire(import.meta.url).cache)
  .filter((path) => (path.includes('/@opentelemetry/') && !path.includes('/@opentelemetry/api/')) || path.includes('/@fastify/otel/'))

t.test('without OTEL_EXPORTER_OTLP_ENDPOINT there is no tracing, and no OpenTelemetry SDK is loaded', async (t) => {
  const app = await build(t)
  t.equal(app.tracing, null)
  t.equal((await app.inject(githubDelivery('dependabot_alert', dependabotAlert('high')))).statusCode, 201)
  t.same(loadedOpenTelemetry(), [])
})

/** An OTLP/HTTP receiver on 127.0.0.1: keeps every exported span, with its resource's service.name. */
async function startCollector (t: TestContext): Promise<{ url: string, spans: (OtlpSpan & { service: string | undefined })[], contentTypes: string[] }> {
  const spans: (OtlpSpan & { service: string | undefined })[] = []
  const contentTypes: string[] = []
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      contentTypes.push(String(req.headers['content-type']))
      if (req.method === 'POST' && req.url === '/v1/traces') {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpExport
        for (const resource of body.resourceSpans) {
          const service = resource.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue
          for (const scope of resource.scopeSpans) for (const span of scope.spans) spans.push({ ...span, service })
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans, contentTypes }
}

const attribute = (span: OtlpSpan, key: string) => {
  const value = span.attributes.find((a) => a.key === key)?.value
  return value?.stringValue ?? value?.intValue ?? value?.doubleValue ?? value?.boolValue
}

t.test('with OTEL_EXPORTER_OTLP_ENDPOINT set, a signed GitHub delivery is one trace spanning its request and its batch', async (t) => {
  const collector = await startCollector(t)
  const { app } = await buildWithDetails(t, { OTEL_EXPORTER_OTLP_ENDPOINT: `${collector.url}/`, LOOP_ALLOW_PRIVATE_URLS: 'true' }, undefined, { deliveryWorker: true })
  t.not(app.tracing, null)
  // Over a real socket, as GitHub sends it.
  const address = await app.listen({ host: '127.0.0.1', port: 0 })
  const delivery = githubDelivery('dependabot_alert', dependabotAlert('high'))
  const res = await fetch(`${address}/api/signals/github`, { method: 'POST', headers: delivery.headers as Record<string, string>, body: String(delivery.payload) })
  t.equal(res.status, 201)
  const { signalId } = await res.json() as { signalId: string }
  t.ok(signalId)
  // The probes, which are not traced.
  t.equal((await fetch(`${address}/health`)).status, 200)
  t.equal((await fetch(`${address}/ready`)).status, 200)
  await app.tracing?.flush()

  const request = await eventually(() => collector.spans.find((s) => s.name === 'request' && attribute(s, 'http.route') === '/api/signals/github'), 10_000, 'the request span')
  const batch = collector.spans.find((s) => s.name === 'ingest batch commit' && attribute(s, 'loop.batch.writer') === 'signals')
  t.ok(batch, 'the batch has a span')
  if (batch === undefined) return
  t.equal(batch.traceId, request.traceId, 'one trace id covers the request and its batch')
  // The batch hangs under the request: its parent chain reaches the request span.
  const byId = new Map(collector.spans.map((s) => [s.spanId, s]))
  let at: OtlpSpan | undefined = batch
  const chain: string[] = []
  while (at?.parentSpanId !== undefined && at.parentSpanId !== '') {
    at = byId.get(at.parentSpanId)
    if (at !== undefined) chain.push(at.name)
  }
  t.ok(chain.includes('request'), `the batch's ancestors: ${chain.join(' < ')}`)
  t.equal(attribute(batch, 'loop.batch.size'), 1)
  t.equal(request.service, 'loop')
  t.equal(attribute(request, 'http.response.status_code'), 201)
  t.ok(collector.contentTypes.every((type) => type.startsWith('application/json')), 'exported as OTLP/JSON')
  t.notOk(collector.spans.some((s) => ['/health', '/ready'].includes(String(attribute(s, 'url.path')))), 'probes are not traced')
  t.ok(collector.spans.some((s) => attribute(s, 'url.path') === '/api/signals/github'), 'while the webhook is, under its url.path')

  t.test('a delivery attempt is a span carrying the delivery\'s webhook-id', async (t) => {
    const receiver = await startReceiver(t)
    const loop: Loop = { app, key: await operatorHeaders(app, ['events:write', 'events:read', 'webhooks:manage']), databaseUrl: '' }
    await register(loop, receiver.url)
    await sendLead(loop)
    const [received] = await receiver.waitFor(1)
    await app.deliveryWorker?.idle()
    await app.tracing?.flush()
    const webhookId = String(received?.headers['webhook-id'])
    const attempt = await eventually(() => collector.spans.find((s) => s.name === 'webhook delivery attempt' && attribute(s, 'webhook.id') === webhookId), 10_000, 'the attempt span')
    t.equal(attribute(attempt, 'loop.delivery.outcome'), 'succeeded')
    t.equal(attribute(attempt, 'http.response.status_code'), 200)
    t.equal(attribute(attempt, 'loop.delivery.attempt'), 1)
    t.notOk(attempt.attributes.some((a) => String(a.value.stringValue ?? '').includes(receiver.url)), 'the receiver URL is not recorded')
    // The attempt continues the trace of the request that queued it: request < batch < attempt.
    const eventRequest = collector.spans.find((s) => s.name === 'request' && attribute(s, 'http.route') === '/api/events')
    t.ok(eventRequest, 'the event\'s request has a span')
    t.equal(attempt.traceId, eventRequest?.traceId, 'the attempt is in the trace of the request that queued it')
    const spans = new Map(collector.spans.map((s) => [s.spanId, s]))
    const parent = spans.get(attempt.parentSpanId ?? '')
    t.equal(parent?.name, 'ingest batch commit', 'its parent is the batch that queued the delivery')
    t.equal(parent === undefined ? undefined : attribute(parent, 'loop.batch.writer'), 'events')
  })
})

t.test('the start-up log names the collector by its origin: credentials in its URL stay out', async (t) => {
  const collector = await startCollector(t)
  const lines: string[] = []
  const logStream = new Writable({ write (chunk, _encoding, done) { lines.push(String(chunk)); done() } })
  const endpoint = collector.url.replace('http://', 'http://otel-user:otel-password@') + '/?token=otel-token'
  await buildWithDetails(t, { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, LOG_LEVEL: 'info' }, undefined, { logStream })
  const started = lines.map((line) => JSON.parse(line) as { msg: string, collector?: string }).find((line) => line.msg === 'OpenTelemetry traces are exported')
  t.equal(started?.collector, collector.url)
  for (const secret of ['otel-user', 'otel-password', 'otel-token']) t.notOk(lines.some((line) => line.includes(secret)), `${secret} is not logged`)
})
