import t from 'tap'
import { randomUUID } from 'node:crypto'
import { build, envelope, testSecrets } from '../../../helper.ts'
import { dependabotAlert, failedWorkflowRun, githubDelivery, githubPing, repository } from '../../../fixtures/provider-deliveries.ts'
import { countRows, issueRow, signalPayloadText } from '../../../fixtures/database-rows.ts'

const app = await build(t)

t.test('a signed dependabot alert is 201 and creates a priority-2 triage issue titled from the alert', async (t) => {
  const res = await app.inject(githubDelivery('dependabot_alert', dependabotAlert('high')))
  t.equal(res.statusCode, 201)
  const body = res.json()
  t.match(body, { ok: true, signalId: String, issueId: String })
  t.notOk('duplicate' in body)
  t.match(await issueRow(app, body.issueId), {
    type: 'signal',
    status: 'triage',
    priority: 2,
    title: 'GitHub: dependabot alert: lodash (high) in octo/app',
    signal_id: body.signalId
  })
})

t.test('a moderate dependabot alert becomes a priority-3 issue', async (t) => {
  const res = await app.inject(githubDelivery('dependabot_alert', dependabotAlert('moderate')))
  t.equal(res.statusCode, 201)
  t.match(await issueRow(app, res.json().issueId), { priority: 3, title: 'GitHub: dependabot alert: lodash (medium) in octo/app' })
})

t.test('a failed workflow run on the default branch becomes a priority-2 issue', async (t) => {
  const res = await app.inject(githubDelivery('workflow_run', failedWorkflowRun('main')))
  t.equal(res.statusCode, 201)
  t.match(await issueRow(app, res.json().issueId), { priority: 2, title: 'GitHub: workflow CI failed on main in octo/app' })
})

t.test('the stored payload keeps integers beyond 2^53 digit for digit', async (t) => {
  const body = `{"action":"created","check_run":{"id":820982911946154508},"repository":${JSON.stringify(repository)}}`
  const res = await app.inject(githubDelivery('check_run', null, { body }))
  t.equal(res.statusCode, 201)
  t.match(await signalPayloadText(app, res.json().signalId), /"id": 820982911946154508\b/)
})

t.test('a ping answers 200 and creates nothing', async (t) => {
  const before = await countRows(app, 'signal')
  const res = await app.inject(githubDelivery('ping', githubPing))
  t.equal(res.statusCode, 200)
  t.same(res.json(), { ok: true, event: 'ping' })
  t.equal(await countRows(app, 'signal'), before)
})

t.test('an unsigned ping is still 401', async (t) => {
  const res = await app.inject(githubDelivery('ping', githubPing, { headers: { 'x-hub-signature-256': undefined } }))
  t.equal(res.statusCode, 401)
})

const rejected: [string, Parameters<typeof githubDelivery>[2]][] = [
  ['a wrong signature', { headers: { 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` } }],
  ['a missing X-Hub-Signature-256 header', { headers: { 'x-hub-signature-256': undefined } }],
  ['a signature made with the Sentry secret', { secret: testSecrets.SENTRY_CLIENT_SECRET }],
  ['a signature made with the PostHog secret', { secret: testSecrets.POSTHOG_WEBHOOK_SECRET }],
  ['a signature without the sha256= prefix', { headers: { 'x-hub-signature-256': 'deadbeef' } }]
]
for (const [name, options] of rejected) {
  t.test(`${name} is 401 UNAUTHORIZED and creates nothing`, async (t) => {
    const before = await countRows(app, 'signal')
    const res = await app.inject(githubDelivery('dependabot_alert', dependabotAlert(), options))
    t.equal(res.statusCode, 401)
    t.match(res.json(), envelope('UNAUTHORIZED'))
    t.equal(await countRows(app, 'signal'), before)
  })
}

t.test('the signature covers the raw bytes: the same JSON re-serialized does not verify', async (t) => {
  const signed = githubDelivery('dependabot_alert', dependabotAlert())
  const res = await app.inject({ ...signed, payload: JSON.stringify(dependabotAlert(), null, 2) })
  t.equal(res.statusCode, 401)
})

t.test('the signature is checked before the body is looked at: a bad signature on a non-object is 401', async (t) => {
  const res = await app.inject(githubDelivery('push', null, { body: '[1,2,3]', secret: 'wrong' }))
  t.equal(res.statusCode, 401)
})

t.test('malformed JSON is 400 BAD_REQUEST', async (t) => {
  const res = await app.inject(githubDelivery('push', null, { body: '{"ref": "refs/heads/main",' }))
  t.equal(res.statusCode, 400)
  t.match(res.json(), envelope('BAD_REQUEST'))
})

t.test('a signed JSON array is 400 BAD_REQUEST: a webhook body is an object', async (t) => {
  const res = await app.inject(githubDelivery('push', null, { body: '[1,2,3]' }))
  t.equal(res.statusCode, 400)
  t.match(res.json(), envelope('BAD_REQUEST'))
})

t.test('a signed delivery without X-GitHub-Event is 422 VALIDATION_ERROR', async (t) => {
  const res = await app.inject(githubDelivery('push', { ref: 'refs/heads/main' }, { headers: { 'x-github-event': undefined } }))
  t.equal(res.statusCode, 422)
  t.match(res.json(), envelope('VALIDATION_ERROR'))
})

t.test('a redelivery with the same X-GitHub-Delivery is 200 duplicate and creates nothing', async (t) => {
  const delivery = githubDelivery('dependabot_alert', dependabotAlert('critical'))
  const first = await app.inject(delivery)
  t.equal(first.statusCode, 201)
  const signals = await countRows(app, 'signal')
  const issues = await countRows(app, 'issue')
  const again = await app.inject(delivery)
  t.equal(again.statusCode, 200)
  t.same(again.json(), { ...first.json(), duplicate: true })
  t.equal(await countRows(app, 'signal'), signals)
  t.equal(await countRows(app, 'issue'), issues)
})

t.test('10 concurrent redeliveries of one delivery create exactly one signal and one issue', async (t) => {
  const delivery = githubDelivery('workflow_run', failedWorkflowRun('release'))
  const signals = await countRows(app, 'signal')
  const issues = await countRows(app, 'issue')
  const responses = await Promise.all(Array.from({ length: 10 }, () => app.inject(delivery)))
  t.same(responses.map((r) => r.statusCode).sort(), [200, 200, 200, 200, 200, 200, 200, 200, 200, 201])
  t.equal(new Set(responses.map((r) => r.json().issueId)).size, 1, 'every answer names the same issue')
  t.equal(await countRows(app, 'signal'), signals + 1)
  t.equal(await countRows(app, 'issue'), issues + 1)
})

t.test('the same signed body under a new X-GitHub-Delivery is a replay, recognised by its payload hash', async (t) => {
  // GitHub signs the body, not the delivery id: anyone holding one signed body could mint "new"
  // deliveries by changing the header alone.
  const payload = { ...dependabotAlert(), alert: { ...dependabotAlert().alert, number: 4242 } }
  const first = await app.inject(githubDelivery('dependabot_alert', payload))
  const signals = await countRows(app, 'signal')
  const replay = await app.inject(githubDelivery('dependabot_alert', payload))
  t.equal(first.statusCode, 201)
  t.equal(replay.statusCode, 200)
  t.same(replay.json(), { ok: true, signalId: first.json().signalId, issueId: first.json().issueId, duplicate: true })
  t.equal(await countRows(app, 'signal'), signals, 'nothing new stored')
  const concurrent = await Promise.all(Array.from({ length: 5 }, () => app.inject(githubDelivery('dependabot_alert', { ...payload, sequence: 'x' }))))
  t.same(concurrent.map((r) => r.statusCode).sort(), [200, 200, 200, 200, 201], 'concurrent replays under fresh ids store one signal')
})

t.test('without X-GitHub-Delivery, the same body twice is recognised by its content', async (t) => {
  const payload = { ...failedWorkflowRun('hotfix'), workflow_run: { ...failedWorkflowRun('hotfix').workflow_run, id: 99 } }
  const first = await app.inject(githubDelivery('workflow_run', payload, { headers: { 'x-github-delivery': undefined } }))
  const second = await app.inject(githubDelivery('workflow_run', payload, { headers: { 'x-github-delivery': undefined } }))
  t.equal(first.statusCode, 201)
  t.equal(second.statusCode, 200)
  t.equal(second.json().duplicate, true)
  t.equal(second.json().issueId, first.json().issueId)
})

t.test('the route needs no API key', async (t) => {
  const res = await app.inject(githubDelivery('push', { ref: 'refs/heads/main', commits: [], repository }, { headers: { 'x-github-delivery': randomUUID() } }))
  t.equal(res.statusCode, 201)
})

t.test('with GITHUB_WEBHOOK_SECRET unset, even a correctly signed delivery is 500 NOT_CONFIGURED', async (t) => {
  const unconfigured = await build(t, { GITHUB_WEBHOOK_SECRET: '' })
  const res = await unconfigured.inject(githubDelivery('dependabot_alert', dependabotAlert()))
  t.equal(res.statusCode, 500)
  t.match(res.json(), envelope('NOT_CONFIGURED'))
  t.match(res.json().error.message, /GITHUB_WEBHOOK_SECRET/)
  t.equal(await countRows(unconfigured, 'signal'), 0)
  t.equal((await unconfigured.inject(githubDelivery('ping', githubPing))).statusCode, 500, 'a ping too')
})

t.test('a signed delivery nested deeper than LOOP_JSON_MAX_DEPTH is 400; 64 levels are recorded', async (t) => {
  // The wrapper object is the first level; `data` holds the other depth - 1.
  const body = (depth: number) => `{"action":"created","repository":${JSON.stringify({ full_name: 'octo/app' })},"data":${'{"a":'.repeat(depth - 1)}1${'}'.repeat(depth - 1)}}`
  const deep = await app.inject(githubDelivery('push', null, { body: body(65) }))
  t.equal(deep.statusCode, 400, deep.body)
  t.match(deep.json(), envelope('BAD_REQUEST'))
  t.match(deep.json().error.message, /nested more than 64 levels/)
  const fits = await app.inject(githubDelivery('push', null, { body: body(64) }))
  t.equal(fits.statusCode, 201, fits.body)
  const huge = await app.inject(githubDelivery('push', null, { body: '{"a":'.repeat(20_000) + '1' + '}'.repeat(20_000) }))
  t.equal(huge.statusCode, 400, huge.body.slice(0, 200))
})
