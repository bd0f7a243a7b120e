import { providerOwner } from '../../../lib/tenancy/caller.ts'
import t from 'tap'
import { randomUUID } from 'node:crypto'
import { build, envelope } from '../../helper.ts'
import { dependabotAlert, githubDelivery } from '../../fixtures/provider-deliveries.ts'
import { countRows, signalPayloadText } from '../../fixtures/database-rows.ts'
import { recordSignal } from '../../../lib/ingest/signal-batch.ts'
import { storableJson } from '../../../lib/signals/record-signal.ts'
import { sql } from '../../../lib/db/sql.ts'

const app = await build(t)
const ddl = async (text: string): Promise<unknown[]> => await sql(app.orm.em.fork(), text)

// A real database failure between the two inserts: a trigger that refuses every issue row.
async function refuseIssueInserts (): Promise<() => Promise<void>> {
  await ddl(`create function loop_test_refuse_issue() returns trigger language plpgsql as $$
    begin raise exception 'issue insert refused by the test trigger'; end $$`)
  await ddl('create trigger loop_test_refuse_issue before insert on issue for each row execute function loop_test_refuse_issue()')
  return async () => {
    await ddl('drop trigger loop_test_refuse_issue on issue')
    await ddl('drop function loop_test_refuse_issue()')
  }
}

t.test('when the issue insert fails, the signal insert is rolled back with it', async (t) => {
  const restore = await refuseIssueInserts()
  t.teardown(restore)
  const error = await recordSignal(app.orm.em.fork(), {
    source: 'github',
    owner: providerOwner,
    deliveryId: randomUUID(),
    raw: Buffer.from(JSON.stringify(dependabotAlert())),
    mapping: { severity: 'high', title: 'GitHub: dependabot alert: lodash (high) in octo/app', type: 'dependabot_alert' }
  }).catch((e: unknown) => e)
  t.match(error, { message: /refused by the test trigger/ })
  t.equal(await countRows(app, 'signal'), 0, 'no signal without its issue')
  t.equal(await countRows(app, 'issue'), 0)
})

t.test('over HTTP the failure is 500 INTERNAL_ERROR without SQL, nothing is kept, and the retry succeeds', async (t) => {
  const delivery = githubDelivery('dependabot_alert', dependabotAlert())
  const restore = await refuseIssueInserts()
  const failed = await app.inject(delivery)
  await restore()
  t.equal(failed.statusCode, 500)
  t.match(failed.json(), envelope('INTERNAL_ERROR'))
  t.notMatch(failed.body, /trigger|insert|issue_/i)
  t.equal(await countRows(app, 'signal'), 0, 'no signal without its issue')
  const retried = await app.inject(delivery)
  t.equal(retried.statusCode, 201, 'the rolled-back attempt left no dedupe record behind')
  t.equal(await countRows(app, 'signal'), 1)
  t.equal(await countRows(app, 'issue'), 1)
})

t.test('a payload with a \\u0000 escape is stored (jsonb refuses U+0000) with U+FFFD in its place', async (t) => {
  const body = '{"action":"created","data":{"issue":{"title":"bad\\u0000byte"}}}'
  const res = await app.inject(githubDelivery('issues', null, { body }))
  t.equal(res.statusCode, 201)
  t.match(await signalPayloadText(app, res.json().signalId), /bad\ufffdbyte/)
})

t.test('storableJson replaces only real \\u0000 escapes, not an escaped backslash before u0000', async (t) => {
  const cases: [string, string][] = [
    ['{"a":"x"}', '{"a":"x"}'],
    ['{"a":"\\u0000"}', '{"a":"\\ufffd"}'],
    ['{"a":"\\\\u0000"}', '{"a":"\\\\u0000"}'],
    ['{"a":"\\\\\\u0000"}', '{"a":"\\\\\\ufffd"}'],
    ['{"a":"\\u0000\\u0000"}', '{"a":"\\ufffd\\ufffd"}']
  ]
  for (const [input, expected] of cases) t.equal(storableJson(Buffer.from(input)), expected, input)
})

t.test('an over-long source id is dropped rather than failing the delivery', async (t) => {
  const recorded = await recordSignal(app.orm.em.fork(), {
    source: 'posthog',
    owner: providerOwner,
    deliveryId: undefined,
    raw: Buffer.from('{"name":"x"}'),
    mapping: { severity: 'low', title: 'PostHog: x (recent)', type: 'metric_change', sourceId: 'x'.repeat(501) }
  })
  t.equal(recorded.duplicate, false)
})

t.test('recordSignal outside the group commit answers a redelivery with the first copy\'s ids', async (t) => {
  const mapping = { severity: 'high' as const, title: 'Loop: webhook endpoint failing', type: 'webhook_failing' }
  for (const deliveryId of [`alert-${Date.now()}`, undefined]) {
    const incoming = { source: 'posthog' as const, owner: providerOwner, deliveryId, raw: Buffer.from(`{"name":"${String(deliveryId)}"}`), mapping }
    const first = await recordSignal(app.orm.em.fork(), incoming)
    const again = await recordSignal(app.orm.em.fork(), incoming)
    t.same(again, { signalId: first.signalId, issueId: first.issueId, duplicate: true }, deliveryId === undefined ? 'by content' : 'by delivery id')
  }
})
