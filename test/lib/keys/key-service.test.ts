import t from 'tap'
import { ApiKey } from '../../../lib/db/entities/index.ts'
import { hashApiKey } from '../../../lib/keys/api-key.ts'
import { authenticateKey, createBrand, createKey, defaultBrandKeyScopes, ensureAdminKey, listKeys, revokeKey, touchKey } from '../../../lib/keys/key-service.ts'
import { AppError } from '../../../lib/errors.ts'
import { build } from '../../helper.ts'
import { sql } from '../../../lib/db/sql.ts'

const app = await build(t)
const em = () => app.orm.em.fork()

t.test('createBrand makes the brand and its first key together; only the hash is stored', async (t) => {
  const { brand, key } = await createBrand(em(), { name: 'Acme' })
  t.equal(brand.name, 'Acme')
  t.match(key, { brandId: brand.id, env: 'live', tier: 'standard', scopes: defaultBrandKeyScopes, revokedAt: null, lastUsedAt: null })
  t.match(key.secret, /^lk_live_[0-9A-Za-z]{40}$/)
  const row = await em().findOneOrFail(ApiKey, key.id)
  t.equal(row.keyHash, hashApiKey(key.secret))
  t.equal(row.prefix, key.secret.slice(0, 12))
  const [stored] = await sql(app.orm.em, 'select * from api_key where id = ?', [key.id])
  t.notOk(JSON.stringify(stored).includes(key.secret.slice(8)), 'the secret is nowhere in the row')
})

t.test('createKey refuses an unknown brand with 404 and writes nothing', async (t) => {
  const before = (await listKeys(em(), 'any', {}, { limit: 250 })).data.length
  const error = await createKey(em(), { name: 'x', env: 'dev', scopes: ['events:read'], brandId: '00000000-0000-4000-8000-000000000000' }).catch((e: unknown) => e)
  t.ok(error instanceof AppError && error.statusCode === 404, String(error))
  t.equal((await listKeys(em(), 'any', {}, { limit: 250 })).data.length, before)
})

t.test('admin is only for brandless keys: a brand key asking for it is 422, at creation and with a new brand', async (t) => {
  const { brand } = await createBrand(em(), { name: 'No admin here' })
  const error = await createKey(em(), { name: 'x', env: 'live', scopes: ['admin'], brandId: brand.id }).catch((e: unknown) => e) as AppError
  t.equal(error.statusCode, 422)
  t.match(error.issues, [{ path: 'scopes', code: 'invalid_enum_value' }])
  const viaBrand = await createBrand(em(), { name: 'Nor here', key: { scopes: ['admin'] } }).catch((e: unknown) => e) as AppError
  t.equal(viaBrand.statusCode, 422)
  t.match(viaBrand.issues, [{ path: 'key.scopes' }])
  t.equal((await em().find(ApiKey, { brand: brand.id, scopes: { $contains: ['admin'] } })).length, 0)
  // The table refuses it too, whatever a future code path might try.
  await t.rejects(sql(em(), "update api_key set scopes = '{admin}' where brand_id = ?", [brand.id]), /api_key_admin_is_operator/)
})

t.test('an admin key creates keys and brands in its own env only (env is a wall)', async (t) => {
  const caller = { env: 'test' as const }
  const key = await createKey(em(), { name: 'sandbox', scopes: ['events:write'] }, caller)
  t.equal(key.env, 'test', 'env defaults to the caller\'s')
  const error = await createKey(em(), { name: 'live one', env: 'live', scopes: ['admin'] }, caller).catch((e: unknown) => e) as AppError
  t.equal(error.statusCode, 422)
  t.match(error.message, /A test key creates test keys only/)
  const { key: first } = await createBrand(em(), { name: 'Sandboxed' }, caller)
  t.equal(first.env, 'test')
  const refused = await createBrand(em(), { name: 'Live', key: { env: 'live' } }, caller).catch((e: unknown) => e) as AppError
  t.equal(refused.statusCode, 422)
})

t.test('authenticateKey: missing, malformed, unknown and revoked keys are 401s; a good key is who it says', async (t) => {
  const key = await createKey(em(), { name: 'auth', env: 'test', scopes: ['issues:read'], tier: 'premium' })
  const who = await authenticateKey(em(), key.secret)
  t.match(who, { keyId: key.id, env: 'test', tier: 'premium', scopes: ['issues:read'], brandId: null, prefix: key.prefix })
  const refusals: [string | null, RegExp][] = [
    [null, /Missing API key/],
    ['not-a-key', /Invalid API key/],
    [key.secret.slice(0, -1) + (key.secret.endsWith('a') ? 'b' : 'a'), /Invalid API key/]
  ]
  for (const [presented, message] of refusals) {
    const error = await authenticateKey(em(), presented).catch((e: unknown) => e) as AppError
    t.equal(error.statusCode, 401)
    t.match(error.message, message)
    t.match(error.headers?.['www-authenticate'], /^Bearer realm="loop"/)
  }
  await revokeKey(em(), key.id, 'test')
  const revoked = await authenticateKey(em(), key.secret).catch((e: unknown) => e) as AppError
  t.equal(revoked.statusCode, 401)
  t.match(revoked.message, /revoked/)
})

t.test('revokeKey keeps the first revocation time; an unknown id is 404', async (t) => {
  const key = await createKey(em(), { name: 'r', env: 'live', scopes: ['events:read'] })
  const other = await revokeKey(em(), key.id, 'test').catch((e: unknown) => e) as AppError
  t.equal(other.statusCode, 404, 'a key of another env is not found')
  const first = await revokeKey(em(), key.id, 'live')
  t.ok(first.revokedAt !== null)
  const again = await revokeKey(em(), key.id, 'live')
  t.equal(again.revokedAt, first.revokedAt)
  const error = await revokeKey(em(), '00000000-0000-4000-8000-000000000000', 'live').catch((e: unknown) => e) as AppError
  t.equal(error.statusCode, 404)
})

t.test('listKeys filters by env and brand, newest first, and never carries a secret or hash', async (t) => {
  const { brand, key } = await createBrand(em(), { name: 'Listed' })
  const second = await createKey(em(), { name: 'second', env: 'test', scopes: ['events:write'], brandId: brand.id })
  const third = await createKey(em(), { name: 'third', env: 'live', scopes: ['events:write'], brandId: brand.id })
  const listed = (await listKeys(em(), 'any', { brandId: brand.id }, {})).data
  t.same(listed.map((k) => k.id), [third.id, second.id, key.id])
  t.same((await listKeys(em(), 'live', { brandId: brand.id }, {})).data.map((k) => k.id), [third.id, key.id])
  t.same((await listKeys(em(), 'test', { brandId: brand.id }, {})).data.map((k) => k.id), [second.id])
  for (const k of listed) t.same(Object.keys(k).sort(), ['brandId', 'createdAt', 'env', 'id', 'lastUsedAt', 'name', 'prefix', 'revokedAt', 'scopes', 'tier'])
})

t.test('touchKey records use at most once per gap, whoever asks', async (t) => {
  const key = await createKey(em(), { name: 't', env: 'live', scopes: ['events:read'] })
  const at = new Date('2026-11-25T12:00:00Z')
  await touchKey(em(), key.id, at, 60_000)
  await touchKey(em(), key.id, new Date(at.getTime() + 30_000), 60_000)
  t.equal((await em().findOneOrFail(ApiKey, key.id)).lastUsedAt?.toISOString(), at.toISOString(), 'the second touch within a minute changed nothing')
  const later = new Date(at.getTime() + 61_000)
  await touchKey(em(), key.id, later, 60_000)
  t.equal((await em().findOneOrFail(ApiKey, key.id)).lastUsedAt?.toISOString(), later.toISOString())
})

t.test('ensureAdminKey is idempotent, also when instances start together', async (t) => {
  const secret = 'lk_dev_' + 'Q'.repeat(36)
  const results = await Promise.all(Array.from({ length: 5 }, () => ensureAdminKey(em(), secret)))
  t.equal(new Set(results.map((r) => r.id)).size, 1, 'one row for everyone')
  const rows = await em().find(ApiKey, { keyHash: hashApiKey(secret) })
  t.equal(rows.length, 1)
  t.match(rows[0], { env: 'dev', scopes: ['admin'], prefix: 'lk_dev_QQQQ', revokedAt: null })
  await revokeKey(em(), results[0]?.id as string, 'dev')
  t.same(await ensureAdminKey(em(), secret), { id: results[0]?.id, revoked: true }, 'a revoked admin key stays revoked')
})
