// Conditional GET on the API: pollers send the ETag back and get 304 while nothing changed, with
// the rate-limit headers still on; errors, writes and non-API routes are never turned into 304.
import t from 'tap'
import { build, envelope, operatorHeaders } from '../helper.ts'
import { githubDelivery, dependabotAlert } from '../fixtures/provider-deliveries.ts'
import { entityTag, noneMatch } from '../../plugins/conditional-get.ts'

const app = await build(t)
// The operator's key: GitHub's signal issues are the operator's.
const key = await operatorHeaders(app, ['issues:read', 'issues:write'])

t.test('If-None-Match comparison is weak and takes lists and *', async (t) => {
  const tag = entityTag('{"ok":true}')
  const cases: [string | undefined, boolean][] = [
    [undefined, true], [tag, false], [`W/${tag}`, false], [`"other", ${tag}`, false], ['*', false], ['"other"', true]
  ]
  for (const [header, expected] of cases) t.equal(noneMatch(header, tag), expected, String(header))
})

t.test('a repeated GET with the ETag is 304 with no body and the X-RateLimit-* headers', async (t) => {
  const first = await app.inject({ method: 'GET', url: '/api/issues', headers: key })
  t.equal(first.statusCode, 200)
  const etag = first.headers.etag as string
  t.match(etag, /^"[A-Za-z0-9_-]+"$/)
  const again = await app.inject({ method: 'GET', url: '/api/issues', headers: { ...key, 'if-none-match': etag } })
  t.equal(again.statusCode, 304)
  t.equal(again.body, '')
  t.equal(again.headers.etag, etag)
  t.equal(again.headers['x-ratelimit-limit'], '100')
  t.ok(again.headers['x-ratelimit-remaining'] !== undefined && again.headers['x-ratelimit-reset'] !== undefined)
})

t.test('a change to the list changes the ETag, so the next poll gets the new body', async (t) => {
  const before = await app.inject({ method: 'GET', url: '/api/issues', headers: key })
  const created = await app.inject(githubDelivery('dependabot_alert', dependabotAlert('critical')))
  t.equal(created.statusCode, 201)
  const after = await app.inject({ method: 'GET', url: '/api/issues', headers: { ...key, 'if-none-match': before.headers.etag as string } })
  t.equal(after.statusCode, 200)
  t.not(after.headers.etag, before.headers.etag)
  t.equal(after.json().data.length, before.json().data.length + 1)
})

t.test('errors keep their status and envelope whatever If-None-Match says', async (t) => {
  const unauthorized = await app.inject({ method: 'GET', url: '/api/issues', headers: { authorization: 'Bearer lk_live_nope' } })
  t.equal(unauthorized.statusCode, 401)
  t.equal(unauthorized.headers.etag, undefined, 'no ETag on errors')
  const repeated = await app.inject({ method: 'GET', url: '/api/issues', headers: { authorization: 'Bearer lk_live_nope', 'if-none-match': '*' } })
  t.equal(repeated.statusCode, 401)
  t.match(repeated.json(), envelope('UNAUTHORIZED'))
  const notFound = await app.inject({ method: 'GET', url: '/api/issues/00000000-0000-4000-8000-000000000000', headers: { ...key, 'if-none-match': '*' } })
  t.equal(notFound.statusCode, 404)
  t.match(notFound.json(), envelope('NOT_FOUND'))
})

t.test('writes are never answered 304', async (t) => {
  const body = { title: 'Same body twice', type: 'task' }
  const first = await app.inject({ method: 'POST', url: '/api/issues', headers: { ...key, 'if-none-match': '*' }, payload: body })
  t.equal(first.statusCode, 201)
  t.equal(first.headers.etag, undefined)
})
