// Shared buckets with a local safety net: while Redis is unreachable each instance keeps limiting
// with its own buckets, instead of failing every request (or letting every request through).
import type { BucketBackend, BucketDecision, BucketLimits } from './token-bucket.ts'

export class FallbackBuckets implements BucketBackend {
  private degraded = false

  constructor (
    private readonly primary: BucketBackend,
    private readonly fallback: BucketBackend,
    /** Called when the primary starts failing (with the error) and when it recovers. */
    private readonly onStateChange: (degraded: boolean, error?: unknown) => void
  ) {}

  async take (key: string, limits: BucketLimits, cost = 1): Promise<BucketDecision> {
    try {
      const decision = await this.primary.take(key, limits, cost)
      if (this.degraded) {
        this.degraded = false
        this.onStateChange(false)
      }
      return decision
    } catch (error) {
      if (!this.degraded) {
        this.degraded = true
        this.onStateChange(true, error)
      }
      return await this.fallback.take(key, limits, cost)
    }
  }

  async close (): Promise<void> {
    await Promise.all([this.primary.close(), this.fallback.close()])
  }
}
