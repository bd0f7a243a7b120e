// Every setting Loop reads, in one TypeBox schema, validated once at start (README.md#configuration).
// A bad value yields one clear line per problem; the caller prints them and exits non-zero. A line
// names the variable and what it must be, never the value: values include keys and passwords.
import { isIP } from 'node:net'
import { Type, type Static } from '@sinclair/typebox'
import { createAjv } from './validation/ajv.ts'
import { parseDuration, parseDurationList } from './duration.ts'

const secret = (description: string) => Type.Optional(Type.String({ minLength: 1, description }))

export const EnvSchema = Type.Object({
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000, description: 'an integer port between 0 and 65535' }),
  HOST: Type.String({ minLength: 1, default: '127.0.0.1', description: 'a host name or address to listen on' }),
  DATABASE_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://', description: 'a postgres:// or postgresql:// URL' })),
  REDIS_URL: Type.Optional(Type.String({ pattern: '^rediss?://', description: 'a redis:// or rediss:// URL' })),
  LOOP_REDIS_PREFIX: Type.String({ minLength: 1, maxLength: 100, default: 'loop:', description: 'a prefix for every Redis key Loop writes, such as loop: (at most 100 characters)' }),
  LOOP_WEBHOOK_RATE: Type.Integer({ minimum: 1, maximum: 1000000, default: 1000, description: 'requests per second one IP address may sustain on unauthenticated webhook routes, an integer from 1' }),
  LOOP_WEBHOOK_BURST: Type.Integer({ minimum: 1, maximum: 1000000, default: 2000, description: 'the burst one IP address may send to unauthenticated webhook routes, an integer from 1' }),
  // Failed authentications per IP: a burst of 20 covers a person or a deploy retrying a stale key
  // (or several behind one NAT); then one a second, which bounds the key lookups one address can
  // cause and makes guessing a 238-bit key hopeless. Valid keys never touch this bucket.
  LOOP_AUTH_FAILURE_RATE: Type.Number({ minimum: 0.01, maximum: 1000000, default: 1, description: 'failed authentications per second one IP address may sustain, a number from 0.01' }),
  LOOP_AUTH_FAILURE_BURST: Type.Integer({ minimum: 1, maximum: 1000000, default: 20, description: 'the failed authentications one IP address may make in a burst, an integer from 1' }),
  LOOP_DATA_DIR: Type.String({ minLength: 1, default: './.loop', description: 'a directory for the embedded database' }),
  LOOP_ADMIN_KEY: Type.Optional(Type.String({ pattern: '^lk_(live|test|dev)_[A-Za-z0-9]{32,}$', description: 'an API key like lk_live_ followed by at least 32 letters and digits' })),
  GITHUB_WEBHOOK_SECRET: secret('the GitHub webhook secret'),
  SENTRY_CLIENT_SECRET: secret('the Sentry client secret'),
  POSTHOG_WEBHOOK_SECRET: secret('the PostHog shared secret'),
  LOOP_BODY_LIMIT: Type.Integer({ minimum: 1024, maximum: 104857600, default: 1048576, description: 'a body size in bytes between 1024 and 104857600' }),
  // Provider payloads nest about ten levels; 64 leaves room for any real one. The cap keeps the
  // recursive code that walks a body (canonical hashing, transforms, JSON.stringify, PostgreSQL's
  // jsonb parser) far below the depths where their stacks overflow (thousands of levels).
  LOOP_JSON_MAX_DEPTH: Type.Integer({ minimum: 1, maximum: 1000, default: 64, description: 'how many levels deep objects and arrays in a JSON body may nest, an integer from 1 to 1000' }),
  // 30 s for the whole request, headers and body: a provider sends its payload in milliseconds, and
  // even a full LOOP_BODY_LIMIT (1 MiB) over a 300 kbit/s link arrives in that time.
  LOOP_REQUEST_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 600000, default: 30000, description: 'how long (ms) a client may take to send a whole request, an integer from 100 to 600000' }),
  // 60 s without a byte either way while a request is open: longer than the request timeout, so a
  // slow sender gets the 408 answer first; it bounds a client that stops reading its response.
  LOOP_CONNECTION_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 600000, default: 60000, description: 'how long (ms) a connection may stay silent before it is closed, an integer from 100 to 600000' }),
  LOOP_DELIVERY_SCHEDULE: Type.String({ default: '1m,5m,30m,2h,24h', description: 'a comma-separated list of durations such as 1m,5m,30m,2h,24h or 100ms,200ms' }),
  // A worker that dies mid-attempt holds its claims until the lease lapses; then another worker
  // sends them again. The lease must outlast a whole attempt (the longest send timeout an endpoint
  // may set, 30 s, and the write that records it), or a slow attempt could be claimed and sent a
  // second time while it runs.
  LOOP_DELIVERY_LEASE_MS: Type.Integer({ minimum: 31000, maximum: 3600000, default: 60000, description: 'how long (ms) a worker holds a claimed delivery before another worker may send it again, an integer from 31000 (the longest send timeout an endpoint may set, 30 s, and a second to record the attempt) to 3600000' }),
  // Standard Webhooks and Svix disable an endpoint after about five days of failure: long enough
  // for a weekend outage and a fix, short enough that nobody pays for a receiver that is gone.
  LOOP_DISABLE_AFTER: Type.String({ default: '5d', description: 'a duration such as 5d, 36h or 500ms: how long an endpoint may stay failing before it is disabled' }),
  // Attempts are I/O (a socket each, waiting on a receiver), so one instance keeps hundreds in
  // flight; the per-endpoint cap keeps one slow or hanging receiver from taking them all.
  LOOP_DELIVERY_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 10000, default: 200, description: 'how many delivery attempts one instance keeps in flight at once, an integer from 1 to 10000' }),
  LOOP_DELIVERY_PER_ENDPOINT: Type.Integer({ minimum: 1, maximum: 1000, default: 4, description: 'how many delivery attempts one endpoint may have in flight at once across every instance, an integer from 1 to 1000' }),
  // A fallback only: the transaction that queues deliveries wakes the workers (NOTIFY), and a
  // worker wakes itself when a retry falls due. The poll catches what a dropped listener missed.
  LOOP_DELIVERY_POLL_MS: Type.Integer({ minimum: 10, maximum: 60000, default: 1000, description: 'how often (ms) an idle delivery worker looks at the queue when nothing woke it, an integer from 10 to 60000' }),
  // The circuit breaker: after this many failed attempts in a row an endpoint gets none for the
  // cool-down, then one probe; a success closes it. A receiver that is down spends no slots.
  LOOP_DELIVERY_BREAKER_FAILURES: Type.Integer({ minimum: 1, maximum: 1000, default: 5, description: 'how many failed attempts in a row pause an endpoint (the circuit breaker opens), an integer from 1 to 1000' }),
  LOOP_DELIVERY_BREAKER_COOLDOWN_MS: Type.Integer({ minimum: 100, maximum: 86400000, default: 30000, description: 'how long (ms) a paused endpoint gets no attempt before one probe, an integer from 100 to 86400000' }),
  LOOP_INGEST_BATCH_SIZE: Type.Integer({ minimum: 1, maximum: 1000, default: 64, description: 'the most writes (provider deliveries, events) committed together in one transaction, an integer from 1 to 1000' }),
  LOOP_INGEST_BATCH_WAIT_MS: Type.Integer({ minimum: 0, maximum: 1000, default: 2, description: 'how long (ms) a delivery may wait for batch-mates while another batch is being written, an integer from 0 to 1000' }),
  LOOP_INGEST_BATCHES_IN_FLIGHT: Type.Integer({ minimum: 1, maximum: 32, default: 8, description: 'how many ingestion batches may be written at once (each holds one database connection), an integer from 1 to 32' }),
  LOOP_ALLOW_PRIVATE_URLS: Type.Boolean({ default: false, description: 'true or false' }),
  // GET /metrics takes an admin key unless this is true: for a Prometheus on a private network
  // that scrapes without credentials (docs/operations.md#metrics).
  LOOP_METRICS_PUBLIC: Type.Boolean({ default: false, description: 'true or false' }),
  // OpenTelemetry's own variable: set, Loop exports traces over OTLP/HTTP to <endpoint>/v1/traces;
  // unset, no tracing SDK is even loaded (docs/operations.md#traces).
  OTEL_EXPORTER_OTLP_ENDPOINT: Type.Optional(Type.String({ pattern: '^https?://', description: 'an http:// or https:// URL of an OTLP/HTTP collector, such as http://127.0.0.1:4318' })),
  // Settled deliveries (their bodies and attempts) and expired idempotency keys are deleted by one
  // instance at a time (lib/retention), in batches, every LOOP_RETENTION_INTERVAL_MS.
  LOOP_RETENTION_DAYS: Type.Integer({ minimum: 1, maximum: 3650, default: 30, description: 'how many days settled webhook deliveries and their attempts are kept, an integer from 1 to 3650' }),
  LOOP_RETENTION_INTERVAL_MS: Type.Integer({ minimum: 1000, maximum: 86400000, default: 3600000, description: 'how often (ms) an instance prunes what retention lets go, an integer from 1000 to 86400000' }),
  // Static egress IPs: deliveries leave through this proxy's CONNECT tunnels (lib/outbound/egress-proxy.ts).
  LOOP_EGRESS_PROXY: Type.Optional(Type.String({ pattern: '^http://', description: 'an http://host:port URL of an HTTP proxy that accepts CONNECT (user:password@ allowed), with no path' })),
  // The brand portal (/admin/portal) may be framed by these origins only: CSP frame-ancestors.
  LOOP_PORTAL_FRAME_ANCESTORS: Type.Optional(Type.String({ description: 'a comma-separated list of origins such as https://app.example.com,https://*.example.org that may embed the portal in an iframe' })),
  LOOP_TRUST_PROXY: Type.String({ default: 'false', description: 'false, true, a number of proxy hops, or a comma-separated list of proxy addresses or CIDR ranges such as 10.0.0.0/8,127.0.0.1' }),
  LOG_LEVEL: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)), { default: 'info', description: 'one of fatal, error, warn, info, debug, trace, silent' })
}, { additionalProperties: true })

export type Env = Static<typeof EnvSchema>

export interface Config {
  port: number
  host: string
  databaseUrl: string | undefined
  redisUrl: string | undefined
  /** Prefix of every Redis key, so several deployments (or test runs) can share one Redis. */
  redisPrefix: string
  /** Per-IP token bucket for the unauthenticated webhook routes (/api/signals/*, /webhooks/*). */
  webhookRateLimit: { ratePerSecond: number, burst: number }
  /** Per-IP token bucket of failed authentications (a key presented and refused); 429 once empty. */
  authFailureRateLimit: { ratePerSecond: number, burst: number }
  dataDir: string
  adminKey: string | undefined
  secrets: { github: string | undefined, sentry: string | undefined, posthog: string | undefined }
  bodyLimit: number
  /** Deepest nesting of objects and arrays a JSON body may have; deeper is 400 before parsing. */
  jsonMaxDepth: number
  /** Fastify's requestTimeout (whole request received) and connectionTimeout (socket inactivity), ms. */
  timeouts: { requestMs: number, connectionMs: number }
  /** Delays before each retry of an outbound delivery, in milliseconds. */
  deliverySchedule: number[]
  /** How long a claimed delivery stays with its worker before another may take it (a dead worker's claims lapse). */
  deliveryLeaseMs: number
  /** How long an endpoint may stay `failing` before its next failed attempt disables it, ms. */
  disableAfterMs: number
  /** Delivery attempts in flight per instance, and per endpoint across instances. */
  deliveryConcurrency: number
  deliveryPerEndpoint: number
  /** How often an idle delivery worker looks at the queue without being woken (a fallback). */
  deliveryPollMs: number
  /** The circuit breaker: failed attempts in a row that pause an endpoint, and for how long. */
  deliveryBreaker: { failures: number, cooldownMs: number }
  /** Group commit of provider webhooks (lib/ingest): batch size, wait for batch-mates, batches at once. */
  ingestBatch: { maxSize: number, maxWaitMs: number, maxInFlight: number }
  allowPrivateUrls: boolean
  /** GET /metrics answers without a key (LOOP_METRICS_PUBLIC); otherwise it takes an admin key. */
  metricsPublic: boolean
  /** OTEL_EXPORTER_OTLP_ENDPOINT: where traces go (OTLP/HTTP, JSON); undefined: no tracing at all. */
  otlpEndpoint: string | undefined
  /** Settled deliveries older than `days` are pruned, every `intervalMs`, by one instance at a time. */
  retention: { days: number, intervalMs: number }
  /** The HTTP proxy (http://[user:password@]host:port) every delivery is tunnelled through; undefined: direct. */
  egressProxy: string | undefined
  /**
   * Fastify's trustProxy: whom to believe about X-Forwarded-For (the client address per-IP limits
   * key on). false: nobody, the socket's address counts; true: any proxy; a number: that many hops.
   */
  trustProxy: boolean | number | string[]
  /** Origins whose pages may embed the brand portal in an iframe (CSP frame-ancestors); empty: none may. */
  portalFrameAncestors: string[]
  logLevel: Env['LOG_LEVEL']
}

export class ConfigError extends Error {
  constructor (readonly problems: string[]) {
    super(`invalid configuration:\n${problems.join('\n')}`)
    this.name = 'ConfigError'
  }
}

const ajv = createAjv({ coerceTypes: true })
const validateEnv = ajv.compile<Env>(EnvSchema)

export function loadConfig (source: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings count as unset, as in most shells' `FOO= npm start`.
  const env: Record<string, unknown> = {}
  for (const key of Object.keys(EnvSchema.properties)) {
    const value = source[key]
    if (value !== undefined && value.trim() !== '') env[key] = value.trim()
  }
  const problems: string[] = []
  const refused = (key: string) => problems.some((p) => p.startsWith(`${key} `))
  const refuse = (key: string, fallback = 'valid') => {
    if (refused(key)) return
    const described = (EnvSchema.properties as Record<string, { description?: string }>)[key]?.description
    problems.push(`${key} must be ${described ?? fallback}`)
  }
  if (!validateEnv(env)) {
    for (const error of validateEnv.errors ?? []) refuse(error.instancePath.split('/')[1] ?? '', error.message)
  }
  // The pattern only checks the scheme; a URL no client can parse (a port over 65535, a stray %)
  // would otherwise fail later with an error that names neither the variable nor the problem.
  for (const key of ['DATABASE_URL', 'REDIS_URL', 'OTEL_EXPORTER_OTLP_ENDPOINT'] as const) {
    if (env[key] !== undefined && !refused(key) && !isParsableUrl(String(env[key]))) refuse(key)
  }
  let deliverySchedule: number[] = []
  if (!refused('LOOP_DELIVERY_SCHEDULE')) {
    const parsed = parseDurationList(String(env.LOOP_DELIVERY_SCHEDULE))
    if (parsed === null) refuse('LOOP_DELIVERY_SCHEDULE')
    else deliverySchedule = parsed
  }
  if (env.LOOP_EGRESS_PROXY !== undefined && !refused('LOOP_EGRESS_PROXY') && !isProxyUrl(String(env.LOOP_EGRESS_PROXY))) refuse('LOOP_EGRESS_PROXY')
  let disableAfterMs = 0
  if (!refused('LOOP_DISABLE_AFTER')) {
    const parsed = parseDuration(String(env.LOOP_DISABLE_AFTER))
    if (parsed === null) refuse('LOOP_DISABLE_AFTER')
    else disableAfterMs = parsed
  }
  let trustProxy: Config['trustProxy'] = false
  if (!refused('LOOP_TRUST_PROXY')) {
    const parsed = parseTrustProxy(String(env.LOOP_TRUST_PROXY))
    if (parsed === null) refuse('LOOP_TRUST_PROXY')
    else trustProxy = parsed
  }
  let portalFrameAncestors: string[] = []
  if (env.LOOP_PORTAL_FRAME_ANCESTORS !== undefined && !refused('LOOP_PORTAL_FRAME_ANCESTORS')) {
    const parsed = parseOrigins(String(env.LOOP_PORTAL_FRAME_ANCESTORS))
    if (parsed === null) refuse('LOOP_PORTAL_FRAME_ANCESTORS')
    else portalFrameAncestors = parsed
  }
  if (problems.length > 0) throw new ConfigError(problems)
  const valid = env as Env
  return {
    port: valid.PORT,
    host: valid.HOST,
    databaseUrl: valid.DATABASE_URL,
    redisUrl: valid.REDIS_URL,
    redisPrefix: valid.LOOP_REDIS_PREFIX,
    webhookRateLimit: { ratePerSecond: valid.LOOP_WEBHOOK_RATE, burst: valid.LOOP_WEBHOOK_BURST },
    authFailureRateLimit: { ratePerSecond: valid.LOOP_AUTH_FAILURE_RATE, burst: valid.LOOP_AUTH_FAILURE_BURST },
    dataDir: valid.LOOP_DATA_DIR,
    adminKey: valid.LOOP_ADMIN_KEY,
    secrets: { github: valid.GITHUB_WEBHOOK_SECRET, sentry: valid.SENTRY_CLIENT_SECRET, posthog: valid.POSTHOG_WEBHOOK_SECRET },
    bodyLimit: valid.LOOP_BODY_LIMIT,
    jsonMaxDepth: valid.LOOP_JSON_MAX_DEPTH,
    timeouts: { requestMs: valid.LOOP_REQUEST_TIMEOUT_MS, connectionMs: valid.LOOP_CONNECTION_TIMEOUT_MS },
    deliverySchedule,
    deliveryLeaseMs: valid.LOOP_DELIVERY_LEASE_MS,
    disableAfterMs,
    deliveryConcurrency: valid.LOOP_DELIVERY_CONCURRENCY,
    deliveryPerEndpoint: valid.LOOP_DELIVERY_PER_ENDPOINT,
    deliveryPollMs: valid.LOOP_DELIVERY_POLL_MS,
    deliveryBreaker: { failures: valid.LOOP_DELIVERY_BREAKER_FAILURES, cooldownMs: valid.LOOP_DELIVERY_BREAKER_COOLDOWN_MS },
    ingestBatch: { maxSize: valid.LOOP_INGEST_BATCH_SIZE, maxWaitMs: valid.LOOP_INGEST_BATCH_WAIT_MS, maxInFlight: valid.LOOP_INGEST_BATCHES_IN_FLIGHT },
    allowPrivateUrls: valid.LOOP_ALLOW_PRIVATE_URLS,
    metricsPublic: valid.LOOP_METRICS_PUBLIC,
    otlpEndpoint: valid.OTEL_EXPORTER_OTLP_ENDPOINT,
    retention: { days: valid.LOOP_RETENTION_DAYS, intervalMs: valid.LOOP_RETENTION_INTERVAL_MS },
    egressProxy: valid.LOOP_EGRESS_PROXY,
    trustProxy,
    portalFrameAncestors,
    logLevel: valid.LOG_LEVEL
  }
}

/** As the PostgreSQL and Redis clients read a URL: WHATWG parsing, then the percent-decoded user and password. */
function isParsableUrl (text: string): boolean {
  try {
    const url = new URL(text)
    decodeURIComponent(url.username)
    decodeURIComponent(url.password)
    return true
  } catch {
    return false
  }
}

/** http://host:port and nothing more (credentials aside): a CONNECT proxy has no path to send to. */
function isProxyUrl (text: string): boolean {
  if (!isParsableUrl(text)) return false
  const url = new URL(text)
  return url.protocol === 'http:' && url.hostname !== '' && url.port !== '' && url.pathname === '/' && url.search === '' && url.hash === '' && !text.endsWith('?') && !text.endsWith('#')
}

function parseTrustProxy (text: string): Config['trustProxy'] | null {
  if (text === 'false') return false
  if (text === 'true') return true
  if (/^\d{1,2}$/.test(text)) return Number(text)
  const entries = text.split(',').map((entry) => entry.trim())
  const valid = entries.every((entry) => {
    const [address, bits, ...rest] = entry.split('/')
    const version = isIP(address ?? '')
    if (version === 0 || rest.length > 0) return false
    return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (version === 4 ? 32 : 128))
  })
  return valid ? entries : null
}

// An origin as CSP source expressions write it: a scheme, a host (its first label may be `*`) and
// an optional port, nothing else, so a value can never smuggle another directive (`;`) or a path.
const originPattern = /^https?:\/\/(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*(:\d{1,5})?$/

function parseOrigins (text: string): string[] | null {
  const origins = text.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '')
  return origins.length > 0 && origins.every((origin) => originPattern.test(origin)) ? origins : null
}
