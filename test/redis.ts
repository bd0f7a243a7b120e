// Redis for tests: LOOP_TEST_REDIS_URL or the local default. Unreachable Redis fails the test
// file with a clear message (in CI and out of it): a Redis test that skips proves nothing.
import { Redis } from 'ioredis'
import { randomBytes } from 'node:crypto'
import type { TestContext } from './helper.ts'

export const testRedisUrl = process.env.LOOP_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

/** A connected client closed at teardown, or null after failing `t` when Redis cannot be reached. */
export async function connectTestRedis (t: TestContext & { fail: (message: string) => void }): Promise<Redis | null> {
  const redis = new Redis(testRedisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 2000, retryStrategy: () => null })
  redis.on('error', () => {})
  try {
    await redis.connect()
    await redis.ping()
  } catch (error) {
    redis.disconnect()
    t.fail(`Redis is unreachable at ${testRedisUrl} (${error instanceof Error ? error.message : String(error)}): ` +
      `start redis-server or point LOOP_TEST_REDIS_URL at one${process.env.CI !== undefined ? ' (CI must provide Redis)' : ''}`)
    return null
  }
  t.teardown(() => redis.quit())
  return redis
}

/** A key prefix of its own, so parallel test files never share buckets; its keys are deleted at teardown. */
export function uniquePrefix (t: TestContext, redis: Redis): string {
  const prefix = `loop-test:${randomBytes(6).toString('hex')}:`
  t.teardown(async () => {
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
      if (keys.length > 0) await redis.del(...keys)
      cursor = next
    } while (cursor !== '0')
  })
  return prefix
}
