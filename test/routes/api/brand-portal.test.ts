// POST /api/brands/{id}/portal: an admin makes a brand's portal link; its token opens that brand's
// webhooks and events and nothing else, is never an API key nor stored in the clear, is logged by
// id on use, and stops working when it expires, or when an admin of its env ends the brand's links
// (DELETE). The page it opens may be framed only by the
// origins of LOOP_PORTAL_FRAME_ANCESTORS.
import t from 'tap'
import { Writable } from 'node:stream'
import { authHeaders, buildWithDetails, envelope } from '../../helper.ts'
import { createBrand } from '../../../lib/keys/key-service.ts'
import { hashApiKey } from '../../../lib/keys/api-key.ts'
import { sql } from '../../../lib/db/sql.ts'

const lines: string[] = []
const logStream = new Writable({ write (chunk, _encoding, done) { lines.push(String(chunk)); done() } })
const { app } = await buildWithDetails(t, { LOOP_ALLOW_PRIVATE_URLS: 'true', LOG_LEVEL: 'info' }, undefined, { logStream })
const admin = await authHeaders(app, ['admin'])
const brandScopes = ['events:write', 'events:read', 'schemas:write', 'webhooks:manage'] as const
const { brand: acme, key: acmeKey } = await createBrand(app.orm.em.fork(), { name: 'Acme', key: { scopes: [...brandScopes] } })
const { brand: globex, key: globexKey } = await createBrand(app.orm.em.fork(), { name: 'Globex', key: { scopes: [...brandScopes] } })
const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` })

const endpointOf = async (secret: string, url: string) => {
  const res = await app.inject({ method: 'POST', url: '/api/webhooks', headers: bearer(secret), payload: { url, events: ['*'] } })
  if (res.statusCode !== 201) throw new Error(`endpoint: ${res.statusCode} ${res.body}`)
  return res.json().id as string
}
const acmeEndpoint = await endpointOf(acmeKey.secret, 'http://127.0.0.1:9/acme')
const globexEndpoint = await endpointOf(globexKey.secret, 'http://127.0.0.1:9/globex')

const portalOf = async (brandId: string, payload: Record<string, unknown> = {}) => {
  const res = await app.inject({ method: 'POST', url: `/api/brands/${brandId}/portal`, headers: admin, payload })
  t.equal(res.statusCode, 201, `portal link for ${brandId}: ${res.body}`)
  const body = res.json() as { id: string, url: string, expiresAt: string }
  return { ...body, token: new URL(body.url).hash.slice(1) }
}

t.test('an admin gets a link to the portal page with the token after #, working for an hour', async (t) => {
  const before = Date.now()
  const link = await portalOf(acme.id)
  const url = new URL(link.url)
  t.equal(url.pathname, '/admin/portal')
  t.equal(url.search, '', 'nothing in the query string, which access logs keep')
  t.match(link.token, /^lp_[0-9A-Za-z]{40}$/)
  const expires = Date.parse(link.expiresAt)
  t.ok(expires >= before + 3600_000 - 1000 && expires <= Date.now() + 3600_000 + 1000, 'an hour by default')
  const short = await portalOf(acme.id, { expiresInSeconds: 120 })
  t.ok(Date.parse(short.expiresAt) <= Date.now() + 121_000, 'expiresInSeconds shortens it')
  const [row] = await sql<{ token_hash: string, brand_id: string, env: string }>(app.orm.em.fork(), 'select token_hash, brand_id, env from portal_token where id = ?', [link.id])
  t.same(row, { token_hash: hashApiKey(link.token), brand_id: acme.id, env: 'live' }, 'only the hash is stored, with its brand and env')
})

t.test('only an admin makes links, only for a brand that exists, for at most a day', async (t) => {
  t.match((await app.inject({ method: 'POST', url: `/api/brands/${acme.id}/portal`, payload: {} })).json(), envelope('UNAUTHORIZED'))
  const brandKey = await app.inject({ method: 'POST', url: `/api/brands/${acme.id}/portal`, headers: bearer(acmeKey.secret), payload: {} })
  t.equal(brandKey.statusCode, 403, 'a brand key, even its own brand\'s')
  t.match(brandKey.json(), envelope('FORBIDDEN'))
  const nonAdmin = await authHeaders(app, ['webhooks:manage', 'events:read'])
  t.equal((await app.inject({ method: 'POST', url: `/api/brands/${acme.id}/portal`, headers: nonAdmin, payload: {} })).statusCode, 403)
  const unknown = await app.inject({ method: 'POST', url: '/api/brands/00000000-0000-4000-8000-000000000000/portal', headers: admin, payload: {} })
  t.equal(unknown.statusCode, 404)
  t.match(unknown.json(), envelope('NOT_FOUND'))
  const tooLong = await app.inject({ method: 'POST', url: `/api/brands/${acme.id}/portal`, headers: admin, payload: { expiresInSeconds: 86401 } })
  t.equal(tooLong.statusCode, 422)
  t.match(tooLong.json(), envelope('VALIDATION_ERROR'))
  const portal = await portalOf(acme.id)
  t.equal((await app.inject({ method: 'POST', url: `/api/brands/${acme.id}/portal`, headers: bearer(portal.token), payload: {} })).statusCode, 403, 'a portal token makes no further links')
})

t.test('the token is its brand: own endpoint, deliveries and events; another brand\'s endpoint is 404', async (t) => {
  const { token } = await portalOf(acme.id)
  const headers = bearer(token)
  const list = await app.inject({ method: 'GET', url: '/api/webhooks', headers })
  t.equal(list.statusCode, 200)
  t.same(list.json().data.map((e: { id: string }) => e.id), [acmeEndpoint], 'the list holds Acme\'s endpoint only')
  t.equal((await app.inject({ method: 'GET', url: `/api/webhooks/${acmeEndpoint}`, headers })).statusCode, 200)
  t.equal((await app.inject({ method: 'GET', url: `/api/webhooks/${acmeEndpoint}/deliveries`, headers })).statusCode, 200)
  t.equal((await app.inject({ method: 'POST', url: `/api/webhooks/${acmeEndpoint}/test`, headers })).statusCode, 202, 'test')
  t.equal((await app.inject({ method: 'POST', url: `/api/webhooks/${acmeEndpoint}/recover`, headers, payload: { since: new Date(Date.now() - 3600_000).toISOString() } })).statusCode, 202, 'recover')
  const edited = await app.inject({ method: 'PATCH', url: `/api/webhooks/${acmeEndpoint}`, headers, payload: { description: 'edited in the portal' } })
  t.equal(edited.statusCode, 200, 'edit')
  const created = await app.inject({ method: 'POST', url: '/api/webhooks', headers, payload: { url: 'http://127.0.0.1:9/acme-2', events: ['lead.*'] } })
  t.equal(created.statusCode, 201, 'create')
  t.equal(created.json().env, 'live')
  const owner = await app.inject({ method: 'GET', url: `/api/webhooks/${created.json().id as string}`, headers: bearer(acmeKey.secret) })
  t.equal(owner.statusCode, 200, 'what the portal made is the brand\'s own')
  t.equal((await app.inject({ method: 'GET', url: '/api/events', headers })).statusCode, 200, 'events')
  t.equal((await app.inject({ method: 'GET', url: '/api/events/schemas', headers })).statusCode, 200, 'event types')

  for (const [method, url] of [['GET', `/api/webhooks/${globexEndpoint}`], ['GET', `/api/webhooks/${globexEndpoint}/deliveries`], ['PATCH', `/api/webhooks/${globexEndpoint}`], ['POST', `/api/webhooks/${globexEndpoint}/test`], ['DELETE', `/api/webhooks/${globexEndpoint}`]] as const) {
    const res = await app.inject({ method, url, headers, ...(method === 'PATCH' ? { payload: { description: 'taken over' } } : {}) })
    t.equal(res.statusCode, 404, `${method} ${url} of Globex`)
  }
  const globex = await app.inject({ method: 'GET', url: `/api/webhooks/${globexEndpoint}`, headers: bearer(globexKey.secret) })
  t.equal(globex.json().description, null, 'Globex\'s endpoint is untouched')
})

t.test('the token is refused on admin routes and on everything but webhooks and events', async (t) => {
  const { token } = await portalOf(acme.id)
  const headers = bearer(token)
  for (const [method, url] of [['GET', '/api/brands'], ['POST', '/api/brands'], ['GET', '/api/keys'], ['POST', '/api/keys'], ['GET', '/api/issues'], ['GET', '/api/signals'], ['POST', '/mcp']] as const) {
    const res = await app.inject({ method, url, headers, ...(method === 'POST' ? { payload: {} } : {}) })
    t.equal(res.statusCode, 403, `${method} ${url}`)
    t.match(res.json(), envelope('FORBIDDEN'))
  }
  const send = await app.inject({ method: 'POST', url: '/api/events', headers, payload: { event: 'x.v1', payload: {} } })
  t.equal(send.statusCode, 403, 'it reads events; it does not send them')
  t.equal((await app.inject({ method: 'GET', url: `/api/brands/${acme.id}/portal`, headers })).statusCode, 404)
})

t.test('an expired, unknown or malformed token is a 401 that says which', async (t) => {
  const link = await portalOf(acme.id)
  t.equal((await app.inject({ method: 'GET', url: '/api/webhooks', headers: bearer(link.token) })).statusCode, 200)
  // The clock is the database's: move the link's expiry into the past instead of waiting for it.
  await sql(app.orm.em.fork(), "update portal_token set expires_at = now() - interval '1 second' where id = ?", [link.id])
  const expired = await app.inject({ method: 'GET', url: '/api/webhooks', headers: bearer(link.token) })
  t.equal(expired.statusCode, 401)
  t.match(expired.json(), { ok: false, error: { code: 'UNAUTHORIZED', message: /^This portal link expired at .*; ask for a new one$/ } })
  t.match(expired.headers['www-authenticate'], /error="invalid_token"/)
  const unknown = await app.inject({ method: 'GET', url: '/api/webhooks', headers: bearer(`lp_${'A'.repeat(40)}`) })
  t.equal(unknown.statusCode, 401)
  t.equal(unknown.json().error.message, 'Invalid portal link')
  t.equal((await app.inject({ method: 'GET', url: '/api/webhooks', headers: bearer('lp_short') })).json().error.message, 'Invalid portal link')
})

t.test('making and each use are logged with the link\'s id and brand, never the token', async (t) => {
  const link = await portalOf(globex.id)
  await app.inject({ method: 'GET', url: '/api/webhooks', headers: bearer(link.token) })
  await app.inject({ method: 'GET', url: '/api/webhooks', headers: bearer(link.token) })
  const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>)
  const made = entries.filter((entry) => entry.msg === 'portal link made' && entry.portalLinkId === link.id)
  t.equal(made.length, 1, 'its making is logged too')
  t.equal(made[0]?.brandId, globex.id)
  t.type(made[0]?.keyId, 'string', 'with the admin key that made it')
  const used = entries.filter((entry) => entry.msg === 'portal link used' && entry.portalLinkId === link.id)
  t.equal(used.length, 1, 'once a minute per link, not once per request')
  t.equal(used[0]?.brandId, globex.id)
  t.notOk(lines.some((line) => line.includes(link.token.slice(3))), 'the token appears in no log line')
})

t.test('the portal page is framed by nobody, unless LOOP_PORTAL_FRAME_ANCESTORS lists origins', async (t) => {
  const page = await app.inject({ method: 'GET', url: '/admin/portal' })
  t.equal(page.statusCode, 200)
  t.match(page.body, /<script type="module" src="\.\/app\.js">/)
  t.match(page.headers['content-security-policy'], /frame-ancestors 'none'/)
  t.equal(page.headers['x-frame-options'], 'SAMEORIGIN')
  t.equal((await app.inject({ method: 'GET', url: '/admin/portal/' })).headers.location, '/admin/portal', 'the page lives without a trailing slash, so ./app.js resolves')

  const { app: framed } = await buildWithDetails(t, { LOOP_PORTAL_FRAME_ANCESTORS: 'https://app.acme.example, https://*.globex.example:8443' })
  const embeddable = await framed.inject({ method: 'GET', url: '/admin/portal' })
  t.match(embeddable.headers['content-security-policy'], /frame-ancestors https:\/\/app\.acme\.example https:\/\/\*\.globex\.example:8443(;|$)/)
  t.equal(embeddable.headers['x-frame-options'], undefined, 'no X-Frame-Options to contradict the listed origins')
  const console = await framed.inject({ method: 'GET', url: '/admin/' })
  t.match(console.headers['content-security-policy'], /frame-ancestors 'none'/, 'the admin console itself stays unframeable')
})

t.test('an admin ends a brand\'s working links at once; another brand\'s and another env\'s stay', async (t) => {
  const first = await portalOf(acme.id)
  const second = await portalOf(acme.id, { expiresInSeconds: 600 })
  const globexLink = await portalOf(globex.id)
  const testAdmin = await authHeaders(app, ['admin'], { env: 'test' })
  const made = await app.inject({ method: 'POST', url: `/api/brands/${acme.id}/portal`, headers: testAdmin, payload: {} })
  t.equal(made.statusCode, 201)
  const acmeInTest = new URL(made.json<{ url: string }>().url).hash.slice(1)
  const opens = async (token: string) => (await app.inject({ method: 'GET', url: '/api/webhooks', headers: bearer(token) })).statusCode
  t.equal(await opens(first.token), 200)

  const revoke = async (headers: Record<string, string>, brandId = acme.id) => await app.inject({ method: 'DELETE', url: `/api/brands/${brandId}/portal`, headers })
  t.match((await revoke({})).json(), envelope('UNAUTHORIZED'))
  t.equal((await revoke(bearer(acmeKey.secret))).statusCode, 403, 'a brand key cannot, even its own brand\'s')
  const unknown = await revoke(admin, '00000000-0000-4000-8000-000000000000')
  t.equal(unknown.statusCode, 404)
  t.match(unknown.json(), envelope('NOT_FOUND'))

  const [{ working } = { working: -1 }] = await sql<{ working: number }>(app.orm.em.fork(), "select count(*)::int as working from portal_token where brand_id = ? and env = 'live' and expires_at > now()", [acme.id])
  t.ok(working >= 2)
  const res = await revoke(admin)
  t.equal(res.statusCode, 204)
  t.equal(res.body, '')
  for (const link of [first, second]) {
    const refused = await app.inject({ method: 'GET', url: '/api/webhooks', headers: bearer(link.token) })
    t.equal(refused.statusCode, 401, 'an ended link is refused at once')
    t.match(refused.json(), { ok: false, error: { code: 'UNAUTHORIZED', message: /^This portal link expired at .*; ask for a new one$/ } })
  }
  t.equal(await opens(globexLink.token), 200, 'Globex\'s link still opens')
  t.equal(await opens(acmeInTest), 200, 'Acme\'s link of the test env still opens: the live operator cannot end it')
  t.equal((await revoke(admin)).statusCode, 204, 'ending again is no error')
  const ended = lines.filter((line) => line.includes('"msg":"portal links ended"')).map((line) => JSON.parse(line) as { revoked: number })
  t.same(ended.map((line) => line.revoked), [working, 0], 'each ending is logged with how many links it ended: every working Acme link of the live env, then none')
})
