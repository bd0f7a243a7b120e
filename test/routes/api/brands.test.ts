import t from 'tap'
import { authHeaders, build, envelope } from '../../helper.ts'

const app = await build(t)
const admin = await authHeaders(app, ['admin'])

t.test('POST /api/brands creates a brand and its first key, secret shown once', async (t) => {
  const res = await app.inject({ method: 'POST', url: '/api/brands', headers: admin, payload: { name: 'Acme Health' } })
  t.equal(res.statusCode, 201)
  const body = res.json()
  t.notOk('ok' in body, 'the created pair, no wrapper')
  t.match(body, {
    brand: { id: String, name: 'Acme Health', createdAt: String },
    key: { env: 'live', tier: 'standard', scopes: ['events:write', 'events:read', 'schemas:write', 'webhooks:manage'], lastUsedAt: null, revokedAt: null }
  })
  t.equal(body.key.brandId, body.brand.id)
  t.match(body.key.secret, /^lk_live_[0-9A-Za-z]{40}$/)
  t.equal(body.key.prefix, body.key.secret.slice(0, 12))

  const withKey = { authorization: `Bearer ${body.key.secret as string}` }
  t.equal((await app.inject({ method: 'GET', url: '/api/keys', headers: withKey })).statusCode, 403, 'the new key works and is not admin')
  const listed = await app.inject({ method: 'GET', url: `/api/keys?brandId=${body.brand.id as string}`, headers: admin })
  t.equal(listed.json().data.length, 1)
  t.notOk(listed.body.includes(body.key.secret.slice(12)), 'never shown again')
})

t.test('the first key can be shaped in the request, within the caller\'s env', async (t) => {
  const testAdmin = await authHeaders(app, ['admin'], { env: 'test' })
  const res = await app.inject({
    method: 'POST',
    url: '/api/brands',
    headers: testAdmin,
    payload: { name: 'Beta', key: { name: 'beta sandbox', env: 'test', scopes: ['events:write'], tier: 'premium' } }
  })
  t.equal(res.statusCode, 201)
  t.match(res.json().key, { name: 'beta sandbox', env: 'test', scopes: ['events:write'], tier: 'premium' })
  t.match(res.json().key.secret, /^lk_test_/)
  const crossing = await app.inject({ method: 'POST', url: '/api/brands', headers: admin, payload: { name: 'Gamma', key: { env: 'test' } } })
  t.equal(crossing.statusCode, 422, 'a live admin key makes no test key: env is a wall')
  t.match(crossing.json(), { error: { code: 'VALIDATION_ERROR', issues: [{ path: 'key.env' }] } })
  const admin422 = await app.inject({ method: 'POST', url: '/api/brands', headers: admin, payload: { name: 'Delta', key: { scopes: ['admin'] } } })
  t.equal(admin422.statusCode, 422, 'a brand key never holds admin')
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

t.test('GET /api/brands lists brands newest first with their active keys (admin only)', async (t) => {
  const created = await app.inject({ method: 'POST', url: '/api/brands', headers: admin, payload: { name: 'Listed Brand' } })
  const { brand, key } = created.json<{ brand: { id: string }, key: { id: string } }>()
  const second = await app.inject({ method: 'POST', url: '/api/keys', headers: admin, payload: { name: 'second', scopes: ['events:read'], brandId: brand.id } })
  t.equal(second.statusCode, 201)
  await app.inject({ method: 'DELETE', url: `/api/keys/${key.id}`, headers: admin })

  const res = await app.inject({ method: 'GET', url: '/api/brands', headers: admin })
  t.equal(res.statusCode, 200)
  const body = res.json<{ data: { id: string, name: string, createdAt: string, activeKeys: number }[], iterator: string | null, prevIterator: string | null, done: boolean }>()
  t.same(Object.keys(body).sort(), ['data', 'done', 'iterator', 'prevIterator'], 'the list envelope')
  t.equal(body.done, true, 'every brand on one page')
  t.equal(body.iterator, null)
  t.same(body.data[0], { id: brand.id, name: 'Listed Brand', createdAt: body.data[0]?.createdAt, activeKeys: 1 }, 'newest first; the revoked key does not count')
  const times = body.data.map((b) => Date.parse(b.createdAt))
  t.same(times, [...times].sort((a, b) => b - a), 'ordered newest first')

  const first = (await app.inject({ method: 'GET', url: '/api/brands?limit=1', headers: admin })).json()
  t.match(first, { data: [{ id: brand.id }], done: false, iterator: String, prevIterator: null }, 'paged: one brand, more to come; nothing before the first page')
  const next = (await app.inject({ method: 'GET', url: `/api/brands?limit=1&iterator=${first.iterator as string}`, headers: admin })).json()
  t.same(next.data.map((b: { id: string }) => b.id), [body.data[1]?.id], 'the next page continues after it')
  t.equal((await app.inject({ method: 'GET', url: '/api/brands?limit=251', headers: admin })).statusCode, 422, 'at most 250 a page')

  const notAdmin = await app.inject({ method: 'GET', url: '/api/brands', headers: await authHeaders(app, ['events:read']) })
  t.equal(notAdmin.statusCode, 403)
  t.match(notAdmin.json(), envelope('FORBIDDEN'))
  t.equal((await app.inject({ method: 'GET', url: '/api/brands' })).statusCode, 401)
})
