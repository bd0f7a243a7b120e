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
  const key = res.json().key
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
  const created = (await app.inject({ method: 'POST', url: '/api/keys', headers: admin, payload: { name: 'listed', env: 'live', scopes: ['events:read'], brandId } })).json().key
  const res = await app.inject({ method: 'GET', url: '/api/keys', headers: admin })
  t.equal(res.statusCode, 200)
  const keys = res.json().keys as Record<string, unknown>[]
  t.ok(keys.length >= 3)
  for (const key of keys) {
    t.same(Object.keys(key).sort(), ['brandId', 'createdAt', 'env', 'id', 'lastUsedAt', 'name', 'prefix', 'revokedAt', 'scopes', 'tier'])
    t.match(key.prefix, /^lk_(live|test|dev)_[0-9A-Za-z]{4}$/)
  }
  t.notOk(res.body.includes(created.secret.slice(12)), 'the secret part is not in the listing')
  t.notMatch(res.body, /[0-9a-f]{64}/, 'no hash either')
  const filtered = await app.inject({ method: 'GET', url: `/api/keys?brandId=${brandId}`, headers: admin })
  const ofBrand = filtered.json().keys as { id: string, name: string }[]
  t.same(ofBrand.map((k) => k.name), ['listed', 'Listing Co key'], 'only that brand, newest first')
  t.equal(ofBrand[0]?.id, created.id)
})

t.test('DELETE /api/keys/{id} revokes: the key is refused from its next request', async (t) => {
  const created = (await app.inject({ method: 'POST', url: '/api/keys', headers: admin, payload: { name: 'doomed', env: 'live', scopes: ['admin'] } })).json().key
  const key = { authorization: `Bearer ${created.secret as string}` }
  t.equal((await app.inject({ method: 'GET', url: '/api/keys', headers: key })).statusCode, 200)
  const res = await app.inject({ method: 'DELETE', url: `/api/keys/${created.id as string}`, headers: admin })
  t.equal(res.statusCode, 200)
  t.match(res.json(), { ok: true, key: { id: created.id, revokedAt: String } })
  t.notOk('secret' in res.json().key)
  t.equal((await app.inject({ method: 'GET', url: '/api/keys', headers: key })).statusCode, 401)
  const again = await app.inject({ method: 'DELETE', url: `/api/keys/${created.id as string}`, headers: admin })
  t.equal(again.json().key.revokedAt, res.json().key.revokedAt, 'revoking twice keeps the first time')
  const listed = (await app.inject({ method: 'GET', url: '/api/keys', headers: admin })).json().keys.find((k: { id: string }) => k.id === created.id)
  t.equal(listed.revokedAt, res.json().key.revokedAt)
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
