// The queue snapshot behind /metrics and /ready (lib/outbound/queue-stats.ts), on a real
// database: deliveries put in each state and endpoints in each state, counted by one statement.
import t from 'tap'
import { sql } from '../../../lib/db/sql.ts'
import { oldestDueAgeMs, queueSnapshot } from '../../../lib/outbound/queue-stats.ts'
import { register, sendLead, startLoop } from '../../webhook-api.ts'

// No worker: every delivery stays where the test puts it.
const loop = await startLoop(t, {}, { deliveryWorker: false })
const em = () => loop.app.orm.em.fork()

t.test('an empty queue: nothing in any state, no oldest due delivery', async (t) => {
  t.same(await queueSnapshot(em()), {
    depth: { due: 0, inFlight: 0, scheduled: 0, parked: 0 },
    oldestDueAgeMs: null,
    endpoints: { active: 0, failing: 0, paused: 0, disabled: 0 }
  })
  t.equal(await oldestDueAgeMs(em()), null)
})

t.test('each pending delivery is counted in one state, and each endpoint in one state', async (t) => {
  const endpoints = await Promise.all(['a', 'b', 'c', 'd'].map(async (name) => await register(loop, `http://127.0.0.1:9/${name}`)))
  for (let i = 0; i < 4; i++) await sendLead(loop)
  // Four endpoints take every lead: 16 deliveries, all due now.
  const ids = (await sql<{ id: string }>(em(), 'select id from webhook_delivery order by created_at, id')).map((row) => row.id)
  t.equal(ids.length, 16)
  await sql(em(), "update webhook_delivery set locked_until = now() + interval '1 minute', claim_token = gen_random_uuid() where id = ?", [ids[0]])
  await sql(em(), "update webhook_delivery set next_attempt_at = now() + interval '1 hour' where id = any(?::uuid[])", [[ids[1], ids[2]]])
  await sql(em(), "update webhook_delivery set next_attempt_at = 'infinity' where id = ?", [ids[3]])
  await sql(em(), "update webhook_delivery set status = 'succeeded' where id = ?", [ids[4]])
  // The oldest due delivery fell due a minute ago.
  await sql(em(), "update webhook_delivery set next_attempt_at = now() - interval '1 minute' where id = ?", [ids[5]])
  const [a, b, c] = endpoints
  await sql(em(), "update webhook_endpoint set status = 'failing', failing_since = now() where id = ?", [a?.id])
  await sql(em(), "update webhook_endpoint set paused_until = now() + interval '30 seconds' where id = ?", [b?.id])
  await sql(em(), "update webhook_endpoint set status = 'disabled' where id = ?", [c?.id])

  const snapshot = await queueSnapshot(em())
  t.same(snapshot.depth, { due: 11, inFlight: 1, scheduled: 2, parked: 1 }, 'the succeeded one is history, not queue')
  t.same(snapshot.endpoints, { active: 1, failing: 1, paused: 1, disabled: 1 })
  t.ok(snapshot.oldestDueAgeMs !== null && snapshot.oldestDueAgeMs >= 60_000 && snapshot.oldestDueAgeMs < 120_000, `${snapshot.oldestDueAgeMs} ms`)
  const alone = await oldestDueAgeMs(em())
  t.ok(alone !== null && Math.abs(alone - (snapshot.oldestDueAgeMs ?? 0)) < 5_000, '/ready reads the same age')
})
