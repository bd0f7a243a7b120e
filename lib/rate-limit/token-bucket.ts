// Token buckets (docs/api.md#rate-limits): a bucket holds up to `capacity` tokens (the burst) and refills
// continuously, from empty to full in `windowMs`, so it sustains capacity / windowMs requests.
// Each request takes one token (an /mcp batch one per call) or is refused. Pure math plus an
// in-process store; redis-buckets.ts runs the same math in Redis for several instances.

export interface BucketLimits {
  /** Largest burst: tokens in a full bucket. */
  capacity: number
  /** Milliseconds for an empty bucket to fill; the sustained rate is capacity / windowMs. */
  windowMs: number
}

export interface BucketState {
  tokens: number
  /** When `tokens` was computed, ms since the epoch. */
  at: number
}

export interface BucketDecision {
  allowed: boolean
  /** Whole tokens left after this request. */
  remaining: number
  /** Milliseconds until the bucket is full again. */
  msUntilFull: number
}

/** `{ rate: 100, burst: 200 }` per second → capacity 200 refilled over 2 s. */
export function bucketLimits (ratePerSecond: number, burst: number): BucketLimits {
  return { capacity: burst, windowMs: (burst / ratePerSecond) * 1000 }
}

/** Requests per second the bucket sustains (X-RateLimit-Limit). */
export function sustainedRate ({ capacity, windowMs }: BucketLimits): number {
  return Math.round((capacity * 1000) / windowMs)
}

/**
 * Refills `state` up to `now`, then takes `cost` tokens if there are that many. A refusal takes
 * none: what is left still serves smaller requests.
 */
export function takeToken (state: BucketState | undefined, now: number, { capacity, windowMs }: BucketLimits, cost = 1): { state: BucketState, decision: BucketDecision } {
  const perMs = capacity / windowMs
  // A clock that steps backwards refills nothing rather than draining the bucket.
  const elapsed = state === undefined ? 0 : Math.max(0, now - state.at)
  let tokens = state === undefined ? capacity : Math.min(capacity, state.tokens + elapsed * perMs)
  const allowed = tokens >= cost
  if (allowed) tokens -= cost
  return {
    state: { tokens, at: now },
    decision: { allowed, remaining: Math.floor(tokens), msUntilFull: Math.ceil((capacity - tokens) / perMs) }
  }
}

/**
 * Seconds a refused client should wait: until `cost` whole tokens are back, at least 1
 * (Retry-After has second granularity, and 0 would invite an immediate retry that is refused again).
 */
export function retryAfterSeconds (msUntilFull: number, { capacity, windowMs }: BucketLimits, cost = 1): number {
  const msUntilCost = msUntilFull - ((capacity - cost) * windowMs) / capacity
  return Math.max(1, Math.ceil(msUntilCost / 1000))
}

/** Where buckets live: this process (MemoryBuckets) or Redis (RedisBuckets). */
export interface BucketBackend {
  /** Takes `cost` tokens (default 1) from `key`'s bucket, or none when it holds fewer. */
  take: (key: string, limits: BucketLimits, cost?: number) => Promise<BucketDecision>
  close: () => Promise<void>
}

interface MemoryEntry extends BucketState {
  fullAt: number
}

/** Buckets in a Map, for a single instance. A full bucket equals no bucket, so full ones are swept. */
export class MemoryBuckets implements BucketBackend {
  private readonly buckets = new Map<string, MemoryEntry>()
  private readonly sweeper: NodeJS.Timeout

  constructor (private readonly now: () => number = Date.now, sweepEveryMs = 10_000) {
    this.sweeper = setInterval(() => this.sweep(), sweepEveryMs)
    this.sweeper.unref()
  }

  takeSync (key: string, limits: BucketLimits, cost = 1): BucketDecision {
    const now = this.now()
    const { state, decision } = takeToken(this.buckets.get(key), now, limits, cost)
    this.buckets.set(key, { ...state, fullAt: now + decision.msUntilFull })
    return decision
  }

  async take (key: string, limits: BucketLimits, cost = 1): Promise<BucketDecision> {
    return this.takeSync(key, limits, cost)
  }

  get size (): number {
    return this.buckets.size
  }

  sweep (): void {
    const now = this.now()
    for (const [key, entry] of this.buckets) {
      if (entry.fullAt <= now) this.buckets.delete(key)
    }
  }

  async close (): Promise<void> {
    clearInterval(this.sweeper)
    this.buckets.clear()
  }
}
