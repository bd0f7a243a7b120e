// Token buckets in Redis, shared by every Loop instance: one Lua script per decision (atomic, on
// Redis's own clock so instance clocks never disagree), loaded once and called by its SHA.
import type { Redis } from 'ioredis'
import type { BucketBackend, BucketDecision, BucketLimits } from './token-bucket.ts'

// Same math as takeToken() in token-bucket.ts. The hash {tokens, at} expires once the bucket would
// be full again: a missing key is a full bucket, so idle clients cost no memory.
//
// Time is kept in whole microseconds (exact in a double until the year 2255) and stored with
// %.0f: Lua's tostring keeps 14 digits, which rounded a millisecond timestamp to 0.1 ms, and with
// negative gaps clamped to zero those roundings only ever added tokens (dozens in a 2,600-request burst).
export const takeTokenScript = `
local capacity = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local perUs = capacity / (window * 1000)
local tokens = tonumber(state[1])
if tokens == nil then
  tokens = capacity
else
  tokens = math.min(capacity, tokens + math.max(0, now - tonumber(state[2])) * perUs)
end
local allowed = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
end
local untilFull = math.ceil((capacity - tokens) / (perUs * 1000))
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'at', string.format('%.0f', now))
redis.call('PEXPIRE', KEYS[1], untilFull + 1000)
return { allowed, math.floor(tokens), untilFull }
`

export class RedisBuckets implements BucketBackend {
  private constructor (
    private readonly redis: Redis,
    private readonly prefix: string,
    private sha: string
  ) {}

  /** Loads the script once; Redis answers by SHA from then on. */
  static async create (redis: Redis, prefix: string): Promise<RedisBuckets> {
    const sha = await redis.script('LOAD', takeTokenScript) as string
    return new RedisBuckets(redis, prefix, sha)
  }

  async take (key: string, limits: BucketLimits, cost = 1): Promise<BucketDecision> {
    const args = [1, this.prefix + key, limits.capacity, limits.windowMs, cost] as const
    let reply: unknown
    try {
      reply = await this.redis.evalsha(this.sha, ...args)
    } catch (error) {
      // A restarted or flushed Redis forgets scripts: load it again and retry once.
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error
      this.sha = await this.redis.script('LOAD', takeTokenScript) as string
      reply = await this.redis.evalsha(this.sha, ...args)
    }
    const [allowed, remaining, msUntilFull] = reply as [number, number, number]
    return { allowed: allowed === 1, remaining, msUntilFull }
  }

  async close (): Promise<void> {}
}
