// `fastify.retention`: runs the retention job (lib/retention) every LOOP_RETENTION_INTERVAL_MS,
// the first time a minute after start (or one interval, when that is shorter). Every instance
// schedules it; the advisory lock lets one of them do each run. The timer never keeps the process
// alive, and on close the run in progress stops after its current batch, before the database
// closes (onClose hooks run in reverse order of registration).
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { runRetention, type RetentionRun } from '../lib/retention/retention.ts'

export interface RetentionPluginOptions {
  /** false: this instance never runs the job (another one will). */
  enabled?: boolean
  /** false: no timer, only runOnce (tests run it when they choose). */
  scheduled?: boolean
}

export interface Retention {
  /** One run now (waits for a scheduled run in progress first); for operators and tests. */
  runOnce: () => Promise<RetentionRun>
}

declare module 'fastify' {
  interface FastifyInstance {
    /** This instance's retention job; null when it runs without one. */
    retention: Retention | null
  }
}

const FIRST_RUN_MAX_DELAY_MS = 60_000

async function retentionPlugin (fastify: FastifyInstance, options: RetentionPluginOptions): Promise<void> {
  if (options.enabled === false) {
    fastify.decorate('retention', null)
    return
  }
  const { days, intervalMs } = fastify.config.retention
  const log = fastify.log.child({ component: 'retention' })
  const stopping = new AbortController()
  let timer: NodeJS.Timeout | undefined
  let running: Promise<RetentionRun> | null = null

  const runOnce = async (): Promise<RetentionRun> => {
    while (running !== null) await running.catch(() => {})
    const run = runRetention(fastify.orm.em.fork(), { retentionDays: days, signal: stopping.signal })
    running = run
    try {
      return await run
    } finally {
      running = null
    }
  }

  const scheduled = async () => {
    try {
      const run = await runOnce()
      if (run.deliveries > 0 || run.idempotencyKeys > 0 || run.portalLinks > 0) log.info(run, 'retention: pruned')
    } catch (error) {
      // The next run tries again; a database outage must not stop the schedule.
      if (!stopping.signal.aborted) log.error({ err: error }, 'retention run failed')
    }
    if (!stopping.signal.aborted) schedule(intervalMs)
  }
  const schedule = (ms: number) => {
    timer = setTimeout(() => { void scheduled() }, ms)
    timer.unref()
  }

  fastify.decorate('retention', { runOnce })
  if (options.scheduled !== false) fastify.addHook('onReady', async () => schedule(Math.min(intervalMs, FIRST_RUN_MAX_DELAY_MS)))
  fastify.addHook('onClose', async () => {
    stopping.abort()
    clearTimeout(timer)
    await running?.catch(() => {})
  })
}

export default fp(retentionPlugin, { name: 'loop-retention', dependencies: ['loop-config', 'loop-database'], fastify: '5.x' })
