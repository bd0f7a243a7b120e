// Paging never skips a row that shares its millisecond with a page's last row. Iterators carry a
// timestamp in milliseconds (the precision of JSON and of JavaScript's Date), so every column a
// list is ordered by holds milliseconds too: with microseconds, rows created in the same
// millisecond as a page boundary but a few microseconds before it fell between the pages.
import t from 'tap'
import { authHeaders, build } from '../../helper.ts'
import { sql } from '../../../lib/db/sql.ts'

const app = await build(t)
const admin = await authHeaders(app, ['admin'])

async function walk (url: string): Promise<string[]> {
  const seen: string[] = []
  let next: string | null = url
  while (next !== null) {
    const res = await app.inject({ method: 'GET', url: next, headers: admin })
    if (res.statusCode !== 200) throw new Error(`GET ${next}: ${res.statusCode} ${res.body}`)
    const body = res.json() as { data: Array<{ id: string }>, iterator: string | null }
    seen.push(...body.data.map((row) => row.id))
    next = body.iterator === null ? null : `${url}&iterator=${encodeURIComponent(body.iterator)}`
  }
  return seen
}

t.test('brands created within one millisecond are all on some page', async (t) => {
  const rows = await sql<{ id: string }>(app.orm.em.fork(),
    "insert into brand (id, name, created_at) select gen_random_uuid(), 'same ms ' || g, timestamptz '2026-01-01 00:00:00.000' + g * interval '100 microseconds' from generate_series(1, 5) g returning id")
  const seen = await walk('/api/brands?limit=1')
  t.same(rows.map((r) => r.id).filter((id) => !seen.includes(id)), [], 'none skipped')
  t.equal(new Set(seen).size, seen.length, 'none twice')
})

t.test('keys created within one millisecond are all on some page', async (t) => {
  const rows = await sql<{ id: string }>(app.orm.em.fork(),
    `insert into api_key (id, name, env, scopes, tier, key_hash, prefix, created_at)
     select gen_random_uuid(), 'same ms ' || g, 'live', '{events:read}', 'standard', encode(sha256(('same ms key ' || g)::bytea), 'hex'), 'lk_live_same', timestamptz '2026-01-01 00:00:00.000' + g * interval '100 microseconds'
       from generate_series(1, 5) g returning id`)
  const seen = await walk('/api/keys?limit=1')
  t.same(rows.map((r) => r.id).filter((id) => !seen.includes(id)), [], 'none skipped')
  t.equal(new Set(seen).size, seen.length, 'none twice')
})
