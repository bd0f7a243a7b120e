// Rate limits with REDIS_URL: the same behaviour as in memory, and one budget shared by every
// instance. Each run gets its own key prefix, deleted afterwards.
import t from 'tap'
import { authHeaders, buildWithDetails } from '../helper.ts'
import { connectTestRedis, testRedisUrl, uniquePrefix } from '../redis.ts'
import { eventually } from '../receiver.ts'
import { addPingRoutes, batch, checkBatchHeaders, drain, rateLimitSuite, realClock, refill } from './rate-limit-suite.ts'

const redis = await connectTestRedis(t)
if (redis !== null) {
  const env = { LOOP_WEBHOOK_RATE: '10', LOOP_WEBHOOK_BURST: '20', REDIS_URL: testRedisUrl, LOOP_REDIS_PREFIX: uniquePrefix(t, redis) }
  // Two instances on the same database and Redis, as behind a load balancer.
  const { app, databaseUrl } = await buildWithDetails(t, env, addPingRoutes)
  const { app: other } = await buildWithDetails(t, env, addPingRoutes, { databaseUrl })

  t.test('bucket state lives in Redis under LOOP_REDIS_PREFIX', async (t) => {
    const key = await authHeaders(app, ['events:read'])
    t.equal((await app.inject({ method: 'GET', url: '/api/test/ping', headers: key })).statusCode, 200)
    const keys = await redis.keys(`${env.LOOP_REDIS_PREFIX}rl:key:*`)
    t.equal(keys.length, 1)
  })

  t.test('two instances share one budget: a burst of 200 across both', async (t) => {
    const key = await authHeaders(app, ['events:read'])
    const both = await batch([app, other], 300, key)
    const most = 200 + Math.ceil(((both.endedAt - both.startedAt) / 1000) * 100)
    t.ok(both.ok >= 200 && both.ok <= most, `${both.ok} granted of 300 split over two instances (burst 200 + at most ${most - 200} refilled)`)
    checkBatchHeaders(t, { ...both, responses: both.responses.filter((r) => r.statusCode === 200) }, 100, 200)

    // Drain it through one instance until it refuses; the other must see the same empty bucket
    // (its own bucket would still hold 199).
    const onA = await drain([app], key)
    t.ok(onA.limited > 0, 'instance A refuses')
    const fromB = await other.inject({ method: 'GET', url: '/api/test/ping', headers: key })
    const seen = Number(fromB.headers['x-ratelimit-remaining'])
    const refilled = refill(100, onA.lastRoundStartedAt, Date.now())
    t.ok(seen <= refilled, `instance B sees the bucket A emptied: Remaining ${seen} ≤ ${refilled} refilled since (its own bucket would say 199)`)

    // Redis's clock: the refill takes a real second.
    await realClock.advance(1000)
    const probe = await other.inject({ method: 'GET', url: '/api/test/ping', headers: key })
    const left = Number(probe.headers['x-ratelimit-remaining'])
    const atMost = Math.min(199, refill(100, onA.lastRoundStartedAt, Date.now()))
    t.ok(left >= 90 && left <= atMost, `a second later, about 100 again on either instance: Remaining ${left} in [90, ${atMost}]`)
  })

  t.test('per-IP webhook budgets are shared too', async (t) => {
    const remoteAddress = '203.0.113.5'
    const sent = await Promise.all(Array.from({ length: 20 }, () => app.inject({ method: 'POST', url: '/webhooks/test/ping', remoteAddress })))
    t.ok(sent.every((r) => r.statusCode === 200), 'the burst of 20 on instance A')
    const fromB = await other.inject({ method: 'POST', url: '/webhooks/test/ping', remoteAddress })
    t.equal(fromB.statusCode, 429, 'instance B refuses the same address')
    t.equal(fromB.headers['retry-after'], '1')
  })

  t.test('failed authentications from one IP are counted across instances', async (t) => {
    const remoteAddress = '203.0.113.77'
    const guess = (i: number) => ({ authorization: `Bearer lk_live_${String(i).padStart(40, 'y')}` })
    const good = await authHeaders(app, ['events:read'])
    const statuses: number[] = []
    // The default burst of 20, split over both instances.
    for (let i = 0; i < 20; i++) statuses.push((await (i % 2 === 0 ? app : other).inject({ method: 'GET', url: '/api/test/ping', headers: guess(i), remoteAddress })).statusCode)
    t.same(statuses, Array(20).fill(401))
    const onB = await other.inject({ method: 'GET', url: '/api/test/ping', headers: guess(20), remoteAddress })
    t.equal(onB.statusCode, 429, 'instance B refuses the 21st failure')
    t.equal(onB.headers['retry-after'], '1')
    t.equal((await other.inject({ method: 'GET', url: '/api/test/ping', headers: good, remoteAddress })).statusCode, 429, 'and then the address, before any lookup')
    t.equal((await other.inject({ method: 'GET', url: '/api/test/ping', headers: good, remoteAddress: '203.0.113.78' })).statusCode, 200, 'another address is served')
    t.equal((await redis.keys(`${env.LOOP_REDIS_PREFIX}rl:authfail:*`)).length, 1, 'one shared failure bucket, for the guessing address only')
  })

  t.test('a revoked key is refused at once by the instance that revoked it, within 1 s by the other', async (t) => {
    const admin = await authHeaders(app, ['admin'])
    const created = await app.inject({ method: 'POST', url: '/api/keys', headers: admin, payload: { name: 'short-lived', env: 'live', scopes: ['events:read'] } })
    const { id, secret } = created.json()
    const key = { authorization: `Bearer ${secret as string}` }
    t.equal((await other.inject({ method: 'GET', url: '/api/test/ping', headers: key })).statusCode, 200)
    t.equal((await app.inject({ method: 'DELETE', url: `/api/keys/${id as string}`, headers: admin })).statusCode, 204)
    const revokedAt = Date.now()
    t.equal((await app.inject({ method: 'GET', url: '/api/test/ping', headers: key })).statusCode, 401, 'at once where it was revoked')
    // The other instance serves the key from its cache until the revocation's NOTIFY reaches it.
    await eventually(async () => (await other.inject({ method: 'GET', url: '/api/test/ping', headers: key })).statusCode === 401 ? true : undefined, 1000, 'the other instance refusing the revoked key')
    t.ok(Date.now() - revokedAt <= 1000, 'within 1 s on the other instance')
  })

  rateLimitSuite(t, [app, other], realClock)
}
