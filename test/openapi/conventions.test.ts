// One API convention (docs/api.md), asserted over the live contract and then over the running app:
// every list answers the list envelope and pages with `limit` and `iterator`; every single
// resource is bare (its own id at the top, no `ok` wrapper); creates are 201, deletes 204; only
// ingestion acknowledgements carry `ok: true`. A new operation that breaks the convention fails here.
import t from 'tap'
import { loadContract, operationsOf, type JsonSchema } from '../../lib/contract/openapi.ts'
import { build, operatorHeaders } from '../helper.ts'
import { sql } from '../../lib/db/sql.ts'

const { document, deref } = await loadContract()
const operations = operationsOf(document, deref)
const propertiesOf = (schema: JsonSchema | null): Record<string, JsonSchema> => {
  if (schema === null) return {}
  const resolved = deref(schema)
  const own = (resolved.properties ?? {}) as Record<string, JsonSchema>
  const parts = ((resolved.allOf ?? []) as JsonSchema[]).map(propertiesOf)
  return Object.assign({}, ...parts, own) as Record<string, JsonSchema>
}
const requiredOf = (schema: JsonSchema): string[] => [
  ...((deref(schema).required ?? []) as string[]),
  ...((deref(schema).allOf ?? []) as JsonSchema[]).flatMap(requiredOf)
]
const ok2xx = (op: (typeof operations)[number]) => op.responses.filter(([status]) => status >= 200 && status < 300)
// The acknowledgements of what is pushed in: they keep `ok: true` (docs/api.md#acknowledgements).
const ingestion = new Set(['receiveGithubSignal', 'receiveSentrySignal', 'receivePosthogSignal', 'sendEvent', 'replayEventRejection', 'receiveInboundWebhook', 'getHealth', 'getReady'])
const api = operations.filter((op) => op.path.startsWith('/api/'))
// Summaries of the delivery log (docs/webhooks.md#delivery-health): a fixed set of time buckets, not a collection to page.
const summaries = new Set(['getStatsOverview', 'getWebhookStats'])
const lists = api.filter((op) => op.method === 'get' && !op.path.endsWith('}') && !summaries.has(op.operationId))
const reads = api.filter((op) => op.method === 'get' && op.path.endsWith('}'))

t.test('every collection GET is a list: the envelope, limit 1–250 (default 50) and iterator', async (t) => {
  t.ok(lists.length >= 9, `${lists.length} lists`)
  for (const op of lists) {
    const [, schema] = op.responses.find(([status]) => status === 200) ?? [200, null]
    t.ok(schema !== null, `${op.operationId} answers 200 with a body`)
    if (schema === null) continue
    t.same(Object.keys(propertiesOf(schema)).sort(), ['data', 'done', 'iterator', 'prevIterator'], `${op.operationId} has the list envelope`)
    t.same(requiredOf(schema).sort(), ['data', 'done', 'iterator', 'prevIterator'], `${op.operationId} always sends all four`)
    t.equal(propertiesOf(schema).data?.type, 'array', `${op.operationId} data is an array`)
    const limit = op.parameters.find((p) => p.in === 'query' && p.name === 'limit')
    t.match(limit?.schema, { type: 'integer', minimum: 1, maximum: 250, default: 50 }, `${op.operationId} limit`)
    t.ok(op.parameters.some((p) => p.in === 'query' && p.name === 'iterator'), `${op.operationId} takes iterator`)
    t.notOk(op.parameters.some((p) => p.name === 'cursor'), `${op.operationId} has no cursor`)
    t.ok(op.responses.some(([status]) => status === 422), `${op.operationId} declares 422 (a foreign iterator, an unknown parameter)`)
  }
})

t.test('every single-resource GET is bare: its own id (or name) at the top, no ok wrapper', async (t) => {
  t.ok(reads.length >= 5, `${reads.length} reads`)
  for (const op of reads) {
    const [, schema] = op.responses.find(([status]) => status === 200) ?? [200, null]
    const properties = propertiesOf(schema)
    t.ok('id' in properties || 'name' in properties, `${op.operationId} has its id at the top`)
    t.notOk('ok' in properties, `${op.operationId} is not wrapped`)
  }
})

t.test('creates answer 201 with the resource, deletes 204, and nothing but an acknowledgement carries ok', async (t) => {
  for (const op of operations) {
    const statuses = ok2xx(op).map(([status]) => status)
    // DELETE /mcp only ever answers 405 (a stateless server has no session to end).
    if (op.method === 'delete' && statuses.length > 0) t.same(statuses, [204], `${op.operationId} is 204`)
    if (op.method === 'post' && statuses.includes(201)) {
      const properties = propertiesOf(ok2xx(op).find(([status]) => status === 201)?.[1] ?? null)
      t.ok('id' in properties || 'name' in properties || op.operationId === 'createBrand' || ingestion.has(op.operationId), `${op.operationId} answers the resource`)
    }
    if (!ingestion.has(op.operationId) && op.path !== '/mcp') {
      for (const [status, schema] of ok2xx(op)) t.notOk('ok' in propertiesOf(schema), `${op.operationId} ${status} has no ok`)
    }
  }
  const brand = operations.find((op) => op.operationId === 'createBrand')
  t.same(Object.keys(propertiesOf(brand?.responses.find(([s]) => s === 201)?.[1] ?? null)).sort(), ['brand', 'key'], 'POST /api/brands answers {brand, key}')
})

t.test('every POST under /api that a key makes takes an Idempotency-Key', async (t) => {
  const keyed = api.filter((op) => op.method === 'post' && op.security !== undefined && JSON.stringify(op.security).includes('bearer'))
  t.ok(keyed.length >= 10)
  for (const op of keyed) t.ok(op.parameters.some((p) => p.in === 'header' && p.name === 'Idempotency-Key'), `${op.operationId} takes Idempotency-Key`)
})

t.test('live: every list answers the envelope, pages, and refuses a foreign iterator or an unknown parameter alike', async (t) => {
  // Endpoints on 127.0.0.1 that nothing answers: the deliveries only need to exist.
  const app = await build(t, { LOOP_ALLOW_PRIVATE_URLS: 'true' })
  const headers = await operatorHeaders(app, ['admin'])
  const brand = (await app.inject({ method: 'POST', url: '/api/brands', headers, payload: { name: 'Listed' } })).json<{ brand: { id: string } }>()
  for (const name of ['A', 'B', 'C']) await app.inject({ method: 'POST', url: '/api/brands', headers, payload: { name } })
  const endpoint = (await app.inject({ method: 'POST', url: '/api/webhooks', headers, payload: { url: 'http://127.0.0.1:9/hook', events: ['*'] } })).json<{ id: string }>()
  for (let i = 0; i < 3; i++) {
    await app.inject({ method: 'POST', url: '/api/issues', headers, payload: { title: `Issue ${i}` } })
    await app.inject({ method: 'POST', url: `/api/webhooks/${endpoint.id}/test`, headers })
  }
  const urls = lists.map((op) => op.path.replace('{id}', endpoint.id))
  const iterators = new Map<string, string>()
  for (const url of urls) {
    const first = await app.inject({ method: 'GET', url: `${url}?limit=2`, headers })
    t.equal(first.statusCode, 200, url)
    const page = first.json<{ data: unknown[], iterator: string | null, prevIterator: string | null, done: boolean }>()
    t.same(Object.keys(page).sort(), ['data', 'done', 'iterator', 'prevIterator'], `${url} answers the envelope`)
    t.equal(page.prevIterator, null, `${url} first page has no page before it`)
    t.ok(page.data.length <= 2, `${url} honours limit`)
    if (page.iterator !== null) iterators.set(url, page.iterator)
    for (const query of ['limit=0', 'limit=251', 'nonsense=1']) {
      const refused = await app.inject({ method: 'GET', url: `${url}?${query}`, headers })
      t.equal(refused.statusCode, 422, `${url}?${query}`)
      t.equal(refused.json<{ error: { code: string } }>().error.code, 'VALIDATION_ERROR')
    }
  }
  t.ok(iterators.size >= 5, `${iterators.size} lists had a second page`)
  for (const [url, iterator] of iterators) {
    const next = await app.inject({ method: 'GET', url: `${url}?limit=2&iterator=${iterator}`, headers })
    t.equal(next.statusCode, 200, `${url} next page`)
    t.ok(next.json<{ prevIterator: string | null }>().prevIterator !== null, `${url} second page leads back`)
    for (const [other] of iterators) {
      if (other === url) continue
      const foreign = await app.inject({ method: 'GET', url: `${other}?iterator=${iterator}`, headers })
      t.equal(foreign.statusCode, 422, `${url}'s iterator on ${other}`)
      t.match(foreign.json(), { error: { code: 'VALIDATION_ERROR', issues: [{ path: 'iterator' }] } })
    }
  }
  // Bound to its filters: the keys list's iterator is refused under another brand filter.
  const keys = (await app.inject({ method: 'GET', url: '/api/keys?limit=1', headers })).json<{ iterator: string }>()
  t.equal((await app.inject({ method: 'GET', url: `/api/keys?brandId=${brand.brand.id}&iterator=${keys.iterator}`, headers })).statusCode, 422)
})

t.test('live: Idempotency-Key on POST /api/issues creates one issue, replays it, and refuses another body', async (t) => {
  const app = await build(t)
  const headers = { ...await operatorHeaders(app, ['admin']), 'idempotency-key': 'create-once' }
  const first = await app.inject({ method: 'POST', url: '/api/issues', headers, payload: { title: 'Once' } })
  const again = await app.inject({ method: 'POST', url: '/api/issues', headers, payload: { title: 'Once' } })
  t.equal(first.statusCode, 201)
  t.equal(again.statusCode, 201, 'the replay has the first status')
  t.equal(again.headers['idempotent-replayed'], 'true')
  t.equal(again.body, first.body, 'byte for byte the first answer')
  t.equal(first.headers['idempotent-replayed'], undefined)
  const list = (await app.inject({ method: 'GET', url: '/api/issues', headers })).json<{ data: { title: string }[] }>()
  t.equal(list.data.filter((i) => i.title === 'Once').length, 1, 'one issue, not two')
  const other = await app.inject({ method: 'POST', url: '/api/issues', headers, payload: { title: 'Twice' } })
  t.equal(other.statusCode, 422)
  t.match(other.json(), { ok: false, error: { code: 'IDEMPOTENCY_KEY_REUSED' } })
  // A failure frees the key: the corrected request with the same key runs.
  const fresh = { ...headers, 'idempotency-key': 'fails-first' }
  const unknownBrand = { name: 'k', scopes: ['events:read'], brandId: '00000000-0000-4000-8000-000000000000' }
  t.equal((await app.inject({ method: 'POST', url: '/api/keys', headers: fresh, payload: unknownBrand })).statusCode, 404, 'the handler refused it')
  t.equal((await app.inject({ method: 'POST', url: '/api/keys', headers: fresh, payload: { name: 'k', scopes: ['events:read'] } })).statusCode, 201)

  // What the table keeps: neither the client's Idempotency-Key nor the secret it was answered.
  const created = (await app.inject({ method: 'POST', url: '/api/keys', headers: fresh, payload: { name: 'k', scopes: ['events:read'] } }))
  t.equal(created.headers['idempotent-replayed'], 'true', 'the replay of the 201')
  const secret = created.json<{ secret: string }>().secret
  const rows = await sql<{ idempotency_key: string, response_body: string }>(app.orm.em.fork(), 'select idempotency_key, response_body from idempotency_key')
  t.ok(rows.length >= 2)
  t.notOk(rows.some((row) => row.idempotency_key === 'fails-first' || row.idempotency_key === 'create-once'), 'keys are stored hashed')
  t.notOk(rows.some((row) => row.response_body.includes(secret.slice(8)) || row.response_body.includes('Once')), 'answers are stored sealed')
})
