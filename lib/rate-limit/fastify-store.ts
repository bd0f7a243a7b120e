// Token buckets behind @fastify/rate-limit's store interface. The plugin asks `incr(key, cb,
// timeWindow, max)` and derives remaining = max - current and exceeded = current > max; here
// `max` is the bucket's capacity and `timeWindow` the time an empty bucket takes to fill, and the
// answer is encoded so those derivations come out as the bucket's own numbers.
import { AsyncLocalStorage } from 'node:async_hooks'
import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit'
import type { BucketBackend } from './token-bucket.ts'

// The plugin's store interface counts one hit per call and has no parameter for more. A decision
// that costs several tokens (an /mcp batch, one per JSON-RPC call) runs inside `withCost`, and the
// store reads the cost from there: one bucket operation, one Redis round trip, whatever the cost.
const decisionCost = new AsyncLocalStorage<number>()

/** Runs `decide` (a limiter made by `createRateLimit`) so that the store takes `cost` tokens for it. */
export async function withCost<T> (cost: number, decide: () => Promise<T>): Promise<T> {
  return await decisionCost.run(cost, decide)
}

export function tokenBucketStore (backend: BucketBackend): FastifyRateLimitStoreCtor {
  return class TokenBucketStore implements FastifyRateLimitStore {
    incr (key: string, callback: (error: Error | null, result?: { current: number, ttl: number }) => void, timeWindow: number, max: number): void {
      backend.take(key, { capacity: max, windowMs: timeWindow }, decisionCost.getStore() ?? 1).then(
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
