import t from 'tap'
import { createHash, randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { authHeaders, buildWithDetails } from '../../helper.ts'
import { eventually } from '../../receiver.ts'
import { RETENTION_LOCK, runRetention, withRetentionLock } from '../../../lib/retention/retention.ts'
import { sql } from '../../../lib/db/sql.ts'

const DAY_MS = 24 * 60 * 60 * 1000

const { app, databaseUrl } = await buildWithDetails(t, { LOOP_ALLOW_PRIVATE_URLS: 'true' })
const key = await authHeaders(app, ['webhooks:manage', 'issues:write'])

async function endpointOf (target: FastifyInstance): Promise<string> {
  const res = await target.inject({ method: 'POST', url: '/api/webhooks', headers: key, payload: { url: 'http://127.0.0.1:9/retention', events: ['*'] } })
  return res.json().id
}

/** A delivery as the worker leaves it, last changed `ageMs` ago, with `attempts` attempts. */
async function delivery (target: FastifyInstance, endpointId: string, status: string, ageMs: number, attempts = 1): Promise<string> {
  const em = target.orm.em.fork()
  const [row] = await sql<{ id: string }>(em,
    `insert into webhook_delivery (endpoint_id, message_id, event_type, body, status, attempt_count, created_at, updated_at)
     values (?, ?, 'webhook.test', '{}', ?, ?, now() - ? * interval '1 millisecond', now() - ? * interval '1 millisecond') returning id`,
    [endpointId, randomUUID(), status, attempts, ageMs + 60_000, ageMs])
  const id = row?.id as string
  await sql(em,
    `insert into webhook_attempt (delivery_id, attempt_number, attempted_at, status_code, latency_ms)
     select ?, n, now() - ? * interval '1 millisecond', 500, 10 from generate_series(1, ?) as n`,
    [id, ageMs, attempts])
  return id
}

const count = async (table: 'webhook_delivery' | 'webhook_attempt' | 'idempotency_key', where = 'true', params: unknown[] = []) =>
  (await sql<{ n: number }>(app.orm.em.fork(), `select count(*)::int as n from ${table} where ${where}`, params))[0]?.n

const logOf = async (endpointId: string) =>
  (await app.inject({ method: 'GET', url: `/api/webhooks/${endpointId}/deliveries?limit=250`, headers: key })).json().data.map((d: { id: string }) => d.id).sort()

t.test('settled deliveries older than the window go with their attempts, in batches; newer and pending ones stay', async (t) => {
  const endpointId = await endpointOf(app)
  const old = [
    await delivery(app, endpointId, 'succeeded', 31 * DAY_MS),
    await delivery(app, endpointId, 'failed', 40 * DAY_MS, 6),
    await delivery(app, endpointId, 'succeeded', 365 * DAY_MS, 2),
    await delivery(app, endpointId, 'failed', 30 * DAY_MS + 60_000, 3),
    await delivery(app, endpointId, 'succeeded', 33 * DAY_MS)
  ]
  const kept = [
    await delivery(app, endpointId, 'succeeded', 29 * DAY_MS),
    await delivery(app, endpointId, 'failed', 30 * DAY_MS - 60_000, 6),
    // Parked behind a disabled endpoint for months: not settled, so never pruned.
    await delivery(app, endpointId, 'pending', 90 * DAY_MS, 2),
    await delivery(app, endpointId, 'succeeded', 0)
  ]
  const run = await runRetention(app.orm.em.fork(), { retentionDays: 30, batchSize: 2 })
  t.same(run, { leader: true, deliveries: 5, idempotencyKeys: 0, portalLinks: 0 }, 'three batches: 2, 2, 1')
  t.same(await logOf(endpointId), [...kept].sort(), 'the delivery log keeps the newer and the pending')
  t.equal(await count('webhook_attempt', 'delivery_id = any(?::uuid[])', [old]), 0, 'the pruned deliveries\' attempts are gone')
  t.equal(await count('webhook_attempt', 'delivery_id = any(?::uuid[])', [kept]), 1 + 6 + 2 + 1, 'the kept ones\' attempts stay')

  const shorter = await runRetention(app.orm.em.fork(), { retentionDays: 1 })
  t.same(shorter, { leader: true, deliveries: 2, idempotencyKeys: 0, portalLinks: 0 }, 'a shorter retention lets the 29- and 30-day-old go')
  t.equal((await runRetention(app.orm.em.fork(), { retentionDays: 1 })).deliveries, 0, 'nothing left to prune')
})

t.test('expired idempotency keys are purged; a live one still replays', async (t) => {
  const create = (idempotencyKey: string) => app.inject({ method: 'POST', url: '/api/issues', headers: { ...key, 'idempotency-key': idempotencyKey }, payload: { title: `retention ${idempotencyKey}`, type: 'task' } })
  const expired = [randomUUID(), randomUUID(), randomUUID()]
  for (const k of [...expired, 'still-fresh']) t.equal((await create(k)).statusCode, 201)
  const before = await count('idempotency_key')
  await sql(app.orm.em.fork(), "update idempotency_key set created_at = now() - interval '25 hours' where idempotency_key = any(?::text[])",
    [expired.map((k) => createHashHex(k))])
  const run = await runRetention(app.orm.em.fork(), { retentionDays: 30, batchSize: 2 })
  t.same(run, { leader: true, deliveries: 0, idempotencyKeys: 3, portalLinks: 0 })
  t.equal(await count('idempotency_key'), (before ?? 0) - 3)
  const replay = await create('still-fresh')
  t.equal(replay.statusCode, 201)
  t.equal(replay.headers['idempotent-replayed'], 'true', 'the live key answers its replay')
})

t.test('portal links are purged a week after they expired; a recently expired one still says it expired', async (t) => {
  const admin = await authHeaders(app, ['admin'])
  const { brand } = (await app.inject({ method: 'POST', url: '/api/brands', headers: admin, payload: { name: 'Retention brand' } })).json() as { brand: { id: string } }
  const links: { id: string, token: string }[] = []
  for (let i = 0; i < 3; i++) {
    const link = (await app.inject({ method: 'POST', url: `/api/brands/${brand.id}/portal`, headers: admin, payload: {} })).json() as { id: string, url: string }
    links.push({ id: link.id, token: new URL(link.url).hash.slice(1) })
  }
  const [old, recent, live] = links as [typeof links[number], typeof links[number], typeof links[number]]
  await sql(app.orm.em.fork(), "update portal_token set expires_at = now() - interval '8 days' where id = ?", [old.id])
  await sql(app.orm.em.fork(), "update portal_token set expires_at = now() - interval '6 days' where id = ?", [recent.id])
  const run = await runRetention(app.orm.em.fork(), { retentionDays: 30 })
  t.equal(run.portalLinks, 1)
  t.same((await sql<{ id: string }>(app.orm.em.fork(), 'select id from portal_token where id = any(?::uuid[]) order by id', [links.map((l) => l.id)])).map((r) => r.id), [recent.id, live.id].sort())
  const use = async (token: string) => (await app.inject({ method: 'GET', url: '/api/webhooks', headers: { authorization: `Bearer ${token}` } })).json() as { error?: { message: string } }
  t.match((await use(recent.token)).error?.message, /expired/)
  t.equal((await use(old.token)).error?.message, 'Invalid portal link', 'past the week it is simply unknown')
})

t.test('two instances on one database: while one holds the lock the other does nothing; then it does the work', async (t) => {
  const second = await buildWithDetails(t, { LOOP_ALLOW_PRIVATE_URLS: 'true' }, undefined, { databaseUrl })
  const endpointId = await endpointOf(app)
  const old = [await delivery(app, endpointId, 'succeeded', 60 * DAY_MS), await delivery(app, endpointId, 'failed', 60 * DAY_MS, 6)]
  const held = await withRetentionLock(app.orm.em.fork(), async () => {
    const locks = await sql<{ n: number }>(second.app.orm.em.fork(),
      `select count(*)::int as n from pg_locks
        where locktype = 'advisory' and granted and database = (select oid from pg_database where datname = current_database())
          and ((classid::bigint << 32) | objid::bigint) = hashtextextended(?, 0)`,
      [RETENTION_LOCK])
    t.equal(locks[0]?.n, 1, 'the retention lock is held, as PostgreSQL sees it')
    return await second.app.retention?.runOnce()
  })
  t.same(held, { locked: true, value: { leader: false, deliveries: 0, idempotencyKeys: 0, portalLinks: 0 } }, 'the second instance stood aside')
  t.equal(await count('webhook_delivery', 'id = any(?::uuid[])', [old]), 2, 'and deleted nothing')

  const after = await second.app.retention?.runOnce()
  t.same(after, { leader: true, deliveries: 2, idempotencyKeys: 0, portalLinks: 0 }, 'once released, it leads')
  const failed = withRetentionLock(app.orm.em.fork(), async () => { throw new Error('a run that dies') })
  await t.rejects(failed)
  t.match(await second.app.retention?.runOnce(), { leader: true }, 'a run that failed releases the lock with its transaction')
})

t.test('a run told to stop (the app closing) starts no further batch; the next run carries on', async (t) => {
  const endpointId = await endpointOf(app)
  const old = [await delivery(app, endpointId, 'succeeded', 50 * DAY_MS), await delivery(app, endpointId, 'succeeded', 51 * DAY_MS), await delivery(app, endpointId, 'succeeded', 52 * DAY_MS)]
  const stopped = new AbortController()
  stopped.abort()
  t.same(await runRetention(app.orm.em.fork(), { retentionDays: 30, batchSize: 1, signal: stopped.signal }), { leader: true, deliveries: 0, idempotencyKeys: 0, portalLinks: 0 })
  t.equal(await count('webhook_delivery', 'id = any(?::uuid[])', [old]), 3, 'nothing deleted once stopped')
  t.equal((await runRetention(app.orm.em.fork(), { retentionDays: 30 })).deliveries, 3, 'the next run carries on')
})

t.test('the plugin runs the job on its interval', async (t) => {
  const scheduled = await buildWithDetails(t, { LOOP_ALLOW_PRIVATE_URLS: 'true', LOOP_RETENTION_INTERVAL_MS: '1000' }, undefined, { databaseUrl, retention: true })
  const endpointId = await endpointOf(app)
  const old = await delivery(app, endpointId, 'succeeded', 45 * DAY_MS)
  await eventually(async () => await count('webhook_delivery', 'id = ?', [old]) === 0 ? true : undefined, 10_000, 'the scheduled run')
  t.ok(scheduled.app.retention !== null)
})

function createHashHex (text: string): string {
  return createHash('sha256').update(text).digest('hex')
}
