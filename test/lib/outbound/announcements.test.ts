// signal.created, issue.created and issue.updated are queued in the transaction of the change,
// for the endpoints of the owner's env and brand, and the operator's (brandless) ones of that env,
// whose key may read them. Real database, no worker, no HTTP.
import t from 'tap'
import { randomUUID } from 'node:crypto'
import type { EntityManager } from '@mikro-orm/postgresql'
import { buildWithDetails } from '../../helper.ts'
import { createEndpoint, type WebhookCaller } from '../../../lib/outbound/endpoints.ts'
import { recordSignal } from '../../../lib/ingest/signal-batch.ts'
import { createIssue } from '../../../lib/issues/create-issue.ts'
import { updateIssue } from '../../../lib/issues/update-issue.ts'
import { claimNextIssue } from '../../../lib/issues/claim-next-issue.ts'
import { createBrand } from '../../../lib/keys/key-service.ts'
import type { Scope } from '../../../lib/keys/api-key.ts'
import { providerOwner, type Caller } from '../../../lib/tenancy/caller.ts'
import { sql } from '../../../lib/db/sql.ts'

const { app } = await buildWithDetails(t, { LOOP_ALLOW_PRIVATE_URLS: 'true' }, undefined, { deliveryWorker: false })
const em = () => app.orm.em.fork() as unknown as EntityManager

const caller = (brandId: string | null, scopes: Scope[], env: WebhookCaller['env'] = 'live'): Caller => ({ keyId: randomUUID(), brandId, env, scopes, tier: 'standard' })
const newBrand = async (name: string) => (await createBrand(em(), { name })).brand.id
const brandId = await newBrand('announced')
const operator = caller(null, ['admin'])
const brand = caller(brandId, ['issues:read', 'issues:write'])
const register = async (who: WebhookCaller, events: string[]) =>
  (await createEndpoint(em(), { url: 'http://127.0.0.1:9/hook', events }, who, { allowPrivateUrls: true })).id

const endpoints = {
  everything: await register(caller(null, ['admin']), ['*']),
  signalsOnly: await register(caller(null, ['webhooks:manage', 'signals:read']), ['*']),
  issuesOnly: await register(caller(null, ['webhooks:manage', 'issues:read']), ['issue.*']),
  branded: await register(caller(brandId, ['webhooks:manage', 'signals:read', 'issues:read']), ['*']),
  otherBrand: await register(caller(await newBrand('other'), ['webhooks:manage', 'signals:read', 'issues:read']), ['*']),
  sandbox: await register(caller(null, ['admin'], 'test'), ['*'])
}
const names = new Map(Object.entries(endpoints).map(([name, id]) => [id, name]))

/** What was queued since the last call (the queue is emptied each time). */
async function queued () {
  const rows = await sql<{ endpoint_id: string, event_type: string, body: string }>(em(), 
    'delete from webhook_delivery returning endpoint_id, event_type, body')
  return rows.map((r) => ({ to: names.get(r.endpoint_id), type: r.event_type, body: JSON.parse(r.body) }))
}
const summary = (rows: { to?: string, type: string }[]) => rows.map((r) => `${r.type} → ${r.to}`).sort()

await queued()

t.test('a recorded signal queues signal.created and issue.created for brandless live endpoints that may read them', async (t) => {
  const recorded = await recordSignal(em(), {
    source: 'github',
    owner: providerOwner,
    deliveryId: randomUUID(),
    raw: Buffer.from('{"action":"created","alert":{"id":820982911946154508}}'),
    mapping: { severity: 'high', type: 'dependabot_alert', title: 'GitHub: dependabot alert: lodash (high) in octo/app' }
  })
  const rows = await queued()
  t.same(summary(rows), [
    'issue.created → everything', 'issue.created → issuesOnly',
    'signal.created → everything', 'signal.created → signalsOnly'
  ])
  const signal = rows.find((r) => r.type === 'signal.created')?.body
  t.match(signal, { type: 'signal.created', data: { id: recorded.signalId, source: 'github', severity: 'high', issueId: recorded.issueId } })
  t.notOk('payload' in signal.data, 'the provider payload stays out of the message')
  t.match(rows.find((r) => r.type === 'issue.created')?.body, { data: { id: recorded.issueId, number: Number, type: 'signal', status: 'triage', priority: 2, signalId: recorded.signalId } })

  const duplicate = await recordSignal(em(), {
    source: 'github',
    owner: providerOwner,
    deliveryId: (await sql<{ delivery_id: string }>(em(), 'select delivery_id from signal where id = ?', [recorded.signalId]))[0]?.delivery_id,
    raw: Buffer.from('{}'),
    mapping: { severity: 'high', type: 'dependabot_alert', title: 'x' }
  })
  t.equal(duplicate.duplicate, true)
  t.same(await queued(), [], 'a redelivered signal queues nothing')
})

t.test('creating, changing and claiming an issue queue issue.created and issue.updated; a no-op change queues nothing', async (t) => {
  const issue = await createIssue(em(), operator, { title: 'Write the runbook', type: 'task', status: 'todo', priority: 1 })
  const afterCreate = await queued()
  t.same(summary(afterCreate), ['issue.created → everything', 'issue.created → issuesOnly'])
  t.match(afterCreate[0]?.body.data, { id: issue.id, title: 'Write the runbook', status: 'todo' })

  await updateIssue(em(), operator, issue.id, { title: 'Write the runbook', priority: 1 })
  t.same(await queued(), [], 'nothing changed, nothing sent')
  await updateIssue(em(), operator, issue.id, { priority: 2 })
  const updated = await queued()
  t.same(summary(updated), ['issue.updated → everything', 'issue.updated → issuesOnly'])
  t.match(updated[0]?.body.data, { id: issue.id, priority: 2 })

  const claimed = await claimNextIssue(em(), operator, 'agent-7')
  t.ok(claimed !== null)
  const claims = await queued()
  t.same(summary(claims), ['issue.updated → everything', 'issue.updated → issuesOnly'])
  t.match(claims[0]?.body.data, { id: claimed?.id, status: 'in_progress', claimedBy: 'agent-7' })
})

t.test("a brand's issue is announced to that brand's endpoints and the operator's, never another brand's", async (t) => {
  const issue = await createIssue(em(), brand, { title: 'Brand work', type: 'task' })
  const created = await queued()
  t.same(summary(created), ['issue.created → branded', 'issue.created → everything', 'issue.created → issuesOnly'])
  t.match(created[0]?.body.data, { id: issue.id, brandId, env: 'live' })
  await updateIssue(em(), brand, issue.id, { priority: 1 })
  t.same(summary(await queued()), ['issue.updated → branded', 'issue.updated → everything', 'issue.updated → issuesOnly'])
})

t.test('when the change rolls back, so do its deliveries', async (t) => {
  await t.rejects(em().transactional(async (tx) => {
    await createIssue(tx, operator, { title: 'never', type: 'bug' })
    throw new Error('rolled back')
  }))
  t.same(await queued(), [])
})
