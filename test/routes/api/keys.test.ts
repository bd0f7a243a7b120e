import t from 'tap'
import { authHeaders, build, envelope } from '../../helper.ts'

const app = await build(t)
const admin = await authHeaders(app, ['admin'])

async function newBrand (name: string): Promise<string> {
  return (await app.inject({ method: 'POST', url: '/api/brands', headers: admin, payload: { name } })).json().brand.id
}

t.test('POST /api/keys creates a key for a brand; its secret works at once', async (t) => {
  const brandId = await newBrand('Keys Inc')
  // An admin key makes keys of its own env (env is a wall): a dev key takes a dev admin key.
  const devAdmin = await authHeaders(app, ['admin'], { env: 'dev' })
  const res = await app.inject({ method: 'POST', url: '/api/keys', headers: devAdmin, payload: { name: 'CI sandbox', env: 'dev', scopes: ['issues:read', 'issues:write'], brandId } })
  t.equal(res.statusCode, 201)
  const key = res.json()
  t.match(key, { name: 'CI sandbox', env: 'dev', scopes: ['issues:read', 'issues:write'], tier: 'standard', brandId, revokedAt: null })
  t.match(key.secret, /^lk_dev_[0-9A-Za-z]{40}$/)
  t.match(res.headers['x-ratelimit-limit'], '100')
})

t.test('POST /api/keys: unknown brand 404, bad body 422 with every issue', async (t) => {
  const missing = await app.inject({ method: 'POST', url: '/api/keys', headers: admin, payload: { name: 'x', env: 'live', scopes: ['events:read'], brandId: '00000000-0000-4000-8000-000000000000' } })
  t.equal(missing.statusCode, 404)
  t.match(missing.json(), envelope('NOT_FOUND'))
  const bad = await app.inject({ method: 'POST', url: '/api/keys', headers: admin, payload: { env: 'staging', scopes: ['admin', 'admin', 'root'], tier: 'gold', brandId: 'acme' } })
  t.equal(bad.statusCode, 422)
  const issues = bad.json().error.issues.map((i: { code: string, path: string }) => `${i.code}@${i.path}`).sort()
  t.same(issues, ['custom@scopes', 'invalid_enum_value@env', 'invalid_enum_value@scopes.2', 'invalid_enum_value@tier', 'invalid_string@brandId', 'required@name'])
})

t.test('GET /api/keys lists prefixes only, never a secret or hash', async (t) => {
  const brandId = await newBrand('Listing Co')
  const created = (await app.inject({ method: 'POST', url: '/api/keys', headers: admin, payload: { name: 'listed', env: 'live', scopes: ['events:read'], brandId } })).json()
  const res = await app.inject({ method: 'GET', url: '/api/keys', headers: admin })
  t.equal(res.statusCode, 200)
  t.match(res.json(), { iterator: null, prevIterator: null, done: true }, 'the list envelope: every key on one page')
  const keys = res.json().data as Record<string, unknown>[]
  t.ok(keys.length >= 3)
  for (const key of keys) {
    t.same(Object.keys(key).sort(), ['brandId', 'createdAt', 'env', 'id', 'lastUsedAt', 'name', 'prefix', 'revokedAt', 'scopes', 'tier'])
    t.match(key.prefix, /^lk_(live|test|dev)_[0-9A-Za-z]{4}$/)
  }
  t.notOk(res.body.includes(created.secret.slice(12)), 'the secret part is not in the listing')
  t.notMatch(res.body, /[0-9a-f]{64}/, 'no hash either')
  const filtered = await app.inject({ method: 'GET', url: `/api/keys?brandId=${brandId}`, headers: admin })
  const ofBrand = filtered.json().data as { id: string, name: string }[]
  t.same(ofBrand.map((k) => k.name), ['listed', 'Listing Co key'], 'only that brand, newest first')
  t.equal(ofBrand[0]?.id, created.id)

  const first = (await app.inject({ method: 'GET', url: `/api/keys?brandId=${brandId}&limit=1`, headers: admin })).json()
  t.match(first, { data: [{ id: created.id }], done: false, iterator: String }, 'paged: one key, more to come')
  const next = (await app.inject({ method: 'GET', url: `/api/keys?brandId=${brandId}&limit=1&iterator=${first.iterator as string}`, headers: admin })).json()
  t.match(next, { data: [{ name: 'Listing Co key' }], done: true, iterator: null }, 'the next page is the last')
  const otherFilters = await app.inject({ method: 'GET', url: `/api/keys?limit=1&iterator=${first.iterator as string}`, headers: admin })
  t.equal(otherFilters.statusCode, 422, 'an iterator made under other filters is refused')
  t.match(otherFilters.json(), { error: { code: 'VALIDATION_ERROR', issues: [{ path: 'iterator' }] } })
  const brands = (await app.inject({ method: 'GET', url: '/api/brands?limit=1', headers: admin })).json()
  const foreign = await app.inject({ method: 'GET', url: `/api/keys?iterator=${brands.iterator as string}`, headers: admin })
  t.equal(foreign.statusCode, 422, "the brands list's iterator is not the keys list's")
  t.match(foreign.json(), { error: { code: 'VALIDATION_ERROR', issues: [{ path: 'iterator' }] } })
  t.equal((await app.inject({ method: 'GET', url: '/api/keys?limit=250', headers: admin })).statusCode, 200, 'up to 250 a page')
  t.equal((await app.inject({ method: 'GET', url: '/api/keys?limit=251', headers: admin })).statusCode, 422)
})

t.test('DELETE /api/keys/{id} revokes: the key is refused from its next request', async (t) => {
  const created = (await app.inject({ method: 'POST', url: '/api/keys', headers: admin, payload: { name: 'doomed', env: 'live', scopes: ['admin'] } })).json()
  const key = { authorization: `Bearer ${created.secret as string}` }
  t.equal((await app.inject({ method: 'GET', url: '/api/keys', headers: key })).statusCode, 200)
  const res = await app.inject({ method: 'DELETE', url: `/api/keys/${created.id as string}`, headers: admin })
  t.equal(res.statusCode, 204)
  t.equal(res.body, '', 'no body')
  t.equal((await app.inject({ method: 'GET', url: '/api/keys', headers: key })).statusCode, 401)
  const listKey = async () => (await app.inject({ method: 'GET', url: '/api/keys?limit=250', headers: admin })).json().data.find((k: { id: string }) => k.id === created.id)
  const revoked = await listKey()
  t.match(revoked, { id: created.id, revokedAt: String })
  t.notOk('secret' in revoked)
  const again = await app.inject({ method: 'DELETE', url: `/api/keys/${created.id as string}`, headers: admin })
  t.equal(again.statusCode, 204, 'revoking twice is still 204')
  t.equal((await listKey()).revokedAt, revoked.revokedAt, 'revoking twice keeps the first time')
})

t.test('DELETE /api/keys/{id}: unknown id 404, malformed id 422', async (t) => {
  const unknown = await app.inject({ method: 'DELETE', url: '/api/keys/00000000-0000-4000-8000-000000000000', headers: admin })
  t.equal(unknown.statusCode, 404)
  t.equal(unknown.json().error.message, 'API key 00000000-0000-4000-8000-000000000000 not found')
  const malformed = await app.inject({ method: 'DELETE', url: '/api/keys/nope', headers: admin })
  t.equal(malformed.statusCode, 422)
})

t.test('every keys route needs the admin scope', async (t) => {
  const key = await authHeaders(app, ['events:write', 'events:read', 'schemas:write', 'webhooks:manage', 'issues:read', 'issues:write', 'signals:read'])
  for (const [method, url] of [['POST', '/api/keys'], ['GET', '/api/keys'], ['DELETE', '/api/keys/00000000-0000-4000-8000-000000000000']] as const) {
    const res = await app.inject({ method, url, headers: key, payload: method === 'POST' ? { name: 'x', env: 'live', scopes: ['admin'] } : undefined })
    t.equal(res.statusCode, 403, `${method} ${url}`)
    t.equal(res.json().error.message, 'This key lacks the admin scope')
  }
})
