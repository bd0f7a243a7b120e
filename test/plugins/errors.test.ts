import t from 'tap'
import { connect, type AddressInfo } from 'node:net'
import { build, envelope } from '../helper.ts'
import { sql } from '../../lib/db/sql.ts'

const strictBody = {
  type: 'object',
  required: ['title'],
  additionalProperties: false,
  properties: {
    title: { type: 'string', minLength: 1 },
    count: { type: 'integer', minimum: 0 },
    email: { type: 'string', format: 'email' },
    kind: { type: 'string', enum: ['bug', 'task'] },
    items: { type: 'array', items: { type: 'object', required: ['sku'], properties: { sku: { type: 'string' } } } }
  }
}

const app = await build(t, { LOOP_BODY_LIMIT: '2048' }, (app) => {
  app.post('/api/test/echo', { schema: { body: strictBody } }, async (request) => ({ ok: true, body: request.body }))
  // A value PostgreSQL refuses, passed the way services pass values (bound parameters, lib/db/sql.ts).
  app.get('/api/test/store/:kind', async (request) => {
    const kind = (request.params as { kind: string }).kind
    const em = app.orm.em.fork()
    if (kind === 'number') await sql(em, 'select ?::jsonb', ['{"n":1e999999}'])
    if (kind === 'nul') await sql(em, 'select ?::text', ['a\u0000b'])
    if (kind === 'nul-json') await sql(em, 'select ?::jsonb', ['{"s":"a\\u0000b"}'])
    return { ok: true }
  })
  app.get('/api/test/boom', async () => {
    throw new Error('select * from secrets where password = hunter2')
  })
})

t.test('malformed JSON is 400 BAD_REQUEST in the envelope', async (t) => {
  const res = await app.inject({ method: 'POST', url: '/api/test/echo', headers: { 'content-type': 'application/json' }, payload: '{bad' })
  t.equal(res.statusCode, 400)
  t.match(res.json(), envelope('BAD_REQUEST'))
})

t.test('an unknown route is 404 NOT_FOUND, even with a malformed body', async (t) => {
  const res = await app.inject({ method: 'POST', url: '/api/nothing', headers: { 'content-type': 'application/json' }, payload: '{bad' })
  t.ok([400, 404].includes(res.statusCode), `status ${res.statusCode}`)
  t.match(res.json(), envelope(res.statusCode === 404 ? 'NOT_FOUND' : 'BAD_REQUEST'))
  const get = await app.inject({ method: 'GET', url: '/api/nothing?x=1' })
  t.equal(get.statusCode, 404)
  t.match(get.json(), envelope('NOT_FOUND'))
  t.equal(get.json().error.message, 'Route GET /api/nothing not found')
})

t.test('a body over LOOP_BODY_LIMIT is 413 PAYLOAD_TOO_LARGE', async (t) => {
  const res = await app.inject({ method: 'POST', url: '/api/test/echo', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ title: 'x'.repeat(4096) }) })
  t.equal(res.statusCode, 413)
  t.match(res.json(), envelope('PAYLOAD_TOO_LARGE'))
})

t.test('a non-JSON content type is 415 UNSUPPORTED_MEDIA_TYPE', async (t) => {
  const res = await app.inject({ method: 'POST', url: '/api/test/echo', headers: { 'content-type': 'text/plain' }, payload: 'title=x' })
  t.equal(res.statusCode, 415)
  t.match(res.json(), envelope('UNSUPPORTED_MEDIA_TYPE'))
})

t.test('schema failures are 422 VALIDATION_ERROR listing every issue with dot paths', async (t) => {
  const res = await app.inject({
    method: 'POST',
    url: '/api/test/echo',
    payload: { count: '3', email: 'not-an-email', kind: 'epic', extra: true, items: [{ sku: 'a' }, {}] }
  })
  t.equal(res.statusCode, 422)
  const body = res.json()
  t.match(body, envelope('VALIDATION_ERROR'))
  const issues = body.error.issues.map((i: { path: string, code: string }) => `${i.code}@${i.path}`).sort()
  t.same(issues, [
    'invalid_enum_value@kind',
    'invalid_string@email',
    'invalid_type@count',
    'required@items.1.sku',
    'required@title',
    'unrecognized_keys@extra'
  ])
})

t.test('prototype-pollution keys are refused with 400', async (t) => {
  const res = await app.inject({ method: 'POST', url: '/api/test/echo', headers: { 'content-type': 'application/json' }, payload: '{"title":"x","__proto__":{"admin":true}}' })
  t.equal(res.statusCode, 400)
  t.match(res.json(), envelope('BAD_REQUEST'))
})

t.test('an unexpected error is 500 INTERNAL_ERROR without internals', async (t) => {
  const res = await app.inject({ method: 'GET', url: '/api/test/boom' })
  t.equal(res.statusCode, 500)
  t.match(res.json(), envelope('INTERNAL_ERROR'))
  t.notMatch(res.body, /hunter2|select|stack|at /i)
})

t.test('a value PostgreSQL cannot store is 400 BAD_REQUEST naming it, not a 500', async (t) => {
  const kinds: [string, string][] = [['number', 'out of the range'], ['nul', 'U+0000'], ['nul-json', 'U+0000']]
  for (const [kind, says] of kinds) {
    const res = await app.inject({ method: 'GET', url: `/api/test/store/${kind}` })
    t.equal(res.statusCode, 400, kind)
    t.match(res.json(), envelope('BAD_REQUEST'))
    t.match(res.json().error.message, says)
  }
})

t.test("the router's own refusals get the envelope: an undecodable URL 400, an over-long parameter 414", async (t) => {
  const bad = await app.inject({ method: 'GET', url: '/api/events/schema/%ff%fe' })
  t.equal(bad.statusCode, 400)
  t.match(bad.json(), envelope('BAD_REQUEST'))
  const long = await app.inject({ method: 'GET', url: `/api/events/schema/${'x'.repeat(500)}` })
  t.equal(long.statusCode, 414)
  t.match(long.json(), envelope('URI_TOO_LONG'))
})

t.test("requests Node's HTTP parser rejects get the envelope, and the answer arrives whole", async (t) => {
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo
  const exchange = (head: string) => new Promise<string>((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' }, () => socket.write(head))
    let text = ''
    socket.on('data', (chunk) => { text += chunk.toString('latin1') })
    socket.on('close', () => resolve(text))
    socket.on('error', reject)
  })
  const cases: [string, string, number, string][] = [
    ['a NUL in a header value', 'GET /health HTTP/1.1\r\nhost: x\r\nx-a: a\u0000b\r\n\r\n', 400, 'BAD_REQUEST'],
    ['a bare LF inside a header value', 'GET /health HTTP/1.1\r\nhost: x\r\nx-a: a\nb: c\r\n\r\n', 400, 'BAD_REQUEST'],
    ['conflicting Content-Lengths', 'POST /api/test/echo HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\n{}', 400, 'BAD_REQUEST'],
    ['headers over the size limit', `GET /health HTTP/1.1\r\nhost: x\r\nx-a: ${'y'.repeat(80_000)}\r\n\r\n`, 431, 'HEADERS_TOO_LARGE']
  ]
  for (const [name, head, status, code] of cases) {
    const answer = await exchange(head)
    t.match(answer, new RegExp(`^HTTP/1.1 ${status} `), name)
    const body = answer.slice(answer.indexOf('\r\n\r\n') + 4)
    t.match(JSON.parse(body), envelope(code), `${name}: the envelope`)
  }
})
