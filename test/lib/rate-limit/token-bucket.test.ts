import t from 'tap'
import { bucketLimits, MemoryBuckets, retryAfterSeconds, sustainedRate, takeToken, type BucketState } from '../../../lib/rate-limit/token-bucket.ts'
import { FallbackBuckets } from '../../../lib/rate-limit/fallback-buckets.ts'
import type { BucketBackend } from '../../../lib/rate-limit/token-bucket.ts'

const standard = bucketLimits(100, 200)
const premium = bucketLimits(1000, 2000)

/** Takes `count` tokens at instant `now`; returns how many were granted and the final state. */
function burst (state: BucketState | undefined, now: number, count: number, limits = standard) {
  let granted = 0
  let last
  for (let i = 0; i < count; i++) {
    last = takeToken(state, now, limits)
    state = last.state
    if (last.decision.allowed) granted++
  }
  return { granted, state, decision: last?.decision }
}

t.test('tiers: standard 100/s with bursts of 200, premium 1,000/s with bursts of 2,000', async (t) => {
  t.same(standard, { capacity: 200, windowMs: 2000 })
  t.same(premium, { capacity: 2000, windowMs: 2000 })
  t.equal(sustainedRate(standard), 100)
  t.equal(sustainedRate(premium), 1000)
})

t.test('a full standard bucket grants 200 at once, then refuses; one second later 100 more', async (t) => {
  const first = burst(undefined, 0, 250)
  t.equal(first.granted, 200)
  t.same(first.decision, { allowed: false, remaining: 0, msUntilFull: 2000 })
  const later = burst(first.state, 1000, 250)
  t.equal(later.granted, 100)
  t.equal(burst(later.state, 1010, 5).granted, 1, '10 ms later: exactly one more token')
})

t.test('premium grants 2,000 at once and 1,000 per second after', async (t) => {
  const first = burst(undefined, 0, 2500, premium)
  t.equal(first.granted, 2000)
  t.equal(burst(first.state, 1000, 2500, premium).granted, 1000)
})

t.test('remaining counts down, and the time until full grows by 10 ms per token taken', async (t) => {
  const rows: [number, number, number][] = [] // [request, remaining, msUntilFull]
  let state: BucketState | undefined
  for (let i = 1; i <= 3; i++) {
    const { state: next, decision } = takeToken(state, 0, standard)
    state = next
    rows.push([i, decision.remaining, decision.msUntilFull])
  }
  t.same(rows, [[1, 199, 10], [2, 198, 20], [3, 197, 30]])
})

t.test('the bucket never holds more than its capacity, and a clock stepping back refills nothing', async (t) => {
  const { state } = burst(undefined, 0, 1)
  t.equal(takeToken(state, 3_600_000, standard).decision.remaining, 199, 'an hour idle: full, minus this request')
  const drained = burst(undefined, 5000, 200)
  t.equal(takeToken(drained.state, 1000, standard).decision.allowed, false)
})

t.test('a decision can cost several tokens: all of them are taken, or none', async (t) => {
  // [tokens in the bucket before, cost, allowed, remaining after, msUntilFull after]
  const cases: [number, number, boolean, number, number][] = [
    [200, 1, true, 199, 10],
    [200, 100, true, 100, 1000],
    [200, 200, true, 0, 2000],
    [100, 100, true, 0, 2000],
    [99, 100, false, 99, 1010], // refused: the 99 stay for smaller requests
    [99.5, 100, false, 99, 1005],
    [200, 201, false, 200, 0], // more than the bucket can ever hold
    [0.5, 1, false, 0, 1995]
  ]
  for (const [before, cost, allowed, remaining, msUntilFull] of cases) {
    const { decision } = takeToken({ tokens: before, at: 0 }, 0, standard, cost)
    t.same(decision, { allowed, remaining, msUntilFull }, `${before} tokens, cost ${cost}`)
  }
})

t.test('MemoryBuckets takes a cost in one decision', async (t) => {
  const buckets = new MemoryBuckets(() => 0, 60_000)
  t.teardown(() => buckets.close())
  t.same(buckets.takeSync('k', standard, 150), { allowed: true, remaining: 50, msUntilFull: 1500 })
  t.same(buckets.takeSync('k', standard, 51), { allowed: false, remaining: 50, msUntilFull: 1500 })
  t.same(await buckets.take('k', standard, 50), { allowed: true, remaining: 0, msUntilFull: 2000 })
})

t.test('Retry-After is the wait for one token, at least one second', async (t) => {
  const cases: [number, ReturnType<typeof bucketLimits>, number][] = [
    [2000, standard, 1], // empty standard bucket: 10 ms to the next token, rounded up to 1 s
    [2000, premium, 1],
    [60_000, bucketLimits(1, 60), 1], // 1/s: one token takes 1 s
    [60_000, bucketLimits(0.5, 30), 2], // one token every 2 s
    [59_000, bucketLimits(1, 60), 1]
  ]
  for (const [msUntilFull, limits, expected] of cases) t.equal(retryAfterSeconds(msUntilFull, limits), expected, `${msUntilFull} ms, ${JSON.stringify(limits)}`)
})

t.test('Retry-After for a decision costing several tokens is the wait for all of them', async (t) => {
  // [msUntilFull, limits, cost, expected seconds]
  const cases: [number, ReturnType<typeof bucketLimits>, number, number][] = [
    [2000, standard, 100, 1], // empty standard bucket: 100 tokens take 1 s
    [2000, standard, 150, 2], // 1.5 s, rounded up
    [1010, standard, 100, 1], // 99 left: one more token, 10 ms
    [60_000, bucketLimits(1, 60), 5, 5],
    [2000, standard, 1, 1]
  ]
  for (const [msUntilFull, limits, cost, expected] of cases) t.equal(retryAfterSeconds(msUntilFull, limits, cost), expected, `${msUntilFull} ms, cost ${cost}`)
})

t.test('MemoryBuckets keeps one bucket per key and sweeps the full ones', async (t) => {
  let now = 0
  const buckets = new MemoryBuckets(() => now, 60_000)
  t.teardown(() => buckets.close())
  for (let i = 0; i < 200; i++) buckets.takeSync('a', standard)
  t.equal(buckets.takeSync('a', standard).allowed, false)
  t.equal(buckets.takeSync('b', standard).allowed, true, 'another key has its own bucket')
  now = 5
  buckets.sweep()
  t.equal(buckets.size, 2, 'neither is full yet')
  now = 1000
  buckets.sweep()
  t.equal(buckets.size, 1, 'b was full again after 10 ms, so forgotten; a still refilling')
  now = 2000
  buckets.sweep()
  t.equal(buckets.size, 0, 'a is full after 2 s')
})

t.test('FallbackBuckets uses the local buckets while the shared ones fail, and says so once', async (t) => {
  let failing = true
  const shared: BucketBackend = {
    take: async () => {
      if (failing) throw new Error('connection refused')
      return { allowed: true, remaining: 42, msUntilFull: 1 }
    },
    close: async () => {}
  }
  const local = new MemoryBuckets()
  const changes: boolean[] = []
  const buckets = new FallbackBuckets(shared, local, (degraded) => changes.push(degraded))
  t.teardown(() => buckets.close())
  t.equal((await buckets.take('k', standard)).remaining, 199, 'local bucket answered')
  t.equal((await buckets.take('k', standard)).remaining, 198)
  failing = false
  t.equal((await buckets.take('k', standard)).remaining, 42, 'shared again')
  t.same(changes, [true, false])
  failing = true
  const left = (await buckets.take('k', standard, 50)).remaining
  t.ok(left >= 148 && left <= 150, `the cost reaches the local buckets too: 198 (plus a few ms of refill) less 50 is ${left}`)
})
