// Rate limits (docs/api.md#rate-limits) with @fastify/rate-limit over token buckets: per API key by tier
// (`fastify.limitApiKey`, called by the auth plugin right after it authenticates), per IP on
// the unauthenticated webhook routes, and per IP on failed authentications
// (`fastify.limitAuthFailures`). Buckets live in this process, or in Redis with REDIS_URL so
// every instance draws from the same budget.
//
// The plugin's own hooks are not used (global: false): they write X-RateLimit-Limit as the bucket
// size and X-RateLimit-Reset as seconds from now, where Loop promises the sustained rate and a
// Unix time. Its decision function (createRateLimit) and store interface are used as they are.
import fp from 'fastify-plugin'
import rateLimit from '@fastify/rate-limit'
import { Redis } from 'ioredis'
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify'
import { AppError, rateLimited } from '../lib/errors.ts'
import type { KeyTier } from '../lib/keys/api-key.ts'
import { bearerRequirement } from '../lib/keys/route-security.ts'
import { FallbackBuckets } from '../lib/rate-limit/fallback-buckets.ts'
import { tokenBucketStore, withCost } from '../lib/rate-limit/fastify-store.ts'
import { RedisBuckets } from '../lib/rate-limit/redis-buckets.ts'
import { bucketLimits, MemoryBuckets, retryAfterSeconds, sustainedRate, type BucketBackend, type BucketLimits } from '../lib/rate-limit/token-bucket.ts'

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * Takes `cost` tokens (default 1) from `request.caller`'s bucket and sets the X-RateLimit-*
     * headers; 429 when it holds fewer. The auth guard takes one per request; /mcp one more per
     * further JSON-RPC call in a batch.
     */
    limitApiKey: (request: FastifyRequest, reply: FastifyReply, cost?: number) => Promise<void>
    /**
     * Runs `authenticate`; when it refuses a presented credential (401), takes a token from the
     * request IP's failure bucket, and answers 429 instead once that is empty. A valid key costs
     * nothing here. A refused IP is then refused at once, before `authenticate`, until Retry-After.
     */
    limitAuthFailures: <T>(request: FastifyRequest, authenticate: () => Promise<T>) => Promise<T>
  }
}

/** docs/api.md#rate-limits: standard 100/s with bursts of 200, premium 1,000/s with bursts of 2,000. */
export const tierLimits: Record<KeyTier, BucketLimits> = {
  standard: bucketLimits(100, 200),
  premium: bucketLimits(1000, 2000)
}

/** Unauthenticated routes under these prefixes are limited per IP, including routes added later. */
export const webhookPrefixes = ['/api/signals/', '/webhooks/']

type Limiter = ReturnType<FastifyInstance['createRateLimit']>

export interface RateLimitPluginOptions {
  /**
   * The clock of the in-process buckets, of X-RateLimit-Reset and of the refused-address list:
   * Date.now in production; a test steps its own instead of waiting for refills. Redis buckets
   * keep Redis's clock (redis-buckets.ts).
   */
  now: () => number
}

async function openBuckets (fastify: FastifyInstance, now: () => number): Promise<BucketBackend> {
  const local = new MemoryBuckets(now)
  const url = fastify.config.redisUrl
  if (url === undefined) return local
  // No offline queue: while Redis is away a decision fails fast and falls back to `local`.
  const redis = new Redis(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, enableAutoPipelining: true, connectTimeout: 5000 })
  // Outages are reported once by FallbackBuckets; unhandled, ioredis would print every retry.
  let lastError: Error | undefined
  redis.on('error', (error: Error) => { lastError = error })
  try {
    await redis.connect()
  } catch (error) {
    redis.disconnect()
    // The socket error says why (ECONNREFUSED, ENOTFOUND); the URL may hold a password, so it is not repeated.
    const reason = lastError?.message ?? (error instanceof Error ? error.message : String(error))
    throw new Error(`REDIS_URL: cannot connect to Redis (${reason})`)
  }
  fastify.addHook('onClose', async () => { await redis.quit().catch(() => redis.disconnect()) })
  const shared = await RedisBuckets.create(redis, `${fastify.config.redisPrefix}rl:`)
  return new FallbackBuckets(shared, local, (degraded, error) => {
    if (degraded) fastify.log.warn({ err: error }, 'Redis unreachable: rate limits are per instance until it is back')
    else fastify.log.info('Redis reachable again: rate limits are shared again')
  })
}

/** Runs `limiter` for `cost` tokens and sets the headers from its answer; throws 429 with Retry-After when refused. */
async function consume (limiter: Limiter, limits: BucketLimits, refusals: { inc: () => void }, request: FastifyRequest, reply: FastifyReply, now: () => number, cost = 1): Promise<void> {
  const result = cost === 1 ? await limiter(request) : await withCost(cost, async () => await limiter(request))
  if (result.isAllowed) return // allow-listed (none configured today)
  reply.header('x-ratelimit-limit', sustainedRate(limits))
  reply.header('x-ratelimit-remaining', result.remaining)
  reply.header('x-ratelimit-reset', Math.ceil((now() + result.ttl) / 1000))
  if (!result.isExceeded) return
  refusals.inc()
  throw rateLimited(retryAfterSeconds(result.ttl, limits, cost))
}

async function rateLimitPlugin (fastify: FastifyInstance, { now }: RateLimitPluginOptions): Promise<void> {
  const buckets = await openBuckets(fastify, now)
  // Every 429 this plugin answers is counted by bucket (loop_rate_limit_refusals_total).
  const refused = fastify.metrics.rateLimited
  fastify.addHook('onClose', async () => { await buckets.close() })
  await fastify.register(rateLimit, { global: false, store: tokenBucketStore(buckets) })

  const limiterFor = (limits: BucketLimits, keyOf: (request: FastifyRequest) => string): Limiter =>
    fastify.createRateLimit({ max: limits.capacity, timeWindow: limits.windowMs, keyGenerator: keyOf })

  const keyOf = (request: FastifyRequest) => `key:${request.caller.keyId}`
  const perTier = { standard: limiterFor(tierLimits.standard, keyOf), premium: limiterFor(tierLimits.premium, keyOf) }
  fastify.decorate('limitApiKey', async (request: FastifyRequest, reply: FastifyReply, cost = 1) => {
    const tier = request.caller.tier
    await consume(perTier[tier], tierLimits[tier], refused.api_key, request, reply, now, cost)
  })

  const failureLimits = bucketLimits(fastify.config.authFailureRateLimit.ratePerSecond, fastify.config.authFailureRateLimit.burst)
  // Addresses whose failure bucket refused, and until when: this instance refuses them without a
  // key lookup or a bucket round trip. Other instances learn it from the shared bucket on their
  // own next failure. Entries last until Retry-After; the sweep forgets the expired ones.
  const blockedUntil = new Map<string, number>()
  const sweeper = setInterval(() => {
    const at = now()
    for (const [ip, until] of blockedUntil) if (until <= at) blockedUntil.delete(ip)
  }, 10_000)
  sweeper.unref()
  fastify.addHook('onClose', async () => { clearInterval(sweeper) })
  fastify.decorate('limitAuthFailures', async <T>(request: FastifyRequest, authenticate: () => Promise<T>): Promise<T> => {
    const until = blockedUntil.get(request.ip)
    const at = now()
    if (until !== undefined && until > at) {
      refused.auth_failure.inc()
      throw rateLimited(Math.ceil((until - at) / 1000))
    }
    try {
      return await authenticate()
    } catch (error) {
      // A request without credentials is not a guess and costs no lookup, so it is not counted.
      if (!(error instanceof AppError) || error.statusCode !== 401 || request.headers.authorization === undefined) throw error
      const decision = await buckets.take(`authfail:${request.ip}`, failureLimits)
      if (decision.allowed) throw error
      const retryAfter = retryAfterSeconds(decision.msUntilFull, failureLimits)
      blockedUntil.set(request.ip, now() + retryAfter * 1000)
      refused.auth_failure.inc()
      throw rateLimited(retryAfter)
    }
  })

  const { ratePerSecond, burst } = fastify.config.webhookRateLimit
  const ipLimits = bucketLimits(ratePerSecond, burst)
  const perIp = limiterFor(ipLimits, (request) => `ip:${request.ip}`)
  const limitIp: onRequestHookHandler = async (request, reply) => { await consume(perIp, ipLimits, refused.ip, request, reply, now) }
  fastify.addHook('onRoute', (route) => {
    // A route that takes a key is limited per key by the auth plugin instead.
    if (bearerRequirement((route.schema as { security?: unknown } | undefined)?.security) !== null) return
    if (!webhookPrefixes.some((prefix) => route.url.startsWith(prefix))) return
    route.onRequest = [limitIp, ...(route.onRequest === undefined ? [] : [route.onRequest].flat())]
  })
}

export default fp(rateLimitPlugin, { name: 'loop-rate-limit', dependencies: ['loop-config', 'loop-errors', 'loop-metrics'], fastify: '5.x' })
