// Group commit through the whole stack (issue 9): provider deliveries arriving together share a
// transaction, and each still gets exactly the answer it would have got alone. To make "together"
// certain rather than likely, a second connection locks `signal`, a first delivery is sent and
// stays blocked in the database (one batch in flight at a time), and every delivery of the test
// queues behind it; once all have reached the batcher the lock is released and they are written
// as one batch.
import t from 'tap'
import { randomUUID } from 'node:crypto'
import pg from 'pg'
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import { buildWithDetails, envelope } from '../../../helper.ts'
import { githubDelivery, posthogDelivery, repository, sentryDelivery, sentryIssue } from '../../../fixtures/provider-deliveries.ts'
import { countRows } from '../../../fixtures/database-rows.ts'
import { createKey } from '../../../../lib/keys/key-service.ts'
import { sql } from '../../../../lib/db/sql.ts'

const batchEnv = { LOOP_INGEST_BATCHES_IN_FLIGHT: '1', LOOP_INGEST_BATCH_SIZE: '100' }
const main = await buildWithDetails(t, batchEnv)
const { app } = main

async function waitUntil (condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 30_000
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

/** Sends every request at once so that they are written in one batch; returns the answers in order. */
async function sendTogether (requests: InjectOptions[], { app, databaseUrl } = main): Promise<{ responses: LightMyRequestResponse[], batches: number }> {
  const { signals } = app.ingest
  const lock = new pg.Client({ connectionString: databaseUrl })
  await lock.connect()
  try {
    await lock.query('begin')
    await lock.query('lock table signal in exclusive mode')
    const before = signals.stats.items
    const blocker = app.inject(githubDelivery('push', push(-1)))
    await waitUntil(() => signals.stats.items === before + 1, 'the first delivery waits on the lock')
    const batchesBefore = signals.stats.batches
    const pending = requests.map(async (request) => await app.inject(request))
    await waitUntil(() => signals.queued === requests.length, 'every delivery waits for a batch')
    await lock.query('commit')
    const blocked = await blocker
    if (blocked.statusCode !== 201) throw new Error(`the first delivery failed: ${blocked.body}`)
    return { responses: await Promise.all(pending), batches: signals.stats.batches - batchesBefore }
  } finally {
    await lock.end()
  }
}

async function rows<R> (target: FastifyInstance, text: string, params: unknown[] = []): Promise<R[]> {
  return await sql<R>(target.orm.em.fork(), text, params)
}

const push = (n: number) => ({ ref: 'refs/heads/main', after: randomUUID().replaceAll('-', ''), commits: [{ id: String(n), message: `change ${n}` }], repository })
const metric = (n: number) => ({ event: { name: `metric_${n}` }, value: 12, timeframe: 'last_7_days' })

t.test('50 concurrent GitHub, Sentry and PostHog deliveries share batches: all 201, each stored once with its own issue', async (t) => {
  const requests = [
    ...Array.from({ length: 20 }, (_, n) => githubDelivery('push', push(n))),
    ...Array.from({ length: 15 }, (_, n) => sentryDelivery(sentryIssue({ id: `batch-${n}`, title: `Error ${n}` }))),
    ...Array.from({ length: 15 }, (_, n) => posthogDelivery(metric(n)))
  ]
  const signalsBefore = await countRows(app, 'signal')
  const { responses, batches } = await sendTogether(requests)
  t.same(responses.map((r) => r.statusCode), requests.map(() => 201), 'every delivery is acknowledged as created')
  t.equal(batches, 1, 'the fifty were written as one batch')
  const receipts = responses.map((r) => r.json<{ signalId: string, issueId: string }>())
  t.equal(new Set(receipts.map((r) => r.signalId)).size, 50, 'fifty signals')
  t.equal(new Set(receipts.map((r) => r.issueId)).size, 50, 'fifty issues')
  t.equal(await countRows(app, 'signal'), signalsBefore + 1 + 50, 'each stored exactly once (and the one that met the lock)')
  const stored = await rows<{ id: string, signal_id: string, number: number }>(app,
    'select id, signal_id, number from issue where signal_id = any(?::uuid[])', [receipts.map((r) => r.signalId)])
  t.equal(stored.length, 50)
  for (const receipt of receipts) t.equal(stored.find((issue) => issue.id === receipt.issueId)?.signal_id, receipt.signalId, 'each issue belongs to its own signal')
  t.equal(new Set(stored.map((issue) => issue.number)).size, 50, 'issue numbers are unique')
})

t.test('copies of one delivery in the same batch: the first is 201, the others 200 duplicates with its ids, one row', async (t) => {
  const github = githubDelivery('push', push(100))
  const posthog = posthogDelivery(metric(100))
  const other = githubDelivery('push', push(101))
  const requests = [github, github, posthog, other, posthog, github]
  const signalsBefore = await countRows(app, 'signal')
  const { responses, batches } = await sendTogether(requests)
  t.equal(batches, 1, 'written as one batch')
  const answers = responses.map((r) => ({ status: r.statusCode, body: r.json<{ signalId: string, issueId: string, duplicate?: boolean }>() }))
  for (const copies of [[0, 1, 5], [2, 4]]) {
    const group = copies.map((i) => answers[i]!)
    t.equal(group.filter((a) => a.status === 201).length, 1, 'one copy is created')
    t.equal(group.filter((a) => a.status === 200).length, copies.length - 1, 'the others are duplicates')
    t.equal(new Set(group.map((a) => a.body.signalId)).size, 1, 'every copy names the same signal')
    t.equal(new Set(group.map((a) => a.body.issueId)).size, 1, 'and the same issue')
    for (const answer of group) t.equal(answer.body.duplicate === true, answer.status === 200)
  }
  t.equal(answers[3]?.status, 201)
  t.equal(await countRows(app, 'signal'), signalsBefore + 1 + 3, 'three distinct deliveries, three signals')
})

t.test('a delivery the database refuses fails alone: its batch-mates are stored and answered 201', async (t) => {
  // A real database failure for one row only: a trigger refusing signals of one event type.
  await rows(app, `create function loop_test_refuse_signal() returns trigger language plpgsql as $$
    begin raise exception 'signal refused by the test trigger'; end $$`)
  await rows(app, "create trigger loop_test_refuse_signal before insert on signal for each row when (new.type = 'refused_event') execute function loop_test_refuse_signal()")
  t.teardown(async () => {
    await rows(app, 'drop trigger loop_test_refuse_signal on signal')
    await rows(app, 'drop function loop_test_refuse_signal()')
  })
  const refused = githubDelivery('refused_event', { action: 'created', repository })
  const requests = [githubDelivery('push', push(200)), refused, githubDelivery('push', push(201)), sentryDelivery(sentryIssue({ id: 'batch-refused-mate' })), githubDelivery('push', push(202))]
  const signalsBefore = await countRows(app, 'signal')
  const issuesBefore = await countRows(app, 'issue')
  const { responses, batches } = await sendTogether(requests)
  t.equal(batches, 1, 'the five were one batch')
  t.same(responses.map((r) => r.statusCode), [201, 500, 201, 201, 201])
  t.match(responses[1]?.json(), envelope('INTERNAL_ERROR'))
  t.notMatch(responses[1]?.body ?? '', /trigger|refused|insert/i, 'no SQL or database message in the answer')
  t.equal(await countRows(app, 'signal'), signalsBefore + 1 + 4, 'the four good deliveries are stored')
  t.equal(await countRows(app, 'issue'), issuesBefore + 1 + 4, 'each with its issue; none for the refused one')
  const [stray] = await rows<{ n: number }>(app, "select count(*)::int as n from signal where type = 'refused_event'")
  t.equal(stray?.n, 0)
})

t.test('a redelivery of a delivery stored in an earlier batch is a 200 duplicate inside a new batch', async (t) => {
  const first = githubDelivery('push', push(300))
  const created = await app.inject(first)
  t.equal(created.statusCode, 201)
  const { responses, batches } = await sendTogether([first, githubDelivery('push', push(301))])
  t.equal(batches, 1)
  t.equal(responses[0]?.statusCode, 200)
  t.same(responses[0]?.json(), { ...created.json(), duplicate: true })
  t.equal(responses[1]?.statusCode, 201)
})

t.test('with an endpoint subscribed, a batch commits its signals, issues and their deliveries together', async (t) => {
  const loop = await buildWithDetails(t, { ...batchEnv, LOOP_ALLOW_PRIVATE_URLS: 'true' }, undefined, { deliveryWorker: false })
  const { secret } = await createKey(loop.app.orm.em.fork(), { name: 'ops', env: 'live', scopes: ['admin'], brandId: null })
  const registered = await loop.app.inject({
    method: 'POST', url: '/api/webhooks', headers: { authorization: `Bearer ${secret}` }, payload: { url: 'http://127.0.0.1:9/hook', events: ['signal.*', 'issue.*'] }
  })
  t.equal(registered.statusCode, 201, registered.body)
  const endpointId = registered.json<{ id: string }>().id
  const requests = [githubDelivery('push', push(400)), sentryDelivery(sentryIssue({ id: 'batch-outbox' })), posthogDelivery(metric(400))]
  const { responses, batches } = await sendTogether(requests, loop)
  t.equal(batches, 1)
  t.same(responses.map((r) => r.statusCode), [201, 201, 201])
  const queued = await rows<{ event_type: string, body: string }>(loop.app, 'select event_type, body from webhook_delivery where endpoint_id = ?', [endpointId])
  t.equal(queued.length, 2 * (requests.length + 1), 'signal.created and issue.created for each signal (and the one that met the lock)')
  for (const receipt of responses.map((r) => r.json<{ signalId: string, issueId: string }>())) {
    const bodies = queued.map((d) => JSON.parse(d.body) as { type: string, data: { id: string, signalId?: string, issueId?: string, number?: number } })
    const signalCreated = bodies.find((b) => b.type === 'signal.created' && b.data.id === receipt.signalId)
    t.match(signalCreated, { data: { issueId: receipt.issueId } })
    const issueCreated = bodies.find((b) => b.type === 'issue.created' && b.data.id === receipt.issueId)
    t.match(issueCreated, { data: { signalId: receipt.signalId, number: Number, status: 'triage' } })
    const shown = await loop.app.inject({ method: 'GET', url: `/api/issues/${receipt.issueId}`, headers: { authorization: `Bearer ${secret}` } })
    const { signal, ...issue } = shown.json()
    t.match(issue, issueCreated?.data ?? {}, 'issue.created carries the issue as the API shows it')
    t.match(signal, signalCreated?.data ?? {}, 'signal.created carries the signal as the API shows it')
  }
})
