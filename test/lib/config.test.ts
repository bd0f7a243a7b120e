import t from 'tap'
import { spawnSync } from 'node:child_process'
import { ConfigError, loadConfig } from '../../lib/config.ts'

t.test('defaults apply when the environment is empty', async (t) => {
  const config = loadConfig({})
  t.equal(config.port, 3000)
  t.equal(config.host, '127.0.0.1')
  t.equal(config.dataDir, './.loop')
  t.equal(config.bodyLimit, 1048576)
  t.same(config.deliverySchedule, [60_000, 300_000, 1_800_000, 7_200_000, 86_400_000])
  t.equal(config.deliveryLeaseMs, 60_000)
  t.equal(loadConfig({ LOOP_DELIVERY_LEASE_MS: '31000' }).deliveryLeaseMs, 31_000)
  t.equal(config.disableAfterMs, 5 * 86_400_000, 'an endpoint failing for 5 days is disabled')
  t.equal(loadConfig({ LOOP_DISABLE_AFTER: '36h' }).disableAfterMs, 36 * 3_600_000)
  t.equal(loadConfig({ LOOP_DISABLE_AFTER: '500ms' }).disableAfterMs, 500)
  t.equal(config.allowPrivateUrls, false)
  t.same(config.retention, { days: 30, intervalMs: 3_600_000 })
  t.equal(config.egressProxy, undefined)
  t.equal(loadConfig({ LOOP_EGRESS_PROXY: 'http://egress.internal:3128' }).egressProxy, 'http://egress.internal:3128')
  t.equal(loadConfig({ LOOP_EGRESS_PROXY: 'http://loop:s3cret@10.0.0.5:8080/' }).egressProxy, 'http://loop:s3cret@10.0.0.5:8080/')
  t.same(loadConfig({ LOOP_RETENTION_DAYS: '7', LOOP_RETENTION_INTERVAL_MS: '60000' }).retention, { days: 7, intervalMs: 60_000 })
  t.equal(config.databaseUrl, undefined)
})

t.test('observability settings: /metrics behind the admin key unless LOOP_METRICS_PUBLIC, traces only with an OTLP endpoint', async (t) => {
  const defaults = loadConfig({})
  t.equal(defaults.metricsPublic, false)
  t.equal(defaults.otlpEndpoint, undefined)
  const set = loadConfig({ LOOP_METRICS_PUBLIC: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel-collector:4318' })
  t.equal(set.metricsPublic, true)
  t.equal(set.otlpEndpoint, 'http://otel-collector:4318')
  t.throws(() => loadConfig({ LOOP_METRICS_PUBLIC: 'maybe' }), /LOOP_METRICS_PUBLIC must be true or false/)
  t.throws(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'otel-collector:4318' }), /OTEL_EXPORTER_OTLP_ENDPOINT must be an http:\/\/ or https:\/\/ URL/)
  t.throws(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:99999' }), /OTEL_EXPORTER_OTLP_ENDPOINT must be/)
})

t.test('rate-limit settings: per-IP webhook bucket and Redis key prefix', async (t) => {
  const defaults = loadConfig({})
  t.same(defaults.webhookRateLimit, { ratePerSecond: 1000, burst: 2000 })
  t.equal(defaults.redisPrefix, 'loop:')
  t.equal(defaults.redisUrl, undefined)
  const set = loadConfig({ LOOP_WEBHOOK_RATE: '50', LOOP_WEBHOOK_BURST: '75', LOOP_REDIS_PREFIX: 'staging:', REDIS_URL: 'redis://127.0.0.1:6379' })
  t.same(set.webhookRateLimit, { ratePerSecond: 50, burst: 75 })
  t.equal(set.redisPrefix, 'staging:')
  t.equal(set.redisUrl, 'redis://127.0.0.1:6379')
})

t.test('delivery worker settings: concurrency, per-endpoint cap, poll fallback and circuit breaker', async (t) => {
  const defaults = loadConfig({})
  t.same([defaults.deliveryConcurrency, defaults.deliveryPerEndpoint, defaults.deliveryPollMs], [200, 4, 1000])
  const set = loadConfig({ LOOP_DELIVERY_CONCURRENCY: '500', LOOP_DELIVERY_PER_ENDPOINT: '1', LOOP_DELIVERY_POLL_MS: '5000' })
  t.same([set.deliveryConcurrency, set.deliveryPerEndpoint, set.deliveryPollMs], [500, 1, 5000])
  t.throws(() => loadConfig({ LOOP_DELIVERY_CONCURRENCY: '0' }), /LOOP_DELIVERY_CONCURRENCY must be how many delivery attempts one instance keeps in flight/)
  t.throws(() => loadConfig({ LOOP_DELIVERY_PER_ENDPOINT: 'many' }), /LOOP_DELIVERY_PER_ENDPOINT must be how many delivery attempts one endpoint may have in flight/)
  t.throws(() => loadConfig({ LOOP_DELIVERY_POLL_MS: '5' }), /LOOP_DELIVERY_POLL_MS must be how often \(ms\) an idle delivery worker looks/)
  t.same(defaults.deliveryBreaker, { failures: 5, cooldownMs: 30_000 })
  t.same(loadConfig({ LOOP_DELIVERY_BREAKER_FAILURES: '2', LOOP_DELIVERY_BREAKER_COOLDOWN_MS: '100' }).deliveryBreaker, { failures: 2, cooldownMs: 100 })
  t.throws(() => loadConfig({ LOOP_DELIVERY_BREAKER_COOLDOWN_MS: '99' }), /LOOP_DELIVERY_BREAKER_COOLDOWN_MS must be how long \(ms\) a paused endpoint gets no attempt/)
})

t.test('group commit settings: defaults and parsed values', async (t) => {
  t.same(loadConfig({}).ingestBatch, { maxSize: 64, maxWaitMs: 2, maxInFlight: 8 })
  t.same(loadConfig({ LOOP_INGEST_BATCH_SIZE: '1', LOOP_INGEST_BATCH_WAIT_MS: '0', LOOP_INGEST_BATCHES_IN_FLIGHT: '32' }).ingestBatch, { maxSize: 1, maxWaitMs: 0, maxInFlight: 32 })
})

t.test('values are parsed and empty strings count as unset', async (t) => {
  const config = loadConfig({ PORT: '8080', LOOP_DELIVERY_SCHEDULE: '100ms, 200ms,1s', LOOP_ALLOW_PRIVATE_URLS: 'true', GITHUB_WEBHOOK_SECRET: '', DATABASE_URL: 'postgres://u@h/db' })
  t.equal(config.port, 8080)
  t.same(config.deliverySchedule, [100, 200, 1000])
  t.equal(config.allowPrivateUrls, true)
  t.equal(config.secrets.github, undefined)
  t.equal(config.databaseUrl, 'postgres://u@h/db')
})

t.test('LOOP_TRUST_PROXY: nobody by default, or everyone, a hop count, or listed proxies', async (t) => {
  t.equal(loadConfig({}).trustProxy, false)
  t.equal(loadConfig({ LOOP_TRUST_PROXY: 'true' }).trustProxy, true)
  t.equal(loadConfig({ LOOP_TRUST_PROXY: '2' }).trustProxy, 2)
  t.same(loadConfig({ LOOP_TRUST_PROXY: '10.0.0.0/8, 127.0.0.1,::1' }).trustProxy, ['10.0.0.0/8', '127.0.0.1', '::1'])
})

t.test('LOOP_PORTAL_FRAME_ANCESTORS: no origin by default, or the listed ones', async (t) => {
  t.same(loadConfig({}).portalFrameAncestors, [])
  t.same(loadConfig({ LOOP_PORTAL_FRAME_ANCESTORS: 'https://app.acme.example, https://*.globex.example:8443,http://127.0.0.1:8080' }).portalFrameAncestors,
    ['https://app.acme.example', 'https://*.globex.example:8443', 'http://127.0.0.1:8080'])
})

const bad: [string, string, RegExp][] = [
  ['LOOP_PORTAL_FRAME_ANCESTORS', 'https://app.example.com/settings', /^LOOP_PORTAL_FRAME_ANCESTORS must be a comma-separated list of origins/],
  ['LOOP_PORTAL_FRAME_ANCESTORS', "https://a.example; script-src 'unsafe-inline'", /^LOOP_PORTAL_FRAME_ANCESTORS must be/],
  ['LOOP_PORTAL_FRAME_ANCESTORS', '*', /^LOOP_PORTAL_FRAME_ANCESTORS must be/],
  ['LOOP_PORTAL_FRAME_ANCESTORS', 'app.example.com', /^LOOP_PORTAL_FRAME_ANCESTORS must be/],
  ['LOOP_PORTAL_FRAME_ANCESTORS', ',', /^LOOP_PORTAL_FRAME_ANCESTORS must be/],
  ['PORT', 'abc', /^PORT must be an integer port/],
  ['PORT', '70000', /^PORT must be/],
  ['DATABASE_URL', 'mysql://x', /^DATABASE_URL must be a postgres:\/\//],
  ['REDIS_URL', 'http://x', /^REDIS_URL must be a redis:\/\//],
  ['LOOP_ADMIN_KEY', 'sk_live_123', /^LOOP_ADMIN_KEY must be an API key/],
  ['LOOP_BODY_LIMIT', '12', /^LOOP_BODY_LIMIT must be a body size/],
  ['LOOP_DELIVERY_SCHEDULE', '1m,soon', /^LOOP_DELIVERY_SCHEDULE must be a comma-separated list/],
  ['LOOP_ALLOW_PRIVATE_URLS', 'maybe', /^LOOP_ALLOW_PRIVATE_URLS must be true or false/],
  ['LOG_LEVEL', 'loud', /^LOG_LEVEL must be one of/],
  ['LOOP_WEBHOOK_RATE', '0', /^LOOP_WEBHOOK_RATE must be requests per second/],
  ['LOOP_WEBHOOK_BURST', 'lots', /^LOOP_WEBHOOK_BURST must be the burst/],
  ['LOOP_REDIS_PREFIX', 'x'.repeat(101), /^LOOP_REDIS_PREFIX must be a prefix/],
  ['LOOP_TRUST_PROXY', 'yes', /^LOOP_TRUST_PROXY must be false, true, a number of proxy hops/],
  ['LOOP_TRUST_PROXY', '10.0.0.0/33', /^LOOP_TRUST_PROXY must be/],
  ['LOOP_TRUST_PROXY', '10.0.0.1,proxy.local', /^LOOP_TRUST_PROXY must be/],
  ['LOOP_INGEST_BATCH_SIZE', '0', /^LOOP_INGEST_BATCH_SIZE must be the most writes \(provider deliveries, events\) committed together .* from 1 to 1000/],
  ['LOOP_INGEST_BATCH_SIZE', '5000', /^LOOP_INGEST_BATCH_SIZE must be/],
  ['LOOP_INGEST_BATCH_WAIT_MS', '-1', /^LOOP_INGEST_BATCH_WAIT_MS must be how long \(ms\) .* from 0 to 1000/],
  ['LOOP_INGEST_BATCH_WAIT_MS', '2.5', /^LOOP_INGEST_BATCH_WAIT_MS must be/],
  ['LOOP_INGEST_BATCHES_IN_FLIGHT', '0', /^LOOP_INGEST_BATCHES_IN_FLIGHT must be how many ingestion batches .* from 1 to 32/],
  ['LOOP_INGEST_BATCHES_IN_FLIGHT', 'many', /^LOOP_INGEST_BATCHES_IN_FLIGHT must be/],
  ['LOOP_RETENTION_DAYS', '0', /^LOOP_RETENTION_DAYS must be how many days settled webhook deliveries .* from 1 to 3650/],
  ['LOOP_RETENTION_DAYS', 'forever', /^LOOP_RETENTION_DAYS must be/],
  ['LOOP_RETENTION_INTERVAL_MS', '10', /^LOOP_RETENTION_INTERVAL_MS must be how often \(ms\) .* from 1000 to 86400000/],
  ['LOOP_EGRESS_PROXY', 'https://egress.internal:3128', /^LOOP_EGRESS_PROXY must be an http:\/\/host:port URL of an HTTP proxy that accepts CONNECT/],
  ['LOOP_EGRESS_PROXY', 'socks5://egress.internal:1080', /^LOOP_EGRESS_PROXY must be an http:\/\/host:port URL/],
  ['LOOP_EGRESS_PROXY', 'http://egress.internal', /^LOOP_EGRESS_PROXY must be/],
  ['LOOP_EGRESS_PROXY', 'http://egress.internal:3128/forward', /^LOOP_EGRESS_PROXY must be/],
  ['LOOP_EGRESS_PROXY', 'http://egress.internal:99999', /^LOOP_EGRESS_PROXY must be/],
  ['LOOP_DISABLE_AFTER', '5 days', /^LOOP_DISABLE_AFTER must be a duration such as 5d, 36h or 500ms/],
  ['LOOP_DISABLE_AFTER', '0s', /^LOOP_DISABLE_AFTER must be a duration/],
  ['LOOP_DISABLE_AFTER', '1m,2m', /^LOOP_DISABLE_AFTER must be a duration/],
  ['LOOP_DELIVERY_LEASE_MS', '30000', /^LOOP_DELIVERY_LEASE_MS must be how long \(ms\) a worker holds a claimed delivery .* from 31000 \(the longest send timeout an endpoint may set, 30 s/]
]
for (const [key, value, expected] of bad) {
  t.test(`${key}=${value} is refused with one clear line`, async (t) => {
    const error = t.throws(() => loadConfig({ [key]: value })) as unknown
    t.ok(error instanceof ConfigError)
    const problems = (error as ConfigError).problems
    t.equal(problems.length, 1, problems.join('\n'))
    t.match(problems[0], expected)
    t.notOk(String(problems[0]).includes(JSON.stringify(value)), 'the value is not repeated')
    t.notMatch(problems[0], /\(got /)
  })
}

// Values can be secrets (an admin key, a password inside a URL): a problem names the variable and
// what it must be, never what it was.
const secretBearing: [string, string, string][] = [
  ['LOOP_ADMIN_KEY', 'lk_live_tooShortButSecret', 'tooShortButSecret'],
  ['DATABASE_URL', 'mysql://loop:hunter2db@db.internal/loop', 'hunter2db'],
  ['DATABASE_URL', 'postgres://loop:hunter2db@db.internal:99999/loop', 'hunter2db'],
  ['DATABASE_URL', 'postgres://loop:hunter2%zzdb@db.internal/loop', 'hunter2'],
  ['REDIS_URL', 'http://:hunter2redis@cache.internal:6379', 'hunter2redis'],
  ['REDIS_URL', 'redis://:hunter2redis@[cache.internal', 'hunter2redis'],
  ['LOOP_EGRESS_PROXY', 'https://loop:hunter2proxy@egress.internal:3128', 'hunter2proxy']
]
for (const [key, value, secret] of secretBearing) {
  t.test(`${key}=${value.replace(secret, '<secret>')} is refused without the secret`, async (t) => {
    const error = t.throws(() => loadConfig({ [key]: value })) as ConfigError
    t.same(error.problems.length, 1, error.problems.join('\n'))
    t.match(error.problems[0], new RegExp(`^${key} must be `))
    t.notOk(error.message.includes(secret), error.message)
  })
}

t.test('several bad values give one line each', async (t) => {
  const error = t.throws(() => loadConfig({ PORT: 'x', LOG_LEVEL: 'y', LOOP_BODY_LIMIT: 'z' })) as ConfigError
  t.equal(error.problems.length, 3)
})

t.test('npm start with a bad value prints the lines and exits non-zero', async (t) => {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'server.ts'], {
    env: { ...process.env, PORT: 'abc', LOG_LEVEL: 'nope', DATABASE_URL: '' },
    encoding: 'utf8',
    timeout: 30_000
  })
  t.equal(result.status, 1)
  t.match(result.stderr, /config: PORT must be an integer port between 0 and 65535\n/)
  t.match(result.stderr, /config: LOG_LEVEL must be one of/)
  t.notMatch(result.stderr, /at .*\.ts:\d+/, 'no stack trace')
})

t.test('npm start with an out-of-bounds group commit setting names it and exits non-zero', async (t) => {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'server.ts'], {
    env: { ...process.env, LOOP_INGEST_BATCHES_IN_FLIGHT: '100', DATABASE_URL: '' },
    encoding: 'utf8',
    timeout: 30_000
  })
  t.equal(result.status, 1)
  t.match(result.stderr, /config: LOOP_INGEST_BATCHES_IN_FLIGHT must be how many ingestion batches may be written at once .* from 1 to 32\n/)
})

t.test('npm start with a bad admin key and password-bearing URLs names each variable and prints no secret', async (t) => {
  const secrets = { key: 'lk_live_butTooShortToBeAKey', db: 'db-Pa55word', redis: 'redis-Pa55word' }
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'server.ts'], {
    env: {
      ...process.env,
      LOOP_ADMIN_KEY: secrets.key,
      // Valid in form but for the port, which no URL parser accepts.
      DATABASE_URL: `postgres://loop:${secrets.db}@127.0.0.1:99999/loop`,
      REDIS_URL: `redis://:${secrets.redis}@[::1/0`
    },
    encoding: 'utf8',
    timeout: 30_000
  })
  t.equal(result.status, 1)
  for (const name of ['LOOP_ADMIN_KEY', 'DATABASE_URL', 'REDIS_URL']) t.match(result.stderr, new RegExp(`^config: ${name} must be `, 'm'))
  for (const secret of Object.values(secrets)) t.notOk(result.stderr.includes(secret) || result.stdout.includes(secret), `${secret} is not printed`)
  t.notMatch(result.stderr, /at .*\.ts:\d+/, 'no stack trace')
})
