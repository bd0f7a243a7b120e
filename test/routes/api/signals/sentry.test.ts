import t from 'tap'
import { createHash, createHmac } from 'node:crypto'
import { build, envelope, testSecrets } from '../../../helper.ts'
import { githubDelivery, pythonJson, sentryDelivery, sentryIssue } from '../../../fixtures/provider-deliveries.ts'
import { countRows, issueRow, signalPayloadText } from '../../../fixtures/database-rows.ts'
import { sql } from '../../../../lib/db/sql.ts'

const app = await build(t)
const sign = (body: string, secret = testSecrets.SENTRY_CLIENT_SECRET) => createHmac('sha256', secret).update(body).digest('hex')

t.test('an error seen 523 times is 201 and becomes a priority-1 issue titled with its count', async (t) => {
  const res = await app.inject(sentryDelivery(sentryIssue({ level: 'error', count: '523' })))
  t.equal(res.statusCode, 201)
  t.match(await issueRow(app, res.json().issueId), {
    type: 'signal',
    status: 'triage',
    priority: 1,
    title: 'Sentry: TypeError: undefined is not a function (523 events)'
  })
})

t.test('a warning becomes a priority-3 issue', async (t) => {
  const res = await app.inject(sentryDelivery(sentryIssue({ level: 'warning', count: '4' })))
  t.equal(res.statusCode, 201)
  t.match(await issueRow(app, res.json().issueId), { priority: 3, title: 'Sentry: TypeError: undefined is not a function (4 events)' })
})

t.test('the exact bytes Sentry sends verify: \\u escapes and 1.0 floats that JSON.stringify would rewrite', async (t) => {
  const body = pythonJson(sentryIssue({ title: 'Überweisung fehlgeschlagen', level: 'fatal' })).replace('"userCount":88', '"userCount":88,"sampleRate":1.0')
  t.not(JSON.stringify(JSON.parse(body)), body, 'the canonical form differs from the bytes sent')
  const res = await app.inject(sentryDelivery(null, { body }))
  t.equal(res.statusCode, 201)
  t.match(await issueRow(app, res.json().issueId), { priority: 1, title: 'Sentry: Überweisung fehlgeschlagen (523 events)' })
  t.match(await signalPayloadText(app, res.json().signalId), /"sampleRate": 1\.0/, 'stored as sent, 1.0 included')
})

t.test('a signature over JSON.stringify(JSON.parse(body)), as Sentry documents (docs/signals.md#sentry), verifies too', async (t) => {
  const body = pythonJson(sentryIssue({ title: 'Café crashed' }))
  const delivery = sentryDelivery(null, { body, headers: { 'sentry-hook-signature': sign(JSON.stringify(JSON.parse(body))) } })
  t.equal((await app.inject(delivery)).statusCode, 201)
})

t.test('when only the canonical form verifies, what is stored is that signed form, never digits it did not cover', async (t) => {
  // The raw bytes carry digits JSON.parse rounds away; the signature covers the rounded form only.
  const body = '{"action":"created","data":{"issue":{"id":"77","title":"Big","count":"3","level":"error"}},"marker":12345678901234567891}'
  const canonical = JSON.stringify(JSON.parse(body))
  t.not(canonical, body)
  const res = await app.inject(sentryDelivery(null, { body, headers: { 'sentry-hook-signature': sign(canonical) } }))
  t.equal(res.statusCode, 201)
  const stored = await signalPayloadText(app, res.json().signalId)
  t.match(stored, /12345678901234567000/)
  t.notMatch(stored, /12345678901234567891/, 'the unsigned digits are not kept')
  const [row] = await sql<{ payload_hash: string }>(app.orm.em.fork(), 'select payload_hash from signal where id = ?', [res.json().signalId])
  t.equal(row?.payload_hash, createHash('sha256').update(canonical).digest('hex'), 'the hash is of the signed bytes too')
})

const rejected: [string, Parameters<typeof sentryDelivery>[1]][] = [
  ['a wrong signature', { headers: { 'sentry-hook-signature': sign('something else') } }],
  ['a missing Sentry-Hook-Signature header', { headers: { 'sentry-hook-signature': undefined } }],
  ['a signature made with the GitHub secret', { secret: testSecrets.GITHUB_WEBHOOK_SECRET }],
  ['a signature that is not hex', { headers: { 'sentry-hook-signature': 'not-a-signature' } }]
]
for (const [name, options] of rejected) {
  t.test(`${name} is 401 UNAUTHORIZED and creates nothing`, async (t) => {
    const before = await countRows(app, 'signal')
    const res = await app.inject(sentryDelivery(sentryIssue(), options))
    t.equal(res.statusCode, 401)
    t.match(res.json(), envelope('UNAUTHORIZED'))
    t.equal(await countRows(app, 'signal'), before)
  })
}

t.test('a GitHub-signed delivery sent to the Sentry route is 401', async (t) => {
  const github = githubDelivery('dependabot_alert', sentryIssue())
  const res = await app.inject({ ...github, url: '/api/signals/sentry', headers: { ...github.headers, 'sentry-hook-signature': String(github.headers?.['x-hub-signature-256']).slice(7) } })
  t.equal(res.statusCode, 401)
})

t.test('an empty body does not crash: 401 unsigned, 400 when signed', async (t) => {
  const unsigned = await app.inject({ method: 'POST', url: '/api/signals/sentry', headers: { 'content-type': 'application/json' }, payload: '' })
  t.ok([400, 401].includes(unsigned.statusCode), `status ${unsigned.statusCode}`)
  t.equal(unsigned.json().ok, false)
  const signedJson = await app.inject({ method: 'POST', url: '/api/signals/sentry', headers: { 'content-type': 'application/json', 'sentry-hook-signature': sign('') }, payload: '' })
  t.equal(signedJson.statusCode, 400)
  t.match(signedJson.json(), envelope('BAD_REQUEST'))
  const noType = await app.inject({ method: 'POST', url: '/api/signals/sentry', headers: { 'sentry-hook-signature': sign('') } })
  t.equal(noType.statusCode, 400)
  t.match(noType.json(), envelope('BAD_REQUEST'))
  const noTypeUnsigned = await app.inject({ method: 'POST', url: '/api/signals/sentry' })
  t.equal(noTypeUnsigned.statusCode, 401)
  t.match(noTypeUnsigned.json(), envelope('UNAUTHORIZED'))
})

t.test('malformed JSON is 400 BAD_REQUEST', async (t) => {
  const res = await app.inject(sentryDelivery(null, { body: '{"action":' }))
  t.equal(res.statusCode, 400)
  t.match(res.json(), envelope('BAD_REQUEST'))
})

t.test('a redelivery with the same Request-ID is 200 duplicate and creates nothing', async (t) => {
  const delivery = sentryDelivery(sentryIssue({ id: '555' }))
  const first = await app.inject(delivery)
  t.equal(first.statusCode, 201)
  const before = await countRows(app, 'issue')
  const again = await app.inject(delivery)
  t.equal(again.statusCode, 200)
  t.same(again.json(), { ...first.json(), duplicate: true })
  t.equal(await countRows(app, 'issue'), before)
})

t.test('without Request-ID, the same body about the same Sentry issue is recognised by its content', async (t) => {
  const payload = sentryIssue({ id: '777', count: '9' })
  const first = await app.inject(sentryDelivery(payload, { headers: { 'request-id': undefined } }))
  const second = await app.inject(sentryDelivery(payload, { headers: { 'request-id': undefined } }))
  t.equal(first.statusCode, 201)
  t.equal(second.statusCode, 200)
  t.equal(second.json().issueId, first.json().issueId)
  const later = await app.inject(sentryDelivery(sentryIssue({ id: '777', count: '10' }), { headers: { 'request-id': undefined } }))
  t.equal(later.statusCode, 201, 'a new count is a new delivery')
})

t.test('with SENTRY_CLIENT_SECRET unset, a correctly signed delivery is 500 NOT_CONFIGURED', async (t) => {
  const unconfigured = await build(t, { SENTRY_CLIENT_SECRET: '' })
  const res = await unconfigured.inject(sentryDelivery(sentryIssue()))
  t.equal(res.statusCode, 500)
  t.match(res.json(), envelope('NOT_CONFIGURED'))
  t.match(res.json().error.message, /SENTRY_CLIENT_SECRET/)
  t.equal(await countRows(unconfigured, 'signal'), 0)
  t.equal((await unconfigured.inject(githubDelivery('ping', {}))).statusCode, 200, 'other providers keep working')
})
