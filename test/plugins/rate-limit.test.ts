// Rate limits with in-process buckets (no REDIS_URL), on a stepped clock: the buckets refill when
// the test moves the clock on, never while a slow machine handles a batch.
import t from 'tap'
import { authHeaders, buildWithDetails } from '../helper.ts'
import { addPingRoutes, batch, rateLimitSuite, steppedClock } from './rate-limit-suite.ts'

const env = { LOOP_WEBHOOK_RATE: '10', LOOP_WEBHOOK_BURST: '20', REDIS_URL: undefined }
const clock = steppedClock()
const { app, databaseUrl } = await buildWithDetails(t, env, addPingRoutes, { now: clock.now })

rateLimitSuite(t, [app], clock)

t.test('without REDIS_URL each instance keeps its own budget', async (t) => {
  const { app: other } = await buildWithDetails(t, env, addPingRoutes, { databaseUrl })
  const key = await authHeaders(app, ['events:read'])
  const [a, b] = await Promise.all([batch([app], 200, key), batch([other], 200, key)])
  t.equal(a.ok + b.ok, 400, 'two instances, two buckets of 200')
})

t.test('a REDIS_URL that cannot connect stops the start with the reason, not the URL', async (t) => {
  await t.rejects(buildWithDetails(t, { REDIS_URL: 'redis://loop:hunter2@127.0.0.1:1' }), /^REDIS_URL: cannot connect to Redis \(connect ECONNREFUSED 127\.0\.0\.1:1\)$/)
})

t.test('per-IP budgets key on X-Forwarded-For only from a trusted proxy (LOOP_TRUST_PROXY)', async (t) => {
  const behindProxy = { ...env, LOOP_WEBHOOK_BURST: '3', LOOP_WEBHOOK_RATE: '1' }
  const post = (target: typeof app, forwardedFor: string) =>
    target.inject({ method: 'POST', url: '/webhooks/test/ping', remoteAddress: '10.0.0.2', headers: { 'x-forwarded-for': forwardedFor } })

  const trusting = (await buildWithDetails(t, { ...behindProxy, LOOP_TRUST_PROXY: '10.0.0.0/8' }, addPingRoutes, { databaseUrl })).app
  const first = await Promise.all([1, 2, 3, 4].map(() => post(trusting, '203.0.113.5')))
  t.same(first.map((r) => r.statusCode), [200, 200, 200, 429], 'one client behind the proxy spends its own burst')
  t.equal((await post(trusting, '203.0.113.6')).statusCode, 200, 'another client behind the same proxy has its own bucket')

  const untrusting = (await buildWithDetails(t, behindProxy, addPingRoutes, { databaseUrl })).app
  const spoofed = await Promise.all(['198.51.100.1', '198.51.100.2', '198.51.100.3', '198.51.100.4'].map((ip) => post(untrusting, ip)))
  t.same(spoofed.map((r) => r.statusCode), [200, 200, 200, 429], 'without LOOP_TRUST_PROXY a forged X-Forwarded-For does not escape the limit')
})
