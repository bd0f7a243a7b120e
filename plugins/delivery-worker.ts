// Runs the outbound delivery worker (lib/outbound/worker.ts) for as long as the app runs: it
// starts once the app is ready and, on close, stops claiming and finishes the attempts in flight
// before the database closes (onClose hooks run in reverse order of registration). A NOTIFY on
// the shared listener (plugins/notifications.ts) from a transaction that queued deliveries wakes
// it at once; the poll interval only covers notifications missed while the listener reconnects.
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { DeliveryWorker } from '../lib/outbound/worker.ts'
import { deliveriesQueuedChannel } from '../lib/outbound/fan-out.ts'
import { attemptObservers } from '../lib/outbound/attempt-observer.ts'

export interface DeliveryWorkerPluginOptions {
  /** false: no worker in this instance (deliveries stay queued for another one). */
  enabled?: boolean
  /** These override LOOP_DELIVERY_CONCURRENCY, LOOP_DELIVERY_PER_ENDPOINT and LOOP_DELIVERY_POLL_MS (tests). */
  concurrency?: number
  perEndpoint?: number
  pollIntervalMs?: number
  timeoutMs?: number
  /** How long a close waits for the attempts in flight before abandoning them (DeliveryWorkerOptions.drainMs; tests). */
  drainMs?: number
}

declare module 'fastify' {
  interface FastifyInstance {
    /** This instance's delivery worker; null when it runs without one. */
    deliveryWorker: DeliveryWorker | null
  }
}

async function deliveryWorkerPlugin (fastify: FastifyInstance, options: DeliveryWorkerPluginOptions): Promise<void> {
  if (options.enabled === false) {
    fastify.decorate('deliveryWorker', null)
    return
  }
  const worker = new DeliveryWorker({
    orm: fastify.orm,
    schedule: fastify.config.deliverySchedule,
    leaseMs: fastify.config.deliveryLeaseMs,
    disableAfterMs: fastify.config.disableAfterMs,
    concurrency: options.concurrency ?? fastify.config.deliveryConcurrency,
    perEndpoint: options.perEndpoint ?? fastify.config.deliveryPerEndpoint,
    pollIntervalMs: options.pollIntervalMs ?? fastify.config.deliveryPollMs,
    breaker: fastify.config.deliveryBreaker,
    allowPrivateUrls: fastify.config.allowPrivateUrls,
    egressProxy: fastify.config.egressProxy,
    log: fastify.log.child({ component: 'delivery-worker' }),
    observer: attemptObservers([fastify.metrics.attemptObserver, fastify.tracing?.attemptObserver]),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.drainMs !== undefined ? { drainMs: options.drainMs } : {})
  })
  fastify.decorate('deliveryWorker', worker)
  await fastify.notifications.subscribe(deliveriesQueuedChannel, {
    message: () => worker.nudge(),
    lost: () => {},
    // Whatever was queued while the listener was away is claimed now, not at the next poll.
    listening: () => worker.nudge()
  })
  fastify.addHook('onReady', async () => worker.start())
  fastify.addHook('onClose', async () => await worker.stop())
}

export default fp(deliveryWorkerPlugin, { name: 'loop-delivery-worker', dependencies: ['loop-config', 'loop-database', 'loop-notifications', 'loop-metrics', 'loop-tracing'], fastify: '5.x' })
