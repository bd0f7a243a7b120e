// The queue's guarantees on a real database, without a running worker: a claim is exclusive
// while its lease lasts, a lapsed lease (a worker that died mid-send) hands the same attempt to
// the next claimer, and only the lease holder can record the attempt.
import type { Scope } from '../../../lib/keys/api-key.ts'
import t from 'tap'
import { randomUUID } from 'node:crypto'
import type { EntityManager } from '@mikro-orm/postgresql'
import { buildWithDetails } from '../../helper.ts'
import { eventually } from '../../receiver.ts'
import { storeEvent } from '../../fixtures/events.ts'
import { createEndpoint } from '../../../lib/outbound/endpoints.ts'
import { claimDueDeliveries, nextDueInMs, recordAttempts, type ClaimedDelivery } from '../../../lib/outbound/queue.ts'
import type { SendResult } from '../../../lib/outbound/send.ts'
import { sql } from '../../../lib/db/sql.ts'

const { app } = await buildWithDetails(t, { LOOP_ALLOW_PRIVATE_URLS: 'true' }, undefined, { deliveryWorker: false })
const em = () => app.orm.em.fork() as unknown as EntityManager
const caller = { keyId: randomUUID(), brandId: randomUUID(), env: 'live' as const, scopes: ['webhooks:manage', 'events:read'] as Scope[] }
const endpoint = await createEndpoint(em(), { url: 'http://127.0.0.1:9/hook', events: ['*'] }, caller, { allowPrivateUrls: true })
const schedule = [100, 100]
const ok: SendResult = { statusCode: 200, error: null, responseBody: 'OK', latencyMs: 3 }
const failure: SendResult = { statusCode: 500, error: null, responseBody: 'no', latencyMs: 3 }

let counter = 0
async function queueEvents (count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const text = JSON.stringify({ eventId: `q-${++counter}` })
    await em().transactional(async (tx) => await storeEvent(tx, 'lead.captured.v1', text, { keyId: caller.keyId, brandId: caller.brandId, env: 'live' }, 'api'))
  }
}
const clearQueue = async () => await sql(em(), 'delete from webhook_delivery')
const recordAttempt = async (em: EntityManager, claimed: ClaimedDelivery, result: SendResult, attemptedAt: Date, schedule: readonly number[]) =>
  (await recordAttempts(em, [{ claimed, result, attemptedAt }], schedule))[0] as Awaited<ReturnType<typeof recordAttempts>>[number]

t.test('a claim is exclusive until its lease lapses; then the same attempt goes to the next claimer', async (t) => {
  await clearQueue()
  await queueEvents(1)
  const claimedAt = Date.now()
  const [claimed] = await claimDueDeliveries(em(), 10, 1000)
  t.match(claimed, { attempt: 1, endpointId: endpoint.id, url: 'http://127.0.0.1:9/hook', previousSecret: null })
  t.equal(claimed?.secret, endpoint.secret)
  t.same(await claimDueDeliveries(em(), 10, 1000), [], 'nobody else gets it while the lease holds')
  // The claimer "dies" here: it never records. Once its lease lapses the attempt is offered again.
  const [reclaimed] = await eventually(async () => { const again = await claimDueDeliveries(em(), 10, 300); return again.length > 0 ? again : undefined }, 10_000, 'the lease to lapse')
  t.ok(Date.now() - claimedAt >= 999, 'not before the lease lapsed')
  t.equal(reclaimed?.id, claimed?.id)
  t.equal(reclaimed?.attempt, 1, 'the same attempt number: attempt 1 was never recorded')
  t.not(reclaimed?.claimToken, claimed?.claimToken)
  if (claimed === undefined || reclaimed === undefined) return

  const stale = await recordAttempt(em(), claimed, ok, new Date(), schedule)
  t.equal(stale.recorded, false, 'the dead worker, were it to come back, cannot record over the new lease holder')
  const recording = Date.now()
  const current = await recordAttempt(em(), reclaimed, failure, new Date(), schedule)
  t.match(current, { recorded: true, next: { status: 'pending' }, transition: null })
  const retryInMs = current.next.status === 'pending' ? current.next.retryInMs : -1
  t.ok(retryInMs >= 80 && retryInMs <= 120, `the 100 ms delay, ±20% jitter: ${retryInMs} ms`)
  t.equal((await recordAttempt(em(), reclaimed, failure, new Date(), schedule)).recorded, false, 'a claim records once')
  const attempts = await sql<{ attempt_number: number, status_code: number }>(em(), 
    'select attempt_number, status_code from webhook_attempt where delivery_id = ?', [reclaimed.id])
  t.same(attempts, [{ attempt_number: 1, status_code: 500 }])
  t.same(await claimDueDeliveries(em(), 10, 300), [], 'not due before its retry delay')
  const [retry] = await eventually(async () => { const due = await claimDueDeliveries(em(), 10, 300); return due.length > 0 ? due : undefined }, 10_000, 'the retry delay to pass')
  t.ok(Date.now() - recording >= retryInMs - 1, 'not before its retry delay')
  t.equal(retry?.attempt, 2)
})

t.test('concurrent claimers never share a delivery', async (t) => {
  await clearQueue()
  await queueEvents(60)
  // Twelve claimers at once, again and again until the queue is empty, each taking up to 8.
  const ids: string[] = []
  for (let round = 0; round < 60 && ids.length < 60; round++) {
    const claims = await Promise.all(Array.from({ length: 12 }, () => claimDueDeliveries(em(), 8, 60_000, { perEndpoint: 60 })))
    ids.push(...claims.flat().map((c) => c.id))
  }
  t.equal(ids.length, 60, 'all 60 claimed')
  t.equal(new Set(ids).size, 60, 'each by exactly one claimer')
})

t.test("an endpoint's attempts in flight stay within its cap; the claims rotate across endpoints", async (t) => {
  await clearQueue()
  const other = await createEndpoint(em(), { url: 'http://127.0.0.1:9/other', events: ['*'] }, caller, { allowPrivateUrls: true })
  t.teardown(async () => await sql(em(), 'delete from webhook_endpoint where id = ?', [other.id]))
  await queueEvents(10) // 10 deliveries to each endpoint, all due
  const first = await claimDueDeliveries(em(), 3, 60_000, { perEndpoint: 4 })
  t.equal(new Set(first.map((c) => c.endpointId)).size, 2, 'a claim of 3 takes from both endpoints, not 3 from one')
  const second = await claimDueDeliveries(em(), 100, 60_000, { perEndpoint: 4 })
  t.equal(first.length + second.length, 8, '4 per endpoint, however many slots the claimer has')
  const counts = new Map<string, number>()
  for (const c of [...first, ...second]) counts.set(c.endpointId, (counts.get(c.endpointId) ?? 0) + 1)
  t.same([...counts.values()], [4, 4])
  t.same(await claimDueDeliveries(em(), 100, 60_000, { perEndpoint: 4 }), [], 'nothing more until an attempt is recorded')
  const [done] = first
  if (done === undefined) return
  t.equal((await recordAttempt(em(), done, ok, new Date(), schedule)).recorded, true)
  const next = await claimDueDeliveries(em(), 100, 60_000, { perEndpoint: 4 })
  t.same(next.map((c) => c.endpointId), [done.endpointId], 'a recorded attempt frees one slot of its endpoint')
})

t.test('attempts recorded in one batch: each once, in order, and one whose lease was lost is skipped alone', async (t) => {
  await clearQueue()
  await queueEvents(3)
  const [a, b, c] = await claimDueDeliveries(em(), 10, 300, { perEndpoint: 10 })
  if (a === undefined || b === undefined || c === undefined) return t.fail('three claimed')
  const lost = { ...b, claimToken: randomUUID() }
  const at = new Date()
  const recorded = await recordAttempts(em(), [{ claimed: a, result: ok, attemptedAt: at }, { claimed: lost, result: ok, attemptedAt: at }, { claimed: c, result: failure, attemptedAt: at }], schedule)
  t.same(recorded.map((r) => [r.recorded, r.next.status]), [[true, 'succeeded'], [false, 'succeeded'], [true, 'pending']])
  const rows = await sql<{ id: string, status: string, attempts: number, locked: boolean }>(em(),
    'select d.id, d.status, (select count(*) from webhook_attempt w where w.delivery_id = d.id)::int as attempts, d.locked_until is not null as locked from webhook_delivery d')
  const byId = new Map(rows.map((row) => [row.id, row]))
  t.match(byId.get(a.id), { status: 'succeeded', attempts: 1, locked: false })
  t.match(byId.get(b.id), { status: 'pending', attempts: 0, locked: true }, 'the lost lease: nothing written, the lease left to its holder')
  t.match(byId.get(c.id), { status: 'pending', attempts: 1, locked: false })
})

t.test("a successful attempt that asks hands its slot to its endpoint's next due delivery, leases swapped one for one", async (t) => {
  await clearQueue()
  await queueEvents(4)
  const leases = async () => (await sql<{ n: number }>(em(), 'select count(*)::int as n from webhook_delivery where locked_until > now()'))[0]?.n
  const [a, b] = await claimDueDeliveries(em(), 10, 60_000, { perEndpoint: 2 })
  if (a === undefined || b === undefined) return t.fail('two claimed')
  const at = new Date()
  // The failure first: a hand-off goes to the success that earned it, wherever it stands in the batch.
  const [failing, handing] = await recordAttempts(em(), [{ claimed: b, result: failure, attemptedAt: at, handOff: true }, { claimed: a, result: ok, attemptedAt: at, handOff: true }], schedule, { leaseMs: 60_000 })
  const next = handing?.handedOff
  t.ok(next !== undefined && ![a.id, b.id].includes(next.id), 'the success took a delivery it had not attempted')
  t.match(next, { endpointId: endpoint.id, attempt: 1, url: endpoint.url, secret: endpoint.secret })
  t.equal(failing?.handedOff, undefined, 'a failure hands nothing on: its endpoint may be struggling')
  t.equal(await leases(), 1, 'one lease released and one taken for the success; the failure released its own')
  t.same((await claimDueDeliveries(em(), 10, 60_000, { perEndpoint: 2 })).length, 1, 'a claim sees the cap with one slot free, as before the hand-off')
  const [last] = await recordAttempts(em(), [{ claimed: next as ClaimedDelivery, result: ok, attemptedAt: at }], schedule, { leaseMs: 60_000 })
  t.equal(last?.handedOff, undefined, 'not asked, not handed')
  t.equal((await sql(em(), 'select 1 from webhook_attempt where delivery_id = ?', [next?.id])).length, 1, 'the handed-off delivery is recorded like any other')
})

t.test('no hand-off for an endpoint a claim would ration (FIFO, rate limit, paused), nor one a claimer is locking right now', async (t) => {
  await clearQueue()
  await queueEvents(8)
  const at = new Date()
  const handOff = async (claimed: ClaimedDelivery) => (await recordAttempts(em(), [{ claimed, result: ok, attemptedAt: at, handOff: true }], schedule, { leaseMs: 60_000 }))[0]?.handedOff
  const settings = ["ordering = 'fifo'", 'rate_limit = 100', "paused_until = now() + interval '1 minute'"]
  for (const setting of settings) {
    const [claimed] = await claimDueDeliveries(em(), 1, 60_000)
    if (claimed === undefined) return t.fail('claimed')
    await sql(em(), `update webhook_endpoint set ${setting} where id = ?`, [endpoint.id])
    t.equal(await handOff(claimed), undefined, setting)
    await sql(em(), "update webhook_endpoint set ordering = 'unordered', rate_limit = null, rate_tokens = null, rate_updated_at = null, paused_until = null where id = ?", [endpoint.id])
  }
  const [claimed] = await claimDueDeliveries(em(), 1, 60_000)
  if (claimed === undefined) return t.fail('claimed')
  // A claimer on another instance holds the endpoint's row: the hand-off steps around it rather than waiting.
  const orm = app.orm
  const claimer = orm.em.fork() as unknown as EntityManager
  let release = () => {}
  const holding = claimer.transactional(async (tx) => {
    await sql(tx, 'select id from webhook_endpoint where id = ? for no key update', [endpoint.id])
    await new Promise<void>((resolve) => { release = resolve })
  })
  await eventually(async () => (await sql(em(), "select 1 from pg_locks l join pg_class c on c.oid = l.relation where c.relname = 'webhook_endpoint' and l.mode = 'RowShareLock' and l.granted")).length > 0 ? true : undefined, 5000, 'the claimer to hold the row')
  t.equal(await handOff(claimed), undefined, 'skipped at once, not waited for')
  release()
  await holding
  const [again] = await claimDueDeliveries(em(), 1, 60_000)
  t.ok(again !== undefined && await handOff(again) !== undefined, 'handed off once nothing stands in the way')
})

t.test('a disabled endpoint keeps its deliveries queued without sending them', async (t) => {
  await clearQueue()
  await queueEvents(1)
  await sql(em(), "update webhook_endpoint set status = 'disabled' where id = ?", [endpoint.id])
  t.same(await claimDueDeliveries(em(), 10, 1000), [])
  await sql(em(), "update webhook_endpoint set status = 'active' where id = ?", [endpoint.id])
  t.equal((await claimDueDeliveries(em(), 10, 1000)).length, 1)
})

t.test('nextDueInMs: how long until the next retry is due, never counting a disabled endpoint\'s parked deliveries', async (t) => {
  await clearQueue()
  await queueEvents(2)
  t.equal(await nextDueInMs(em()), null, 'nothing waits: both are due now')
  await sql(em(), "update webhook_delivery set next_attempt_at = 'infinity' where id in (select id from webhook_delivery limit 1)")
  t.equal(await nextDueInMs(em()), null, 'a parked delivery is never due')
  await sql(em(), "update webhook_delivery set next_attempt_at = now() + interval '2 seconds' where next_attempt_at <> 'infinity'")
  const ms = await nextDueInMs(em())
  t.ok(ms !== null && ms > 1000 && ms <= 2000, `a retry in 2 s is due in ${ms} ms`)
})
