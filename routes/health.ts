// Liveness and readiness probes (docs/operations.md#health-checks).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { getHealth, getReady } from '../generated/operations.ts'
import { AppError } from '../lib/errors.ts'
import { pendingMigrations } from '../lib/db/orm.ts'
import { sql } from '../lib/db/sql.ts'
import { oldestDueAgeMs } from '../lib/outbound/queue-stats.ts'

/**
 * How long /ready waits for the database. A host that drops packets would otherwise hold the probe
 * until the pool's acquire timeout (a minute): past this it is unreachable, and the answer is 503.
 */
const READY_DEADLINE_MS = 2000

async function withinDeadline<T> (work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new Error('deadline')), READY_DEADLINE_MS) })
  try {
    return await Promise.race([work, deadline])
  } finally {
    clearTimeout(timer)
  }
}

const health: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.route({
    ...getHealth,
    handler: async () => ({ ok: true as const, status: 'alive' as const, uptimeSeconds: process.uptime() })
  })

  fastify.route({
    ...getReady,
    handler: async () => {
      let pending = 0
      let oldestDue: number | null = null
      try {
        await withinDeadline((async () => {
          await sql(fastify.orm.em, 'select 1')
          pending = await pendingMigrations(fastify.orm)
          // Reported, not judged: a backlog is every instance's to drain, so it makes none unready.
          if (pending === 0) oldestDue = await oldestDueAgeMs(fastify.orm.em)
        })())
      } catch {
        throw new AppError(503, 'NOT_READY', 'database unreachable')
      }
      if (pending > 0) throw new AppError(503, 'NOT_READY', `${pending} migration(s) pending`)
      return { ok: true as const, status: 'ready' as const, database: 'up' as const, pendingMigrations: 0, oldestDueAgeMs: oldestDue }
    }
  })
}

export default health
