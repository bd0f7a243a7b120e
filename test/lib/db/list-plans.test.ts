// Every list's query is served by an index in its order: with sequential scans and sorts priced
// out, PostgreSQL's plan for each page (first and next, a brand's key and the operator's, with each
// filter) has neither a Sort nor a Seq Scan. LOOP_PRINT_PLANS=1 prints the plans (the EXPLAIN
// figures of docs/operations.md#list-indexes).
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { authHeaders, build } from '../../helper.ts'
import { sql } from '../../../lib/db/sql.ts'

const app = await build(t, { LOOP_ALLOW_PRIVATE_URLS: 'true' })
const brand = await authHeaders(app, ['events:write', 'events:read', 'schemas:write', 'webhooks:manage', 'issues:read', 'issues:write', 'signals:read'])
const operator = await authHeaders(app, ['admin', 'events:read', 'webhooks:manage', 'issues:read', 'signals:read'])

const lead = (i: number) => ({ eventId: `550e8400-e29b-41d4-a716-${String(i).padStart(12, '0')}`, occurredAt: '2026-05-19T12:00:00Z', brandId: '7d0c5a4e-2f6b-4c1e-9a63-5f0f8f1f2b11', email: `user${i}@example.com`, source: 'other', attribution: {} })
for (let i = 0; i < 3; i++) await app.inject({ method: 'POST', url: '/api/events', headers: brand, payload: { event: 'lead.captured.v1', payload: lead(i) } })
for (let i = 0; i < 3; i++) await app.inject({ method: 'POST', url: '/api/issues', headers: brand, payload: { title: `issue ${i}`, type: 'task' } })
const endpoint = (await app.inject({ method: 'POST', url: '/api/webhooks', headers: brand, payload: { url: 'http://127.0.0.1:9/hook', events: ['order.completed.v1'] } })).json()
if (typeof endpoint.id !== 'string') throw new Error(`no endpoint: ${JSON.stringify(endpoint)}`)
const brandId = (await app.inject({ method: 'GET', url: '/api/brands?limit=1', headers: operator })).json().data[0].id as string

// Other tenants' rows, so the planner weighs an owner's index against the env-wide one as it
// would on a shared database (on a near-empty table every index costs the same), then fresh
// statistics.
await sql(app.orm.em.fork(), "insert into brand (id, name) select gen_random_uuid(), 'crowd ' || g from generate_series(1, 40) g")
const crowd = "from brand b, generate_series(1, 50) g where b.name like 'crowd %'"
await sql(app.orm.em.fork(), `insert into event (name, payload, brand_id, env, source, received_at) select 'lead.captured.v1', '{}', b.id, 'live', 'api', now() - g * interval '1 s' ${crowd}`)
await sql(app.orm.em.fork(), `insert into signal (source, type, severity, payload, payload_hash, brand_id, env, created_at) select 'loop', 'webhook.failing', 'high', '{}', encode(sha256((b.id::text || g)::bytea), 'hex'), b.id, 'live', now() - g * interval '1 s' ${crowd}`)
await sql(app.orm.em.fork(), `insert into issue (type, status, priority, title, brand_id, env) select 'task', 'todo', 1 + g % 4, 'crowd issue', b.id, 'live' ${crowd}`)
// Their endpoints, and a month of settled deliveries with an attempt each (the brand's endpoint
// too): the summaries must read only the window's, not an endpoint's whole log.
await sql(app.orm.em.fork(), "insert into webhook_endpoint (url, events, env, brand_id, scopes, secret) select 'http://127.0.0.1:9/crowd', '{*}', 'live', b.id, '{}', 'whsec_crowd' from brand b where b.name like 'crowd %'")
await sql(app.orm.em.fork(), `insert into webhook_delivery (endpoint_id, message_id, event_type, body, status, attempt_count, created_at, updated_at)
  select p.id, gen_random_uuid(), 'lead.captured.v1', '{}', 'succeeded', 1, now() - g * interval '3 hours', now() - g * interval '3 hours'
    from webhook_endpoint p, generate_series(1, 240) g where p.url in ('http://127.0.0.1:9/crowd', 'http://127.0.0.1:9/hook')`)
await sql(app.orm.em.fork(), 'insert into webhook_attempt (delivery_id, attempt_number, attempted_at, status_code, latency_ms) select id, 1, updated_at, 200, 10 from webhook_delivery where attempt_count = 1')
await sql(app.orm.em.fork(), 'analyze')

/** The statements one request runs, as knex sends them (text and bound values). */
async function statementsOf (app: FastifyInstance, url: string, headers: Record<string, string>): Promise<Array<{ sql: string, bindings: unknown[] }>> {
  const seen: Array<{ sql: string, bindings: unknown[] }> = []
  const knex = app.orm.em.getKnex()
  // knex reports the text it sent with PostgreSQL's $1, $2 … parameter markers, in order; sql() takes `?`.
  const listen = (query: { sql: string, bindings?: unknown[] }) => { seen.push({ sql: query.sql.replace(/\$\d+/g, '?'), bindings: query.bindings ?? [] }) }
  knex.on('query', listen)
  try {
    const res = await app.inject({ method: 'GET', url, headers })
    if (res.statusCode !== 200) throw new Error(`GET ${url}: ${res.statusCode} ${res.body}`)
    return seen
  } finally {
    knex.removeListener('query', listen)
  }
}

async function planOf (statement: { sql: string, bindings: unknown[] }): Promise<string> {
  return await app.orm.em.fork().transactional(async (tx) => {
    await sql(tx, 'set local enable_seqscan = off')
    await sql(tx, 'set local enable_sort = off')
    const rows = await sql<{ 'QUERY PLAN': string }>(tx, `explain (costs off) ${statement.sql}`, statement.bindings)
    return rows.map((row) => row['QUERY PLAN']).join('\n')
  })
}

/** The next page's URL for `url` (it must have one). */
async function nextPage (url: string, headers: Record<string, string>): Promise<string> {
  const iterator = (await app.inject({ method: 'GET', url, headers })).json().iterator
  if (typeof iterator !== 'string') throw new Error(`${url} has no next page`)
  return `${url}${url.includes('?') ? '&' : '?'}iterator=${encodeURIComponent(iterator)}`
}

const lists: Array<[string, string, Record<string, string>, string]> = [
  ['events', '/api/events?limit=20', brand, 'event'],
  ['events by type', '/api/events?limit=20&event=lead.captured.v1', brand, 'event'],
  ['events, operator', '/api/events?limit=20', operator, 'event'],
  ['events by type, operator', '/api/events?limit=20&event=lead.captured.v1', operator, 'event'],
  ['signals', '/api/signals', brand, 'signal'],
  ['signals, operator, by source', '/api/signals?source=github', operator, 'signal'],
  ['issues', '/api/issues', brand, 'issue'],
  ['issues by status', '/api/issues?status=todo', brand, 'issue'],
  ['issues, operator', '/api/issues', operator, 'issue'],
  ['rejections', '/api/events/rejections', brand, 'event_rejection'],
  ['rejections, operator', '/api/events/rejections', operator, 'event_rejection'],
  ['webhooks', '/api/webhooks', brand, 'webhook_endpoint'],
  ['webhooks, operator', '/api/webhooks', operator, 'webhook_endpoint'],
  ['deliveries', `/api/webhooks/${endpoint.id as string}/deliveries`, brand, 'webhook_delivery'],
  ['deliveries by status', `/api/webhooks/${endpoint.id as string}/deliveries?status=pending`, brand, 'webhook_delivery'],
  ['brands', '/api/brands', operator, 'brand'],
  ['keys', '/api/keys', operator, 'api_key'],
  ['keys of a brand', `/api/keys?brandId=${brandId}`, operator, 'api_key'],
  ['event types', '/api/events/schemas', brand, 'event_type']
]

const pageTwo: Array<[string, string, Record<string, string>, string]> = [
  ['events, next page', '/api/events?limit=1', brand, 'event'],
  ['events, operator, next page', '/api/events?limit=1', operator, 'event'],
  ['issues, next page', '/api/issues?limit=1', brand, 'issue']
]

for (const [name, url, headers, table] of [...lists, ...pageTwo]) {
  t.test(`${name}: ${url} is read through an index in its order`, async (t) => {
    const target = pageTwo.some(([n]) => n === name) ? await nextPage(url, headers) : url
    const statements = (await statementsOf(app, target, headers)).filter((s) => new RegExp(`from "${table}" as `).test(s.sql) && /order by/i.test(s.sql))
    t.equal(statements.length, 1, `one ordered read of ${table}`)
    for (const statement of statements) {
      const plan = await planOf(statement)
      if (process.env.LOOP_PRINT_PLANS === '1') console.error(`--- ${name} (${target})\n${statement.sql}\n${plan}`)
      t.notMatch(plan, /\bSort\b/, `no sort:\n${plan}`)
      t.notMatch(plan, /Seq Scan on/, `no sequential scan:\n${plan}`)
      // The owner and the position bound the scan; only optional filters (status, source) may be
      // checked row by row. Event types are the exception: the built-ins and the brand's own,
      // a few dozen rows, read in name order.
      if (table !== 'event_type') t.notMatch(plan, /Filter: .*\b(env|brand_id|endpoint_id|received_at|created_at|priority|number)\b/, `owner and position in the index condition:\n${plan}`)
    }
  })
}

// The delivery-health summaries (docs/webhooks.md#delivery-health): one statement each, reading
// events, deliveries and attempts through indexes (the window bounds the deliveries by
// webhook_delivery (endpoint_id, updated_at), the attempts come by their delivery), never a scan
// of a whole table.
const summaries: Array<[string, string, Record<string, string>]> = [
  ['overview', '/api/stats/overview?window=1d', brand],
  ['overview, operator', '/api/stats/overview?window=1h', operator],
  ['overview, operator, a day', '/api/stats/overview?window=1d', operator],
  ['endpoint stats', `/api/webhooks/${endpoint.id as string}/stats?window=1d`, brand]
]
for (const [name, url, headers] of summaries) {
  t.test(`${name}: ${url} is one statement through indexes`, async (t) => {
    const statements = (await statementsOf(app, url, headers)).filter((s) => /webhook_delivery/.test(s.sql))
    t.equal(statements.length, 1, 'one statement')
    for (const statement of statements) {
      const plan = await planOf(statement)
      if (process.env.LOOP_PRINT_PLANS === '1') console.error(`--- ${name} (${url})\n${plan}`)
      t.notMatch(plan, /Seq Scan on/, `no sequential scan:\n${plan}`)
      t.match(plan, /(Index Scan on webhook_delivery_endpoint_updated_idx|Index Scan using webhook_delivery_endpoint_updated_idx on webhook_delivery \S+)\s+Index Cond: \(\(endpoint_id = \S+\) AND \(updated_at >= \(now\(\) - '[^']+'::interval\)\)\)/, `the endpoint and the window's start bound the index scan:\n${plan}`)
      t.match(plan, /Index Cond: \(delivery_id = d\S*\.id\)/, `attempts come by their delivery:\n${plan}`)
    }
  })
}
