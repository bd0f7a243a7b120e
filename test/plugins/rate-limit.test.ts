// Rate limits with in-process buckets (no REDIS_URL).
import t from 'tap'
import { authHeaders, buildWithDetails } from '../helper.ts'
import { addPingRoutes, batch, rateLimitSuite } from './rate-limit-suite.ts'

const env = { LOOP_WEBHOOK_RATE: '10', LOOP_WEBHOOK_BURST: '20', REDIS_URL: undefined }
const { app, databaseUrl } = await buildWithDetails(t, env, addPingRoutes)

rateLimitSuite(t, [app])

t.test('without REDIS_URL each instance keeps its own budget', async (t) => {
  const { app: other } = await buildWithDetails(t, env, addPingRoutes, { databaseUrl })
  const key = await authHeaders(app, ['events:read'])
  const [a, b] = await Promise.all([batch([app], 200, key), batch([other], 200, key)])
  t.equal(a.ok + b.ok, 400, 'two instances, two buckets of 200')
})

t.test('a REDIS_URL that cannot connect stops the start with the reason, not the URL', async (t) => {
  await t.rejects(buildWithDetails(t, { REDIS_URL: 'redis://loop:hunter2@127.0.0.1:1' }), /^REDIS_URL: cannot connect to Redis \(connect ECONNREFUSED 127\.0\.0\.1:1\)$/)
})
