// Token buckets behind @fastify/rate-limit's store interface. The plugin asks `incr(key, cb,
// timeWindow, max)` and derives remaining = max - current and exceeded = current > max; here
// `max` is the bucket's capacity and `timeWindow` the time an empty bucket takes to fill, and the
// answer is encoded so those derivations come out as the bucket's own numbers.
import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit'
import type { BucketBackend } from './token-bucket.ts'

export function tokenBucketStore (backend: BucketBackend): FastifyRateLimitStoreCtor {
  return class TokenBucketStore implements FastifyRateLimitStore {
    incr (key: string, callback: (error: Error | null, result?: { current: number, ttl: number }) => void, timeWindow: number, max: number): void {
      backend.take(key, { capacity: max, windowMs: timeWindow }).then(
        // Allowed: `current` is the tokens used, so max - current = tokens left. Refused: one over max.
        (decision) => callback(null, { current: decision.allowed ? max - decision.remaining : max + 1, ttl: decision.msUntilFull }),
        (error: unknown) => callback(error instanceof Error ? error : new Error(String(error)))
      )
    }

    // Keys already carry their kind (`key:<id>`, `ip:<addr>`), so every route shares one store.
    child (): FastifyRateLimitStore {
      return this
    }
  }
}
