// docs/operations.md#running-several-instances, horizontal scale: two server.ts processes on one PostgreSQL and one Redis,
// listening on different ports as behind a load balancer. They share one rate-limit budget per
// key, never hand one issue to two agents, never send one delivery attempt twice, and honour an
// Idempotency-Key whichever of them each copy reaches.
import t from 'tap'
import { connectTestRedis, testRedisUrl, uniquePrefix } from '../redis.ts'
import { eventually, startReceiver } from '../receiver.ts'
import { lead } from '../webhook-api.ts'
import { bearer, call, freshDatabase, newAdminKey, sql, startLoopProcess, type Answer, type LoopProcess } from './loop-process.ts'

const redis = await connectTestRedis(t)
if (redis !== null) {
  const adminKey = newAdminKey()
  const databaseUrl = await freshDatabase(t)
  const env = { LOOP_ADMIN_KEY: adminKey, REDIS_URL: testRedisUrl, LOOP_REDIS_PREFIX: uniquePrefix(t, redis), LOOP_DELIVERY_SCHEDULE: '200ms,200ms,200ms,200ms,200ms' }
  // One after the other: the second start finds the migrations applied and the admin key present.
  const a = await startLoopProcess(t, databaseUrl, env)
  const b = await startLoopProcess(t, databaseUrl, env)
  const both = [a, b]

  async function newKey (scopes: string[], tier: 'standard' | 'premium'): Promise<string> {
    const res = await call(`${a.url}/api/keys`, { method: 'POST', headers: bearer(adminKey), body: JSON.stringify({ name: `${tier} ${scopes.join(' ')}`, env: 'live', scopes, tier }) })
    if (res.status !== 201) throw new Error(`key: ${res.status} ${res.text}`)
    return (res.json() as { secret: string }).secret
  }

  /** `total` requests, alternating between the instances, `concurrency` at a time. */
  async function spread (total: number, concurrency: number, request: (loop: LoopProcess, i: number) => Promise<Answer>): Promise<{ answers: Answer[], ms: number }> {
    const answers: Answer[] = []
    let next = 0
    const startedAt = Date.now()
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++
        answers.push(await request(both[i % 2] as LoopProcess, i))
      }
    }))
    return { answers, ms: Date.now() - startedAt }
  }

  t.test('a standard key bursts 200 across both instances, not 200 on each', async (t) => {
    const key = await newKey(['issues:read'], 'standard')
    const { answers, ms } = await spread(600, 60, (loop) => call(`${loop.url}/api/issues?limit=1`, { headers: bearer(key) }))
    const granted = answers.filter((r) => r.status === 200).length
    const limited = answers.filter((r) => r.status === 429)
    t.equal(granted + limited.length, 600, 'every answer is 200 or 429')
    // 100/s refill while the batch ran; two separate buckets would grant at least 400.
    const most = 200 + Math.ceil(ms / 10) + 5
    t.ok(granted >= 200 && granted <= most, `${granted} granted of 600 in ${ms} ms (burst 200, at most ${most} with the refill)`)
    t.ok(limited.every((r) => (r.json() as { error: { code: string } }).error.code === 'RATE_LIMITED' && r.headers.get('retry-after') !== null), '429s are RATE_LIMITED with Retry-After')

    // A fresh key emptied through A alone: B sees the same empty bucket at once, where a bucket
    // of its own would still hold 199 tokens.
    // Concurrently, so the burst drains faster than 100/s refills it even on a loaded machine
    // (one request at a time there can stay under the refill rate and never empty the bucket).
    const fresh = await newKey(['issues:read'], 'standard')
    let refusedByA = false
    let lastAt = Date.now()
    let sent = 0
    await Promise.all(Array.from({ length: 40 }, async () => {
      while (!refusedByA && sent < 4000) {
        sent++
        const status = (await call(`${a.url}/api/issues?limit=1`, { headers: bearer(fresh) })).status
        if (status === 429 && !refusedByA) { refusedByA = true; lastAt = Date.now() }
      }
    }))
    t.ok(refusedByA, 'instance A refuses once the budget is spent')
    const fromB = await call(`${b.url}/api/issues?limit=1`, { headers: bearer(fresh) })
    const refilled = Math.ceil((Date.now() - lastAt) / 10) + 1
    const remaining = fromB.status === 429 ? 0 : Number(fromB.headers.get('x-ratelimit-remaining'))
    t.ok(remaining <= refilled, `instance B draws from the bucket A emptied: ${fromB.status}, remaining ${remaining} ≤ ${refilled} refilled since (its own bucket would say 199)`)
  })

  t.test('50 agents split across both instances never claim the same issue', async (t) => {
    const key = await newKey(['issues:read', 'issues:write'], 'premium')
    const count = 120
    const created = await spread(count, 20, (loop, i) => call(`${loop.url}/api/issues`, { method: 'POST', headers: bearer(key), body: JSON.stringify({ title: `work item ${i}`, priority: 1 + (i % 4) }) }))
    t.equal(created.answers.filter((r) => r.status === 201).length, count, `${count} issues created`)

    const claims: { agent: string, id: string, claimedBy: string }[] = []
    let empty = 0
    await Promise.all(Array.from({ length: 50 }, async (_, n) => {
      const loop = both[n % 2] as LoopProcess
      const agent = `agent-${n}@instance-${n % 2 === 0 ? 'a' : 'b'}`
      for (;;) {
        const res = await call(`${loop.url}/api/issues/claim`, { method: 'POST', headers: bearer(key), body: JSON.stringify({ agent }) })
        if (res.status === 204) { empty++; return }
        if (res.status !== 200) throw new Error(`claim: ${res.status} ${res.text}`)
        const issue = res.json() as { id: string, claimedBy: string }
        claims.push({ agent, id: issue.id, claimedBy: issue.claimedBy })
      }
    }))
    t.equal(empty, 50, 'every agent ends with 204 once nothing is left')
    t.equal(claims.length, count, `${count} claims for ${count} issues`)
    t.equal(new Set(claims.map((c) => c.id)).size, count, 'no issue handed out twice')
    t.ok(claims.every((c) => c.claimedBy === c.agent), 'each claim names its own agent')
    const [stored] = await sql<{ claimed: number, agents: number }>(databaseUrl,
      "select count(*)::int as claimed, count(distinct claimed_by)::int as agents from issue where status = 'in_progress' and claimed_by is not null")
    t.equal(stored?.claimed, count, 'the database agrees: each issue in progress with one agent')
  })

  t.test('each delivery attempt is sent once, whichever instance stored the event and whichever sends it', async (t) => {
    const key = await newKey(['events:write', 'events:read', 'webhooks:manage'], 'premium')
    const receiver = await startReceiver(t)
    const registered = await call(`${a.url}/api/webhooks`, { method: 'POST', headers: bearer(key), body: JSON.stringify({ url: receiver.url, events: ['lead.captured.v1'] }) })
    t.equal(registered.status, 201, 'endpoint registered through A', { body: registered.text })
    const endpointId = (registered.json() as { id: string }).id
    const total = 300
    const sent = await spread(total, 30, (loop) => call(`${loop.url}/api/events`, { method: 'POST', headers: bearer(key), body: JSON.stringify({ event: 'lead.captured.v1', payload: lead() }) }))
    t.equal(sent.answers.filter((r) => r.status === 200).length, total, `${total} events accepted across both`)
    await receiver.waitFor(total, 60_000)
    // Every delivery settled and no claim held by either instance: no attempt is in flight, so a
    // second copy of anything has arrived by now.
    await eventually(async () => {
      const [open] = await sql<{ open: number }>(databaseUrl,
        "select count(*)::int as open from webhook_delivery where endpoint_id = $1 and (status = 'pending' or claim_token is not null)", [endpointId])
      return open?.open === 0 ? true : undefined
    }, 60_000, 'every delivery to settle')
    t.equal(receiver.requests.length, total, `the receiver got ${total} requests`)
    t.equal(new Set(receiver.requests.map((r) => r.headers['x-loop-delivery'])).size, total, 'each X-Loop-Delivery once')
    const [attempts] = await sql<{ attempts: number, deliveries: number }>(databaseUrl,
      `select count(*)::int as attempts, count(distinct a.delivery_id)::int as deliveries
         from webhook_attempt a join webhook_delivery d on d.id = a.delivery_id where d.endpoint_id = $1`, [endpointId])
    t.same(attempts, { attempts: total, deliveries: total }, 'one recorded attempt per delivery')
  })

  t.test('an Idempotency-Key sent to both instances at once stores one event', async (t) => {
    const key = await newKey(['events:write', 'schemas:write'], 'premium')
    // No eventId field: nothing but the Idempotency-Key can keep a copy from being stored twice.
    const declared = await call(`${a.url}/api/events/types`, { method: 'POST', headers: bearer(key), body: JSON.stringify({ name: 'reliability.ping.v1', fields: { round: { type: 'integer', required: true } } }) })
    t.equal(declared.status, 201, 'declared through A', { body: declared.text })
    for (let round = 0; round < 15; round++) {
      const idempotencyKey = `round-${round}-${Date.now()}`
      const body = JSON.stringify({ event: 'reliability.ping.v1', payload: { round } })
      const send = (loop: LoopProcess) => call(`${loop.url}/api/events`, { method: 'POST', headers: { ...bearer(key), 'idempotency-key': idempotencyKey }, body })
      const copies = await Promise.all([a, b, a, b].map(send))
      const ok = copies.filter((r) => r.status === 200)
      const first = ok.filter((r) => r.headers.get('idempotent-replayed') !== 'true')
      t.ok(copies.every((r) => r.status === 200 || (r.status === 409 && (r.json() as { error: { code: string } }).error.code === 'CONFLICT')), `round ${round}: each copy is 200 or 409 (${copies.map((r) => r.status).join(' ')})`)
      t.equal(first.length, 1, `round ${round}: one copy stored it`)
      t.ok(ok.every((r) => r.text === first[0]?.text), `round ${round}: every 200 carries the same response`)
      const again = await Promise.all(both.map(send))
      t.ok(again.every((r) => r.status === 200 && r.headers.get('idempotent-replayed') === 'true' && r.text === first[0]?.text), `round ${round}: both instances replay it afterwards`)
      const [stored] = await sql<{ count: number }>(databaseUrl, "select count(*)::int as count from event where name = 'reliability.ping.v1' and payload ->> 'round' = $1", [String(round)])
      t.equal(stored?.count, 1, `round ${round}: one event in the database`)
    }
  })
}
