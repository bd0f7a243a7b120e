import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { ApiKey } from '../../lib/db/entities/index.ts'
import { sql } from '../../lib/db/sql.ts'
import { announceKeyChange, ensureAdminKey, revokeKey } from '../../lib/keys/key-service.ts'
import { listenerApplicationName } from '../../plugins/notifications.ts'
import { authHeaders, buildWithDetails, envelope } from '../helper.ts'
import { eventually } from '../receiver.ts'
import { drain } from './rate-limit-suite.ts'

const adminSecret = 'lk_test_' + 'Ab1'.repeat(12)
const admin = { authorization: `Bearer ${adminSecret}` }

// Scopes are declared only as OpenAPI security in the route schema, as generated operations do.
function addRoutes (app: FastifyInstance): void {
  app.get('/api/test/issues', { schema: { security: [{ bearer: ['issues:read'] }] } }, async (request) => ({ ok: true, keyId: request.caller.keyId }))
  app.post('/api/test/both', { schema: { security: [{ bearer: ['issues:read', 'issues:write'] }] } }, async () => ({ ok: true }))
  app.get('/api/test/either', { schema: { security: [{ bearer: ['signals:read'] }, { bearer: ['issues:read'] }] } }, async () => ({ ok: true }))
  app.get('/api/test/any-key', { schema: { security: [{ bearer: [] }] } }, async () => ({ ok: true }))
  app.get('/api/test/public', async (request) => ({ ok: true, apiKey: request.optionalCaller }))
}

const { app, databaseUrl } = await buildWithDetails(t, { LOOP_ADMIN_KEY: adminSecret }, addRoutes)

t.test('missing, malformed and unknown keys are 401 UNAUTHORIZED with a Bearer challenge', async (t) => {
  const cases: [string, Record<string, string>, RegExp][] = [
    ['no header', {}, /Missing API key/],
    ['not Bearer', { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }, /Missing API key/],
    ['malformed', { authorization: 'Bearer lk_live_short' }, /Invalid API key/],
    ['unknown', { authorization: `Bearer lk_live_${'x'.repeat(40)}` }, /Invalid API key/]
  ]
  for (const [name, headers, message] of cases) {
    const res = await app.inject({ method: 'GET', url: '/api/test/issues', headers })
    t.equal(res.statusCode, 401, name)
    t.match(res.json(), envelope('UNAUTHORIZED'))
    t.match(res.json().error.message, message)
    t.match(res.headers['www-authenticate'], /^Bearer realm="loop"/)
  }
})

t.test('a valid key reaches the handler as request.caller; public routes see null', async (t) => {
  const key = await authHeaders(app, ['issues:read'])
  const res = await app.inject({ method: 'GET', url: '/api/test/issues', headers: key })
  t.equal(res.statusCode, 200)
  t.match(res.json().keyId, /^[0-9a-f-]{36}$/)
  const open = await app.inject({ method: 'GET', url: '/api/test/public', headers: key })
  t.same(open.json(), { ok: true, apiKey: null })
  t.equal(open.headers['x-ratelimit-limit'], undefined, 'public routes do not spend the key budget')
})

t.test('a key without the scope is 403 FORBIDDEN naming the scope', async (t) => {
  const key = await authHeaders(app, ['issues:read'])
  const res = await app.inject({ method: 'POST', url: '/api/test/both', headers: key })
  t.equal(res.statusCode, 403)
  t.same(res.json(), { ok: false, error: { code: 'FORBIDDEN', message: 'This key lacks the issues:write scope' } })
  const keys = await app.inject({ method: 'GET', url: '/api/keys', headers: key })
  t.equal(keys.statusCode, 403)
  t.equal(keys.json().error.message, 'This key lacks the admin scope')
})

t.test('scope rules: all scopes of a requirement, any alternative, admin grants everything', async (t) => {
  const cases: [string[], string, string, number][] = [
    [['issues:read', 'issues:write'], 'POST', '/api/test/both', 200],
    [['issues:write'], 'POST', '/api/test/both', 403],
    [['issues:read'], 'GET', '/api/test/either', 200],
    [['signals:read'], 'GET', '/api/test/either', 200],
    [['events:read'], 'GET', '/api/test/either', 403],
    [['admin'], 'POST', '/api/test/both', 200],
    [['admin'], 'GET', '/api/test/either', 200],
    [[], 'GET', '/api/test/any-key', 200],
    [[], 'GET', '/api/test/issues', 403]
  ]
  for (const [scopes, method, url, status] of cases) {
    const res = await app.inject({ method: method as 'GET' | 'POST', url, headers: await authHeaders(app, scopes) })
    t.equal(res.statusCode, status, `[${scopes.join(', ')}] ${method} ${url}`)
  }
})

t.test('HEAD of a protected GET is protected too', async (t) => {
  t.equal((await app.inject({ method: 'HEAD', url: '/api/test/issues' })).statusCode, 401)
  t.equal((await app.inject({ method: 'HEAD', url: '/api/test/issues', headers: await authHeaders(app, ['issues:read']) })).statusCode, 200)
})

const issues = (instance: FastifyInstance, headers: Record<string, string>) => instance.inject({ method: 'GET', url: '/api/test/issues', headers })

/** Every statement `instance` sends that names the keys' table, from now until `stop`. */
function keyQueries (instance: FastifyInstance): { seen: string[], stop: () => void } {
  const table = instance.orm.getMetadata().get('ApiKey').tableName
  const seen: string[] = []
  // knex runs every statement MikroORM sends (entities and lib/db/sql.ts alike) and reports each.
  const knex = instance.orm.em.getKnex()
  const listener = (query: { sql: string }) => { if (query.sql.includes(table)) seen.push(query.sql) }
  knex.on('query', listener)
  return { seen, stop: () => { knex.off('query', listener) } }
}

/** Polls until `instance` refuses `headers` as revoked; how long that took, in ms. */
async function refusedWithin (instance: FastifyInstance, headers: Record<string, string>, timeoutMs: number): Promise<number> {
  const started = Date.now()
  await eventually(async () => {
    const res = await issues(instance, headers)
    return res.statusCode === 401 && res.json().error.message === 'This API key has been revoked' ? true : undefined
  }, timeoutMs, 'the revocation to take effect')
  return Date.now() - started
}

t.test('revoked on one instance: refused there on the very next request, on another within 1 s', async (t) => {
  const { app: other } = await buildWithDetails(t, {}, addRoutes, { databaseUrl })
  // The admin key is a test key, and an admin key revokes keys of its own env.
  const key = await authHeaders(app, ['issues:read'], { env: 'test' })
  const id = (await issues(app, key)).json().keyId
  // Both instances have the key cached: the other answers it without a query from now on.
  t.equal((await issues(other, key)).statusCode, 200)
  const lookups = keyQueries(other)
  t.equal((await issues(other, key)).statusCode, 200)
  lookups.stop()
  t.same(lookups.seen, [], 'the other instance answers from its cache')

  t.equal((await app.inject({ method: 'DELETE', url: `/api/keys/${id}`, headers: admin })).statusCode, 204)
  const here = await issues(app, key)
  t.equal(here.statusCode, 401, 'refused at once where it was revoked')
  t.equal(here.json().error.message, 'This API key has been revoked')
  const elapsed = await refusedWithin(other, key, 1000)
  t.ok(elapsed < 1000, `refused by the other instance after ${elapsed} ms`)
})

t.test('a cached key costs no query; the first request of a key reads it once', async (t) => {
  const key = await authHeaders(app, ['issues:read'])
  const first = keyQueries(app)
  const id = (await issues(app, key)).json().keyId as string
  first.stop()
  t.ok(first.seen.some((statement) => /^select/i.test(statement)), 'a miss reads the key from the database')
  // Recording use is a background write of its own; let it land before counting.
  await eventually(async () => (await app.orm.em.fork().findOneOrFail(ApiKey, id)).lastUsedAt ?? undefined, 5000, 'lastUsedAt')
  const later = keyQueries(app)
  for (let i = 0; i < 5; i++) t.equal((await issues(app, key)).statusCode, 200)
  later.stop()
  t.same(later.seen, [], 'five cached requests, no statement on the keys table')
})

t.test('an unknown key is never cached: made afterwards on another instance, it works here at once', async (t) => {
  const { app: other } = await buildWithDetails(t, {}, addRoutes, { databaseUrl })
  const secret = 'lk_live_' + 'Late1'.repeat(8)
  const key = { authorization: `Bearer ${secret}` }
  t.equal((await issues(app, key)).statusCode, 401, 'unknown at first')
  // ensureAdminKey stores a key whose secret the test chose, so it could be presented before it existed.
  await ensureAdminKey(other.orm.em.fork(), secret)
  t.equal((await issues(app, key)).statusCode, 200, 'known on the very next request')
})

t.test('a revocation that was never announced is not honoured from the cache, the one gap LISTEN closes', async (t) => {
  const key = await authHeaders(app, ['issues:read'])
  const id = (await issues(app, key)).json().keyId as string
  // Written past the key service, so no instance hears of it: the cache still answers.
  await app.orm.em.fork().nativeUpdate(ApiKey, { id }, { revokedAt: new Date() })
  t.equal((await issues(app, key)).statusCode, 200, 'served from the cache')
  await app.orm.em.fork().nativeUpdate(ApiKey, { id }, { revokedAt: null })
  // The same write announced in its transaction, as every key service writer does.
  await app.orm.em.fork().transactional(async (tx) => {
    await tx.nativeUpdate(ApiKey, { id }, { revokedAt: new Date() })
    await announceKeyChange(tx, id)
  })
  const elapsed = await refusedWithin(app, key, 1000)
  t.ok(elapsed < 1000, `refused ${elapsed} ms after the announcement`)
})

t.test('when the listening connection drops, the cache is cleared and listening resumes', async (t) => {
  // An instance of its own: its listener is the only one on its database.
  const { app: alone } = await buildWithDetails(t, {}, addRoutes)
  const pg = async <R>(text: string) => await sql<R>(alone.orm.em.fork(), text, [listenerApplicationName])
  const listeners = async () => await pg<{ pid: number }>('select pid from pg_stat_activity where datname = current_database() and application_name = ?')
  const key = await authHeaders(alone, ['issues:read'])
  const id = (await issues(alone, key)).json().keyId as string
  await alone.orm.em.fork().nativeUpdate(ApiKey, { id }, { revokedAt: new Date() })
  t.equal((await issues(alone, key)).statusCode, 200, 'cached, and the unannounced revocation unseen')

  const [before] = await listeners()
  t.ok(before !== undefined, 'one listening connection')
  await pg('select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and application_name = ?')
  // A change may have been missed while nobody listened: the cache must not outlive the drop.
  await refusedWithin(alone, key, 2000)
  t.pass('the unannounced revocation is honoured once the connection is lost')

  const after = await eventually(async () => (await listeners()).find((row) => row.pid !== before?.pid), 5000, 'a new listener')
  t.not(after.pid, before?.pid, 'listening again on a new connection')
  const next = await authHeaders(alone, ['issues:read'])
  const nextId = (await issues(alone, next)).json().keyId as string
  const lookups = keyQueries(alone)
  t.equal((await issues(alone, next)).statusCode, 200)
  lookups.stop()
  t.same(lookups.seen, [], 'caching again')
  // Revoked as another instance (or the CLI) would: only the announcement reaches this one.
  await revokeKey(alone.orm.em.fork(), nextId, 'live')
  const elapsed = await refusedWithin(alone, next, 1000)
  t.ok(elapsed < 1000, `an announcement on the new connection is heard (${elapsed} ms)`)
})

t.test('lastUsedAt is recorded without delaying the response, once a minute', async (t) => {
  const key = await authHeaders(app, ['issues:read'])
  const id = (await app.inject({ method: 'GET', url: '/api/test/issues', headers: key })).json().keyId
  let first: Date | null | undefined
  for (let i = 0; i < 50 && (first ?? null) === null; i++) {
    first = (await app.orm.em.fork().findOneOrFail(ApiKey, id)).lastUsedAt
    if (first === null) await new Promise((r) => setTimeout(r, 20))
  }
  t.ok(first instanceof Date, 'recorded')
  await Promise.all(Array.from({ length: 20 }, () => app.inject({ method: 'GET', url: '/api/test/issues', headers: key })))
  await new Promise((r) => setTimeout(r, 100))
  t.equal((await app.orm.em.fork().findOneOrFail(ApiKey, id)).lastUsedAt?.getTime(), first?.getTime(), 'not rewritten within the minute')
})

t.test('LOOP_ADMIN_KEY is an admin key from the start, one row across restarts', async (t) => {
  const res = await app.inject({ method: 'GET', url: '/api/keys', headers: admin })
  t.equal(res.statusCode, 200)
  const restarted = await buildWithDetails(t, { LOOP_ADMIN_KEY: adminSecret }, undefined, { databaseUrl })
  t.equal((await restarted.app.inject({ method: 'GET', url: '/api/keys', headers: admin })).statusCode, 200)
  const listed = (await restarted.app.inject({ method: 'GET', url: '/api/keys?limit=250', headers: admin })).json().data as { prefix: string, scopes: string[], env: string }[]
  const bootstrap = listed.filter((k) => k.prefix === adminSecret.slice(0, 12))
  t.equal(bootstrap.length, 1)
  t.match(bootstrap[0], { scopes: ['admin'], env: 'test' })
})

t.test('a route whose security Loop cannot enforce stops the app from starting', async (t) => {
  await t.rejects(buildWithDetails(t, {}, (app) => {
    app.get('/api/test/typo', { schema: { security: [{ bearer: ['issue:read'] }] } }, async () => ({ ok: true }))
  }), /unknown scope "issue:read"/)
})

t.test('keys never reach the logs', async (t) => {
  const lines: string[] = []
  const logged = await buildWithDetails(t, { LOG_LEVEL: 'trace', LOOP_ADMIN_KEY: adminSecret }, addRoutes, {
    databaseUrl,
    logStream: { write: (line) => { lines.push(line) } }
  })
  const logApp = logged.app
  const created = await logApp.inject({ method: 'POST', url: '/api/brands', headers: admin, payload: { name: 'Logged', key: { scopes: ['issues:read'] } } })
  t.equal(created.statusCode, 201)
  const secret = created.json().key.secret as string
  const key = { authorization: `Bearer ${secret}` }
  await logApp.inject({ method: 'GET', url: '/api/test/issues', headers: key })
  await logApp.inject({ method: 'POST', url: '/api/test/both', headers: key })
  await logApp.inject({ method: 'GET', url: '/api/test/issues', headers: { authorization: `Bearer ${secret.slice(0, -2)}zz` } })
  await logApp.inject({ method: 'POST', url: '/api/keys', headers: admin, payload: { name: secret, env: 'nope' } })
  t.ok((await drain([logApp], key, '/api/test/issues')).limited > 0, 'some requests were refused with 429')
  await logApp.inject({ method: 'DELETE', url: `/api/keys/${created.json().key.id as string}`, headers: admin })
  await logApp.inject({ method: 'GET', url: '/api/test/issues', headers: key })
  const log = lines.join('')
  t.ok(lines.length > 400, `${lines.length} lines logged at trace level`)
  t.match(log, /"statusCode":429/, 'the log saw the 429s')
  t.match(log, /"statusCode":401/)
  t.notOk(log.includes(secret), 'the new key is not logged')
  t.notOk(log.includes(secret.slice(12)), 'not even its secret part')
  t.notOk(log.includes(adminSecret.slice(8)), 'the admin key is not logged')
  t.notMatch(log, /lk_(live|test|dev)_[A-Za-z0-9]{20,}/, 'no key-shaped string at all')
  t.notOk(log.includes(logged.config.adminKey?.slice(12) ?? 'unset'))
})

const ping = (headers: Record<string, string>, remoteAddress: string) => app.inject({ method: 'GET', url: '/api/test/issues', headers, remoteAddress })
const unknownKey = (i: number) => ({ authorization: `Bearer lk_live_${String(i).padStart(40, 'x')}` })

t.test('a burst of bad keys from one IP turns into 429 with Retry-After; the IP is then refused before any key lookup', async (t) => {
  const attacker = '198.51.100.7'
  // LOOP_AUTH_FAILURE_BURST is 20 by default: unknown, malformed and revoked keys all count.
  const revoked = await authHeaders(app, ['issues:read'])
  const revokedId = (await ping(revoked, '192.0.2.1')).json().keyId as string
  await revokeKey(app.orm.em.fork(), revokedId, 'live', app.keyCache)
  const good = await authHeaders(app, ['issues:read'])
  const guesses = [...Array.from({ length: 18 }, (_, i) => unknownKey(i)), { authorization: 'Bearer lk_live_short' }, revoked]
  const statuses: number[] = []
  for (const guess of guesses) statuses.push((await ping(guess, attacker)).statusCode)
  t.same(statuses, Array(20).fill(401), 'the burst of 20 failures is answered 401')

  const refused = await ping(unknownKey(99), attacker)
  t.equal(refused.statusCode, 429)
  t.match(refused.json(), envelope('RATE_LIMITED'))
  t.equal(refused.headers['retry-after'], '1', 'one failure a second (LOOP_AUTH_FAILURE_RATE)')
  t.equal(refused.headers['www-authenticate'], undefined)

  // Blocked until Retry-After: even a good key from that address is refused, which it could
  // only be if no lookup happened.
  const blocked = await ping(good, attacker)
  t.equal(blocked.statusCode, 429, 'refused before the key is looked up')
  t.equal((await ping(good, '198.51.100.8')).statusCode, 200, 'a valid key from another IP keeps working meanwhile')
  t.equal((await ping(unknownKey(100), '198.51.100.8')).statusCode, 401, 'and another IP has its own failure budget')
})

t.test('valid keys never take failure tokens, and requests without a key are not guesses', async (t) => {
  const office = '198.51.100.20'
  const good = await authHeaders(app, ['issues:read'])
  for (let i = 0; i < 50; i++) t.equal((await ping(good, office)).statusCode, 200)
  for (let i = 0; i < 30; i++) t.equal((await ping({}, office)).statusCode, 401)
  const statuses: number[] = []
  for (let i = 0; i < 21; i++) statuses.push((await ping(unknownKey(i), office)).statusCode)
  t.same(statuses, [...Array(20).fill(401), 429], 'after 50 valid requests and 30 without a key, the whole burst of 20 is still there')
})

t.test('LOOP_AUTH_FAILURE_RATE and LOOP_AUTH_FAILURE_BURST set the failure bucket', async (t) => {
  const { app: strict } = await buildWithDetails(t, { LOOP_AUTH_FAILURE_RATE: '0.1', LOOP_AUTH_FAILURE_BURST: '3' }, addRoutes, { databaseUrl })
  const statuses: number[] = []
  for (let i = 0; i < 4; i++) statuses.push((await strict.inject({ method: 'GET', url: '/api/test/issues', headers: unknownKey(i), remoteAddress: '198.51.100.30' })).statusCode)
  t.same(statuses, [401, 401, 401, 429])
  const refused = await strict.inject({ method: 'GET', url: '/api/test/issues', headers: unknownKey(9), remoteAddress: '198.51.100.30' })
  t.equal(refused.headers['retry-after'], '10', 'one failure every 10 s')
})
