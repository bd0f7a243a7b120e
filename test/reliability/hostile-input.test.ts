// docs/api.md#errors, docs/operations.md#guarantees, "every bad input gets the error envelope, never a stack trace or a
// hang": every route of the contract (read from the running server's /openapi.json) gets
// malformed, oversized, deeply nested, mistyped and poisoned requests, signed or authenticated so
// that they reach the parsers and handlers. Each answer is a success or the envelope with the
// status the bad input calls for; afterwards the process is up, unpolluted, and its memory has
// not grown with the traffic.
import t, { type Test } from 'tap'
import { createHmac, randomUUID } from 'node:crypto'
import { signGithubPayload } from '../../lib/signing/github.ts'
import { signSentryPayload } from '../../lib/signing/sentry.ts'
import { createAjv } from '../../lib/validation/ajv.ts'
import { testSecrets } from '../helper.ts'
import { lead } from '../webhook-api.ts'
import { rawRequest, type RawResponse } from './hostile-http.ts'
import { bearer, call, freshDatabase, newAdminKey, residentBytes, startLoopProcess } from './loop-process.ts'

t.setTimeout(240_000)

const adminKey = newAdminKey()
const inboundSecret = 'hostile-inbound-secret'
const inboundPath = '/webhooks/hostile/in'

const codeOf: Record<number, string[]> = {
  400: ['BAD_REQUEST'],
  401: ['UNAUTHORIZED'],
  403: ['FORBIDDEN'],
  404: ['NOT_FOUND'],
  405: ['METHOD_NOT_ALLOWED'],
  406: ['NOT_ACCEPTABLE'],
  409: ['CONFLICT'],
  413: ['PAYLOAD_TOO_LARGE'],
  414: ['URI_TOO_LONG'],
  415: ['UNSUPPORTED_MEDIA_TYPE'],
  422: ['VALIDATION_ERROR', 'IDEMPOTENCY_KEY_REUSED'],
  431: ['HEADERS_TOO_LARGE']
}

interface Route { method: string, template: string, path: string, takesBody: boolean, example: unknown, auth: (body: Buffer) => Record<string, string> }

/** What a well-formed body for each route looks like, where the contract gives no example. */
const fallbackBodies: Record<string, unknown> = {
  '/api/signals/github': { action: 'opened', issue: { number: 1, title: 'hostile', labels: [] }, repository: { full_name: 'octo/app' } },
  '/api/signals/sentry': { action: 'created', data: { issue: { id: '1', title: 'TypeError', level: 'error', count: '3' } } },
  '/api/signals/posthog': { name: 'page_load_time', value: 35, timeframe: 'last_7_days' },
  [inboundPath]: { id: 'evt-1', note: 'hello' }
}

function authFor (template: string, path: string, security: unknown): Route['auth'] {
  if (template === '/api/signals/github') {
    return (body) => ({ 'x-github-event': 'issues', 'x-github-delivery': randomUUID(), 'x-hub-signature-256': signGithubPayload(body, testSecrets.GITHUB_WEBHOOK_SECRET) })
  }
  if (template === '/api/signals/sentry') {
    return (body) => ({ 'sentry-hook-resource': 'issue', 'request-id': randomUUID(), 'sentry-hook-signature': signSentryPayload(body, testSecrets.SENTRY_CLIENT_SECRET) })
  }
  if (template === '/api/signals/posthog') return () => ({ 'x-posthog-secret': testSecrets.POSTHOG_WEBHOOK_SECRET })
  if (path === inboundPath) return (body) => ({ 'x-loop-signature': createHmac('sha256', inboundSecret).update(body).digest('hex') })
  // MCP clients accept both; without that the answer is 406 (checked on its own below).
  if (template === '/mcp') return () => ({ authorization: `Bearer ${adminKey}`, accept: 'application/json, text/event-stream' })
  if (Array.isArray(security) && security.length > 0) return () => ({ authorization: `Bearer ${adminKey}` })
  return () => ({})
}

interface OpenApiOperation { security?: unknown, requestBody?: { content?: Record<string, { example?: unknown }> } }

async function contractRoutes (url: string): Promise<Route[]> {
  const document = (await call(`${url}/openapi.json`)).json() as { paths: Record<string, Record<string, OpenApiOperation>> }
  const routes: Route[] = []
  for (const [template, operations] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue
      const path = template === '/webhooks/{path}'
        ? inboundPath
        : template.replace('{name}', 'lead.captured.v1').replace(/\{[A-Za-z]+\}/g, () => randomUUID())
      const example = operation.requestBody?.content?.['application/json']?.example ?? fallbackBodies[path] ?? {}
      routes.push({ method: method.toUpperCase(), template, path, takesBody: operation.requestBody !== undefined, example, auth: authFor(template, path, operation.security) })
    }
  }
  // Outside the contract but served: the MCP methods it refuses, and a path nobody serves.
  routes.push({ method: 'GET', template: '/mcp (GET)', path: '/mcp', takesBody: false, example: {}, auth: authFor('/mcp', '/mcp', [{}]) })
  routes.push({ method: 'POST', template: '/api/unknown', path: '/api/unknown', takesBody: false, example: {}, auth: () => ({}) })
  return routes
}

const tenMegabytes = Buffer.from(`{"blob":"${'x'.repeat(10 * 1024 * 1024)}"}`)

/** The body in 64 KB chunks, Transfer-Encoding: chunked framing. */
function chunkedFraming (body: Buffer): Buffer {
  const parts: Buffer[] = []
  for (let at = 0; at < body.length; at += 65_536) {
    const chunk = body.subarray(at, at + 65_536)
    parts.push(Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n'))
  }
  parts.push(Buffer.from('0\r\n\r\n'))
  return Buffer.concat(parts)
}

/** `depth` nested objects, built as text: no JSON.stringify recursion on our side either. */
const deeplyNested = (depth: number) => Buffer.from('{"a":'.repeat(depth) + '1' + '}'.repeat(depth))

/** Every string in `value` replaced by `f(string)`, every number by `g(number)`, recursively. */
function mapLeaves (value: unknown, f: (s: string) => unknown, g: (n: number) => unknown): unknown {
  if (typeof value === 'string') return f(value)
  if (typeof value === 'number') return g(value)
  if (Array.isArray(value)) return value.map((v) => mapLeaves(v, f, g))
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapLeaves(v, f, g)]))
  return value
}

/** Poison keys added to the body as raw JSON text (JSON.stringify would drop __proto__). */
function poisoned (example: unknown): Buffer {
  const base = example !== null && typeof example === 'object' && !Array.isArray(example) ? JSON.stringify(example).slice(1, -1) : ''
  const poison = '"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},"prototype":{"polluted":"yes"}'
  return Buffer.from(`{${base}${base === '' ? '' : ','}${poison},"nested":{${poison}}}`)
}

interface BodyCase {
  name: string
  body: (route: Route) => Buffer
  contentType: string
  /** Sent with Transfer-Encoding: chunked, so no Content-Length announces the size. */
  chunked?: boolean
  /** Statuses this input calls for on a route that reads a JSON body; undefined: any success or 4xx. */
  expect?: number[]
}

const bodyCases: BodyCase[] = [
  { name: 'invalid UTF-8', contentType: 'application/json', body: (r) => Buffer.concat([Buffer.from(JSON.stringify(r.example).slice(0, -1) + (JSON.stringify(r.example) === '{}' ? '' : ',') + '"x":"'), Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80]), Buffer.from('"}')]) },
  { name: 'truncated JSON', contentType: 'application/json', body: (r) => Buffer.from(JSON.stringify(r.example).slice(0, -3)), expect: [400] },
  { name: 'a JSON array instead of an object', contentType: 'application/json', body: () => Buffer.from('[1,2,3]'), expect: [400, 422] },
  { name: 'JSON nested 10,000 levels', contentType: 'application/json', body: () => deeplyNested(10_000) },
  { name: 'a 10 MB JSON body', contentType: 'application/json', body: () => tenMegabytes, expect: [413] },
  { name: 'a 10 MB JSON body, chunked', contentType: 'application/json', chunked: true, body: () => tenMegabytes, expect: [413] },
  { name: 'text/plain', contentType: 'text/plain', body: () => Buffer.from('hello'), expect: [415] },
  { name: 'a form', contentType: 'application/x-www-form-urlencoded', body: () => Buffer.from('a=1&__proto__[polluted]=yes'), expect: [415] },
  { name: 'XML', contentType: 'application/xml', body: () => Buffer.from('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'), expect: [415] },
  { name: 'an empty JSON body', contentType: 'application/json', body: () => Buffer.alloc(0), expect: [400, 401] },
  { name: 'huge numbers', contentType: 'application/json', body: (r) => Buffer.from(JSON.stringify(mapLeaves(r.example, (s) => s, () => 1e308)).replace(/1e\+308/g, '1e999999').replace(/}$/, ',"n":123456789012345678901234567890123456789,"m":-1e-999999}')) },
  { name: 'NUL characters in every string', contentType: 'application/json', body: (r) => Buffer.from(JSON.stringify(mapLeaves(r.example, (s) => `${s}\u0000x`, (n) => n))) },
  { name: 'prototype-pollution keys', contentType: 'application/json', body: (r) => poisoned(r.example) }
]

function checkAnswer (t: Test, what: string, response: { status: number, contentType: string | undefined, body: string }, expected?: number[]): void {
  const { status, body } = response
  if (status >= 500 || status < 200 || (expected !== undefined && !expected.includes(status) )) {
    t.fail(`${what}: ${status} ${body.slice(0, 300)}`, { expected })
    return
  }
  if (status >= 200 && status < 300) return
  let envelope: { ok?: unknown, error?: { code?: unknown, message?: unknown, issues?: unknown } }
  try {
    envelope = JSON.parse(body)
  } catch {
    t.fail(`${what}: ${status} is not JSON: ${body.slice(0, 300)}`)
    return
  }
  const code = envelope.error?.code
  const good = envelope.ok === false && typeof code === 'string' && typeof envelope.error?.message === 'string' &&
    (codeOf[status]?.includes(code) ?? false) && (envelope.error?.issues === undefined || Array.isArray(envelope.error.issues)) &&
    Object.keys(envelope).length === 2 && !/\bat .+:\d+:\d+\)?/.test(body) && (response.contentType ?? '').startsWith('application/json')
  if (!good) t.fail(`${what}: ${status} is not the envelope with its code: ${body.slice(0, 300)}`)
}

const databaseUrl = await freshDatabase(t)
const loop = await startLoopProcess(t, databaseUrl, { LOOP_ADMIN_KEY: adminKey, LOOP_WEBHOOK_RATE: '1000000', LOOP_WEBHOOK_BURST: '1000000' })
const port = Number(new URL(loop.url).port)
const premium = await call(`${loop.url}/api/keys`, { method: 'POST', headers: bearer(adminKey), body: JSON.stringify({ name: 'hostile', env: 'live', scopes: ['admin'], tier: 'premium' }) })
// Setup fails loudly here; no assertion at the top level (tap would end the root test on it).
if (premium.status !== 201) throw new Error(`premium key: ${premium.status} ${premium.text}`)
const key = (premium.json() as { secret: string }).secret
const declared = await call(`${loop.url}/api/events/types`, {
  method: 'POST',
  headers: bearer(key),
  body: JSON.stringify({ name: 'hostile.note.v1', fields: { eventId: { type: 'string', required: true }, note: { type: 'string' } }, source: 'custom', webhookPath: inboundPath, secret: inboundSecret, transform: { eventId: '$.id', note: '$.note' } })
})
if (declared.status !== 201) throw new Error(`inbound route: ${declared.status} ${declared.text}`)
const routes = await contractRoutes(loop.url)
const withKey = (headers: Record<string, string>) => (headers.authorization === undefined ? headers : { ...headers, authorization: `Bearer ${key}` })

if (routes.length < 35) throw new Error(`only ${routes.length} routes in /openapi.json`)

let cutOff = 0

async function bodyRound (t: Test): Promise<void> {
  for (const route of routes) {
    for (const bodyCase of bodyCases) {
      const body = bodyCase.body(route)
      const what = `${route.method} ${route.template} with ${bodyCase.name}`
      // Raw bytes: the exact body, its length declared, and the signature the provider would send.
      const head = [`${route.method} ${route.path} HTTP/1.1`, 'host: 127.0.0.1', 'connection: close', `content-type: ${bodyCase.contentType}`,
        bodyCase.chunked === true ? 'transfer-encoding: chunked' : `content-length: ${body.length}`,
        ...Object.entries(withKey(route.auth(body))).map(([name, value]) => `${name}: ${value}`)].join('\r\n')
      let response: RawResponse
      try {
        // A declared length over the limit is refused on the headers: give that answer time to come
        // (it ends the wait as it arrives). A chunked body announces no length, so nothing can be
        // refused before it: it is sent at once.
        const declaredTooLong = bodyCase.chunked !== true && body.length > 1_048_576
        response = await rawRequest(port, head, bodyCase.chunked === true ? chunkedFraming(body) : body, { holdBodyMs: declaredTooLong ? 1000 : 0 })
      } catch (error) {
        t.fail(`${what}: ${(error as Error).message}`)
        continue
      }
      // Streamed past the limit, the server stops reading and closes; the reset that follows can
      // swallow its 413. Cut off early, before the whole 10 MB, is the refusal it is. (A declared
      // length is refused on the headers, before any body is sent, unless the machine is slow.)
      if (response.cutOffAt !== undefined && body.length > 1_048_576) {
        cutOff++
        continue
      }
      checkAnswer(t, what, { status: response.status, contentType: response.headers['content-type']?.[0], body: response.body }, route.takesBody ? bodyCase.expect : undefined)
    }
  }
}

const headerCases: { name: string, lines: (body: Buffer) => string[], expect?: number[] }[] = [
  { name: 'two different Content-Types', lines: () => ['content-type: text/plain'] },
  { name: 'a second, wrong Authorization header', lines: () => [`authorization: Bearer ${adminKey}x`] },
  { name: 'two different Content-Lengths', lines: (body) => [`content-length: ${body.length + 1}`], expect: [400] },
  { name: 'a CR inside a header value', lines: () => ['x-loop-test: a\rinjected: yes'], expect: [400] },
  { name: 'a bare LF inside a header value', lines: () => ['x-loop-test: a\ninjected: yes'], expect: [400] },
  { name: 'a folded header line', lines: () => ['x-loop-test: a', ' folded: yes'], expect: [400] },
  { name: 'a NUL in a header value', lines: () => ['x-loop-test: a\u0000b'], expect: [400] },
  { name: 'an 80 KB header', lines: () => [`x-loop-test: ${'y'.repeat(80_000)}`], expect: [431] }
]

async function headerRound (t: Test): Promise<void> {
  for (const route of routes) {
    for (const headerCase of headerCases) {
      // A well-formed, signed or authenticated request, plus the hostile lines.
      const body = Buffer.from(JSON.stringify(route.example))
      const head = [`${route.method} ${route.path} HTTP/1.1`, 'host: 127.0.0.1', 'connection: close', 'content-type: application/json', `content-length: ${body.length}`,
        ...Object.entries(withKey(route.auth(body))).map(([name, value]) => `${name}: ${value}`), ...headerCase.lines(body)].join('\r\n')
      const what = `${route.method} ${route.template} with ${headerCase.name}`
      try {
        const response = await rawRequest(port, head, body)
        checkAnswer(t, what, { status: response.status, contentType: response.headers['content-type']?.[0], body: response.body }, headerCase.expect)
      } catch (error) {
        t.fail(`${what}: ${(error as Error).message}`)
      }
    }
  }
}

const rssAtStart = residentBytes(loop.pid)

t.test('malformed, oversized, nested, mistyped and poisoned bodies on every route get a success or the envelope', async (t) => {
  await bodyRound(t)
  t.pass(`${routes.length} routes × ${bodyCases.length} bodies answered (${cutOff} 10 MB bodies cut off by a close instead of a 413)`)
})

t.test('duplicate, conflicting and CR/LF-laden headers get the envelope', async (t) => {
  await headerRound(t)
  t.pass(`${routes.length} routes × ${headerCases.length} header cases answered`)
})

t.test('hostile query strings and paths get the envelope', async (t) => {
  const queries = ['limit=99999999999999999999999999', 'limit=-1', 'limit=1e999', 'iterator=%00%ff', 'iterator=' + 'A'.repeat(10_000), 'iterator=' + Buffer.from('["issues","x","n",[{"__proto__":1}]]').toString('base64url'), 'status=__proto__', '__proto__[polluted]=yes', 'constructor[prototype][polluted]=yes', 'priority=1&priority=9', 'type[]=x']
  for (const route of routes.filter((r) => r.method === 'GET')) {
    for (const query of queries) {
      const res = await call(`${loop.url}${route.path}?${query}`, { headers: withKey(route.auth(Buffer.alloc(0))) })
      checkAnswer(t, `GET ${route.template}?${query.slice(0, 40)}`, { status: res.status, contentType: res.headers.get('content-type') ?? undefined, body: res.text })
    }
  }
  for (const path of ['/api/issues/not-a-uuid', '/api/issues/%00', '/api/events/schema/%ff%fe', '/api/events/schema/' + 'x'.repeat(5000), '/api/../../etc/passwd', '/webhooks/' + '%2e%2e/'.repeat(50), '/api/issues/00000000-0000-0000-0000-000000000000']) {
    const res = await call(`${loop.url}${path}`, { headers: { authorization: `Bearer ${key}` } })
    checkAnswer(t, `GET ${path.slice(0, 60)}`, { status: res.status, contentType: res.headers.get('content-type') ?? undefined, body: res.text }, [400, 404, 414, 422])
  }
})

t.test('POST /mcp without the Accept header MCP clients send gets the envelope, 406', async (t) => {
  const res = await call(`${loop.url}/mcp`, { method: 'POST', headers: bearer(key), body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }) })
  t.equal(res.status, 406)
  t.match(res.json(), { ok: false, error: { code: 'NOT_ACCEPTABLE', message: String } })
})

t.test('provider headers and fields named after Object.prototype members are plain names', async (t) => {
  for (const event of ['valueOf', 'constructor', 'toString', '__proto__']) {
    // One body per header: the same signed body again would be a replay (its hash identifies it).
    const body = Buffer.from(JSON.stringify({ action: 'created', alert: { number: 7, security_advisory: { severity: 'constructor' } }, repository: { full_name: 'octo/app' }, case: event }))
    const res = await call(`${loop.url}/api/signals/github`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-github-event': event, 'x-github-delivery': randomUUID(), 'x-hub-signature-256': signGithubPayload(body, testSecrets.GITHUB_WEBHOOK_SECRET) }, body })
    t.equal(res.status, 201, `X-GitHub-Event: ${event} is recorded as a low signal`, { body: res.text })
  }
  const alert = Buffer.from(JSON.stringify({ action: 'created', alert: { number: 8, security_advisory: { severity: 'constructor' }, dependency: { package: { name: 'lodash' } } }, repository: { full_name: 'octo/app' } }))
  const res = await call(`${loop.url}/api/signals/github`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-github-event': 'dependabot_alert', 'x-github-delivery': randomUUID(), 'x-hub-signature-256': signGithubPayload(alert, testSecrets.GITHUB_WEBHOOK_SECRET) }, body: alert })
  t.equal(res.status, 201, 'an alert whose severity reads "constructor" is recorded', { body: res.text })
  const issue = await call(`${loop.url}/api/issues/${(res.json() as { issueId: string }).issueId}`, { headers: bearer(key) })
  t.equal((issue.json() as { priority: number }).priority, 2, 'as high (an unknown stated severity errs urgent)')
})

t.test('JSONPath transforms that try script evaluation are refused at declaration, as syntax', async (t) => {
  const attempts = [
    "$[?(@.constructor.constructor('return process')())]",
    '$..[?(@.constructor.constructor("return this")().process.exit())]',
    '$[(function(){ return process.mainModule })()]',
    "$.a[?(@.x == require('child_process'))]",
    '$[?(@.__proto__.polluted = "yes")]',
    '$.{{constructor}}'
  ]
  for (const [i, expression] of attempts.entries()) {
    const res = await call(`${loop.url}/api/events/types`, {
      method: 'POST',
      headers: bearer(key),
      body: JSON.stringify({ name: 'hostile.note.v1', source: 'custom', webhookPath: `/webhooks/hostile/script-${i}`, secret: inboundSecret, transform: { eventId: expression } })
    })
    t.equal(res.status, 422, `refused: ${expression}`)
    const issues = (res.json() as { error: { issues?: { path: string, code: string }[] } }).error.issues ?? []
    t.match(issues, [{ path: 'transform.eventId', code: 'invalid_string' }], 'reported as an invalid JSONPath')
  }
  // Valid RFC 9535 paths that name prototype members select nothing: only own members exist.
  const declared = await call(`${loop.url}/api/events/types`, {
    method: 'POST',
    headers: bearer(key),
    body: JSON.stringify({ name: 'hostile.note.v1', source: 'custom', webhookPath: '/webhooks/hostile/members', secret: inboundSecret, transform: { eventId: '$.id', note: '$.constructor.constructor' } })
  })
  t.equal(declared.status, 201, 'a member-name path is plain syntax', { body: declared.text })
  const body = Buffer.from('{"id":"members-1"}')
  const sent = await call(`${loop.url}/webhooks/hostile/members`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-loop-signature': createHmac('sha256', inboundSecret).update(body).digest('hex') }, body })
  t.equal(sent.status, 200, 'the delivery is stored', { body: sent.text })
  const stored = await call(`${loop.url}/api/events/${(sent.json() as { id: string }).id}`, { headers: bearer(key) })
  t.same((stored.json() as { payload: unknown }).payload, { eventId: 'members-1' }, '$.constructor.constructor selected nothing', { stored: stored.text })
  for (const field of ['__proto__', 'constructor', 'toString']) {
    const res = await call(`${loop.url}/api/events/types`, {
      method: 'POST',
      headers: bearer(key),
      body: `{"name":"hostile.note.v1","source":"custom","webhookPath":"/webhooks/hostile/field","secret":"${inboundSecret}","transform":{"eventId":"$.id","${field}":"$.x"}}`
    })
    t.ok(res.status === 400 || res.status === 422, `a transform target named ${field} is refused (${res.status})`, { body: res.text })
  }
})

t.test('afterwards: nothing polluted, the process up and its memory bounded', async (t) => {
  // Request bodies are validated by Ajv, whose additionalProperties check walks keys with for…in
  // and so sees inherited enumerable properties: with Object.prototype.polluted set, a valid
  // POST /api/issues would come back 422 naming it. Proven on the same Ajv setup in this
  // process first, so the probe below can fail.
  const bodyValidator = createAjv({ coerceTypes: false }).compile({ type: 'object', properties: { title: { type: 'string' } }, additionalProperties: false })
  Object.defineProperty(Object.prototype, 'polluted', { value: 'yes', enumerable: true, configurable: true })
  try {
    t.notOk(bodyValidator({ title: 'x' }), 'the probe sees a polluted prototype')
  } finally {
    delete (Object.prototype as Record<string, unknown>).polluted
  }
  t.ok(bodyValidator({ title: 'x' }), 'and passes on a clean one')
  const issue = await call(`${loop.url}/api/issues`, { method: 'POST', headers: bearer(key), body: JSON.stringify({ title: 'still clean' }) })
  t.equal(issue.status, 201, 'a valid issue is accepted: no inherited "polluted" key inside the server', { body: issue.text })
  const sent = await call(`${loop.url}/api/events`, { method: 'POST', headers: bearer(key), body: JSON.stringify({ event: 'lead.captured.v1', payload: lead() }) })
  t.equal(sent.status, 200, 'and a valid event', { body: sent.text })

  const rssAfterFirst = residentBytes(loop.pid)
  await bodyRound(t)
  await headerRound(t)
  const rssAfterSecond = residentBytes(loop.pid)
  const mb = (bytes: number) => Math.round(bytes / 1024 / 1024)
  t.comment(`RSS ${mb(rssAtStart)} MB at start, ${mb(rssAfterFirst)} MB after one round, ${mb(rssAfterSecond)} MB after two`)
  t.ok(rssAfterSecond - rssAfterFirst < 96 * 1024 * 1024, `a second identical round does not grow memory like the first (${mb(rssAfterSecond - rssAfterFirst)} MB more)`)
  t.ok(rssAfterSecond < rssAtStart + 384 * 1024 * 1024, `memory stays bounded (${mb(rssAfterSecond - rssAtStart)} MB over the start after ${2 * routes.length * bodyCases.length} hostile bodies, 10 MB ones included)`)
  t.equal((await call(`${loop.url}/health`)).status, 200, 'health answers 200')
  t.equal(loop.child.exitCode, null, 'the process never exited')
})
