// A list writes its statement once per shape of request (which filters, whose rows, which way)
// and binds each request's own values into it (lib/pagination/cursor.ts). So a cached statement
// must never carry one request's owner, filter or position into another's: every request below
// reuses a statement another tenant's request wrote, and must see exactly its own rows.
import t from 'tap'
import { randomUUID } from 'node:crypto'
import { SqlEntityManager } from '@mikro-orm/postgresql'
import { authHeaders, build } from '../../helper.ts'
import { lead } from '../../webhook-api.ts'

const app = await build(t)
const scopes = ['events:write', 'events:read', 'issues:read', 'issues:write']
const brands = { a: await authHeaders(app, scopes), b: await authHeaders(app, scopes) }
const operator = await authHeaders(app, ['admin', 'events:read'])

const sent: Record<'a' | 'b', string[]> = { a: [], b: [] }
for (let i = 0; i < 3; i++) {
  for (const brand of ['a', 'b'] as const) {
    const res = await app.inject({ method: 'POST', url: '/api/events', headers: brands[brand], payload: { event: 'lead.captured.v1', payload: lead({ eventId: randomUUID() }) } })
    if (res.statusCode !== 200) throw new Error(`POST /api/events: ${res.statusCode} ${res.body}`)
    sent[brand].push(res.json().id as string)
  }
}
for (const [brand, titles] of [['a', ['a1', 'a2']], ['b', ['b1']]] as const) {
  for (const title of titles) await app.inject({ method: 'POST', url: '/api/issues', headers: brands[brand], payload: { title, type: 'task' } })
}

// Counts the query builders the requests make: a list whose statement is cached makes none.
let builders = 0
const createQueryBuilder = SqlEntityManager.prototype.createQueryBuilder
SqlEntityManager.prototype.createQueryBuilder = function (this: SqlEntityManager, ...args: Parameters<typeof createQueryBuilder>) {
  builders++
  return createQueryBuilder.apply(this, args)
} as typeof createQueryBuilder
t.teardown(() => { SqlEntityManager.prototype.createQueryBuilder = createQueryBuilder })

async function list (url: string, headers: Record<string, string>): Promise<{ ids: string[], iterator: string | null, builders: number }> {
  const before = builders
  const res = await app.inject({ method: 'GET', url, headers })
  if (res.statusCode !== 200) throw new Error(`GET ${url}: ${res.statusCode} ${res.body}`)
  const body = res.json() as { data: Array<{ id: string, title?: string }>, iterator: string | null }
  return { ids: body.data.map((row) => row.title ?? row.id), iterator: body.iterator, builders: builders - before }
}

const newest = (brand: 'a' | 'b') => [...sent[brand]].reverse()

t.test("a brand's first page binds its own owner into the statement another brand's request wrote", async (t) => {
  const a = await list('/api/events?limit=2', brands.a)
  t.same(a.ids, newest('a').slice(0, 2))
  const b = await list('/api/events?limit=2', brands.b)
  t.same(b.ids, newest('b').slice(0, 2), "brand b sees its own events, not a's")
  t.equal(b.builders, 0, 'the second request of the shape writes no statement')
  const one = await list('/api/events?limit=1', brands.b)
  t.same(one.ids, newest('b').slice(0, 1), 'the limit is bound too')
  t.equal(one.builders, 0)
})

t.test('next pages: the position is bound, each brand continues its own list', async (t) => {
  const a = await list('/api/events?limit=2', brands.a)
  const b = await list('/api/events?limit=2', brands.b)
  const nextA = await list(`/api/events?limit=2&iterator=${a.iterator}`, brands.a)
  const nextB = await list(`/api/events?limit=2&iterator=${b.iterator}`, brands.b)
  t.same(nextA.ids, newest('a').slice(2))
  t.same(nextB.ids, newest('b').slice(2))
  t.equal(nextB.builders, 0, 'the next-page shape was written once, for brand a')
})

t.test('filters: their values are bound, and each set of filters is its own shape', async (t) => {
  const future = new Date(Date.now() + 3_600_000).toISOString()
  const past = new Date(Date.now() - 3_600_000).toISOString()
  t.same((await list(`/api/events?since=${past}`, brands.a)).ids, newest('a'))
  const none = await list(`/api/events?since=${future}`, brands.a)
  t.same(none.ids, [], 'a later since binds its own date')
  t.equal(none.builders, 0)
  t.same((await list(`/api/events?until=${past}`, brands.b)).ids, [])
  t.same((await list(`/api/events?until=${future}`, brands.b)).ids, newest('b'))
  t.same((await list('/api/events?event=lead.captured.v1', brands.a)).ids, newest('a'))
  const other = await list('/api/events?event=order.completed.v1', brands.a)
  t.same(other.ids, [], 'another event name binds its own name')
  t.equal(other.builders, 0)
})

t.test("the operator's shape (no brand) sees every brand's rows of its env", async (t) => {
  const all = await list('/api/events?limit=100', operator)
  t.same([...all.ids].sort(), [...sent.a, ...sent.b].sort())
})

t.test('list filters of different lengths are different shapes, each bound right', async (t) => {
  t.same((await list('/api/issues?status=triage&status=todo', brands.a)).ids.sort(), ['a1', 'a2'])
  const b = await list('/api/issues?status=triage&status=todo', brands.b)
  t.same(b.ids, ['b1'])
  t.equal(b.builders, 0)
  t.same((await list('/api/issues?status=done', brands.a)).ids, [], 'one status: its own shape')
  t.same((await list('/api/issues?status=todo&status=triage&status=done', brands.b)).ids, ['b1'])
})
