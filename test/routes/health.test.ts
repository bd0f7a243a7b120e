import t from 'tap'
import { Validator } from '@seriousme/openapi-schema-validator'
import { build, buildWithDetails, envelope } from '../helper.ts'
import { dropDatabase } from '../database.ts'
import { register, sendLead, startLoop } from '../webhook-api.ts'

const app = await build(t)

t.test('GET /health is 200 while the process is alive', async (t) => {
  const res = await app.inject({ method: 'GET', url: '/health' })
  t.equal(res.statusCode, 200)
  t.match(res.json(), { ok: true, status: 'alive', uptimeSeconds: Number })
})

t.test('GET /ready is 200 once the database answers and migrations ran', async (t) => {
  const res = await app.inject({ method: 'GET', url: '/ready' })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { ok: true, status: 'ready', database: 'up', pendingMigrations: 0, oldestDueAgeMs: null }, 'nothing is due')
})

t.test('GET /ready reports how long the oldest due delivery has waited, and stays ready with a backlog', async (t) => {
  // No worker: the delivery stays due, waiting.
  const loop = await startLoop(t, {}, { deliveryWorker: false })
  await register(loop, 'http://127.0.0.1:9/never-sent')
  await sendLead(loop)
  const res = await loop.app.inject({ method: 'GET', url: '/ready' })
  t.equal(res.statusCode, 200)
  const { oldestDueAgeMs } = res.json()
  t.type(oldestDueAgeMs, 'number')
  t.ok(oldestDueAgeMs >= 0 && oldestDueAgeMs < 60_000, `${oldestDueAgeMs} ms`)
})

t.test('GET /ready is 503 NOT_READY once the database is unreachable, while /health stays 200', async (t) => {
  const { app: doomed, databaseUrl } = await buildWithDetails(t)
  t.equal((await doomed.inject({ method: 'GET', url: '/ready' })).statusCode, 200)
  // The database goes away under the running app (its connections are terminated with it).
  await dropDatabase(String(process.env.LOOP_TEST_SERVER_URL), new URL(databaseUrl).pathname.slice(1))
  const res = await doomed.inject({ method: 'GET', url: '/ready' })
  t.equal(res.statusCode, 503)
  t.match(res.json(), envelope('NOT_READY'))
  t.equal(res.json().error.message, 'database unreachable')
  t.equal((await doomed.inject({ method: 'GET', url: '/health' })).statusCode, 200)
})

t.test('/openapi.json is a valid OpenAPI 3.1 document', async (t) => {
  const res = await app.inject({ method: 'GET', url: '/openapi.json' })
  t.equal(res.statusCode, 200)
  const document = res.json()
  t.equal(document.openapi, '3.1.0')
  const validator = new Validator()
  const result = await validator.validate(document)
  t.ok(result.valid, JSON.stringify(result.errors ?? null))
  t.equal(validator.version, '3.1')
})

t.test('/docs serves an HTML reference of the same document', async (t) => {
  const res = await app.inject({ method: 'GET', url: '/docs' })
  const page = res.statusCode === 302 ? await app.inject({ method: 'GET', url: String(res.headers.location) }) : res
  t.equal(page.statusCode, 200)
  t.match(String(page.headers['content-type']), /text\/html/)
  t.match(page.body, /swagger-ui/i)
  const json = await app.inject({ method: 'GET', url: '/docs/json' })
  t.equal(json.statusCode, 200)
  t.equal(json.json().info.title, 'Loop API')
})

t.test('the document /docs renders keeps the examples swagger-ui shows (media types and parameters)', async (t) => {
  const document = (await app.inject({ method: 'GET', url: '/docs/json' })).json()
  const getIssue = document.paths['/api/issues/{id}'].get
  const example = getIssue.responses['200'].content['application/json'].example
  t.match(example, { id: String, number: 12, signal: { source: 'sentry' } }, "the issue's fields at the top, and its signal")
  t.notOk('issue' in example || 'ok' in example)
  t.equal(document.components.parameters.IssueId.example, '9e8d7c6b-5a49-4382-b716-a5f4e3d2c1b0')
  const github = document.paths['/api/signals/github'].post.requestBody.content['application/json']
  t.same(Object.keys(github.examples), ['dependabotAlert', 'workflowRun', 'ping'])
})
