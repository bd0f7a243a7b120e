import t from 'tap'
import { authHeaders, build, envelope } from '../../helper.ts'

const app = await build(t)
const admin = await authHeaders(app, ['admin'])

t.test('POST /api/brands creates a brand and its first key, secret shown once', async (t) => {
  const res = await app.inject({ method: 'POST', url: '/api/brands', headers: admin, payload: { name: 'Acme Health' } })
  t.equal(res.statusCode, 201)
  const body = res.json()
  t.match(body, {
    ok: true,
    brand: { id: String, name: 'Acme Health', createdAt: String },
    key: { env: 'live', tier: 'standard', scopes: ['events:write', 'events:read', 'schemas:write', 'webhooks:manage'], lastUsedAt: null, revokedAt: null }
  })
  t.equal(body.key.brandId, body.brand.id)
  t.match(body.key.secret, /^lk_live_[0-9A-Za-z]{40}$/)
  t.equal(body.key.prefix, body.key.secret.slice(0, 12))

  const withKey = { authorization: `Bearer ${body.key.secret as string}` }
  t.equal((await app.inject({ method: 'GET', url: '/api/keys', headers: withKey })).statusCode, 403, 'the new key works and is not admin')
  const listed = await app.inject({ method: 'GET', url: `/api/keys?brandId=${body.brand.id as string}`, headers: admin })
  t.equal(listed.json().keys.length, 1)
  t.notOk(listed.body.includes(body.key.secret.slice(12)), 'never shown again')
})

t.test('the first key can be shaped in the request', async (t) => {
  const res = await app.inject({
    method: 'POST',
    url: '/api/brands',
    headers: admin,
    payload: { name: 'Beta', key: { name: 'beta sandbox', env: 'test', scopes: ['events:write'], tier: 'premium' } }
  })
  t.equal(res.statusCode, 201)
  t.match(res.json().key, { name: 'beta sandbox', env: 'test', scopes: ['events:write'], tier: 'premium' })
  t.match(res.json().key.secret, /^lk_test_/)
})

t.test('invalid requests are 422 listing every issue; only admins may create brands', async (t) => {
  const res = await app.inject({ method: 'POST', url: '/api/brands', headers: admin, payload: { name: '', key: { env: 'prod', scopes: [], extra: 1 } } })
  t.equal(res.statusCode, 422)
  t.match(res.json(), envelope('VALIDATION_ERROR'))
  const issues = res.json().error.issues.map((i: { code: string, path: string }) => `${i.code}@${i.path}`).sort()
  t.same(issues, ['invalid_enum_value@key.env', 'too_small@key.scopes', 'too_small@name', 'unrecognized_keys@key.extra'])
  const notAdmin = await authHeaders(app, ['events:write', 'webhooks:manage'])
  t.equal((await app.inject({ method: 'POST', url: '/api/brands', headers: notAdmin, payload: { name: 'x' } })).statusCode, 403)
  t.equal((await app.inject({ method: 'POST', url: '/api/brands', payload: { name: 'x' } })).statusCode, 401)
})
