import t from 'tap'
import { RedisBuckets } from '../../../lib/rate-limit/redis-buckets.ts'
import { bucketLimits } from '../../../lib/rate-limit/token-bucket.ts'
import { connectTestRedis, uniquePrefix } from '../../redis.ts'

const redis = await connectTestRedis(t)
if (redis !== null) {
  const prefix = uniquePrefix(t, redis)
  const buckets = await RedisBuckets.create(redis, prefix)
  const standard = bucketLimits(100, 200)

  t.test('the Lua script grants a full burst, then refuses, like the in-process math', async (t) => {
    const decisions = await Promise.all(Array.from({ length: 230 }, () => buckets.take('burst', standard)))
    const granted = decisions.filter((d) => d.allowed).length
    t.ok(granted >= 200 && granted <= 205, `granted ${granted} of 230 sent at once`)
    const refused = decisions.find((d) => !d.allowed)
    t.ok(refused !== undefined)
    t.equal(refused?.remaining, 0)
    t.ok((refused?.msUntilFull ?? 0) > 1900 && (refused?.msUntilFull ?? 0) <= 2000, `full again in ${refused?.msUntilFull} ms`)
  })

  t.test('a premium bucket grants 2,000 at once, then refuses', async (t) => {
    const premium = bucketLimits(1000, 2000)
    // The script refills on Redis's clock, so the run is timed on that clock too (TIME before and
    // after): 1,000/s is one token per ms of it.
    const redisMs = async () => { const [s, us] = await redis.time(); return Number(s) * 1000 + Number(us) / 1000 }
    const startedAt = await redisMs()
    const decisions = await Promise.all(Array.from({ length: 2600 }, () => buckets.take('premium', premium)))
    const refilled = Math.ceil(await redisMs() - startedAt) + 1
    const granted = decisions.filter((d) => d.allowed).length
    t.ok(granted >= 2000 && granted <= 2000 + refilled, `granted ${granted}: the burst plus at most ${refilled} refilled`)
    t.ok(decisions.some((d) => !d.allowed), 'then refused')
  })

  t.test('remaining counts down by one per request', async (t) => {
    const first = await buckets.take('countdown', standard)
    const startedAt = Date.now()
    const second = await buckets.take('countdown', standard)
    // On a loaded machine 10 ms may pass between the two decisions, and 10 ms refills one token.
    const refilled = Math.floor((Date.now() - startedAt) / 10) + 1
    t.same([first.allowed, first.remaining, first.msUntilFull], [true, 199, 10])
    t.ok(second.remaining >= 198 && second.remaining <= Math.min(199, 198 + refilled), `remaining ${second.remaining}`)
  })

  t.test('a decision costing several tokens takes them all at once, or none', async (t) => {
    const first = await buckets.take('cost', standard, 150)
    t.same([first.allowed, first.remaining, first.msUntilFull], [true, 50, 1500])
    const startedAt = Date.now()
    const refused = await buckets.take('cost', standard, 100)
    const refilled = Math.floor((Date.now() - startedAt) / 10) + 1
    t.equal(refused.allowed, false, '100 do not fit in about 50')
    t.ok(refused.remaining >= 50 && refused.remaining <= 50 + refilled, `a refusal takes nothing: remaining ${refused.remaining}`)
    const rest = await buckets.take('cost', standard, 50)
    t.equal(rest.allowed, true, 'the 50 left are still there')
  })

  t.test('a bucket key expires once the bucket would be full, so idle clients cost nothing', async (t) => {
    await buckets.take('expiry', standard)
    const ttl = await redis.pttl(`${prefix}expiry`)
    t.ok(ttl > 0 && ttl <= 1010, `expires in ${ttl} ms (10 ms to full + 1 s margin)`)
  })

  t.test('after Redis forgets its scripts (restart, SCRIPT FLUSH) the next decision reloads it', async (t) => {
    await redis.script('FLUSH')
    const decision = await buckets.take('after-flush', standard)
    t.same([decision.allowed, decision.remaining], [true, 199])
  })
}
