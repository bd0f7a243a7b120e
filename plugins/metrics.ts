// This app's Prometheus metrics (lib/metrics/loop-metrics.ts) as `fastify.metrics`, and the hooks
// that time every request. Registered before the routes and the plugins that count into it (rate
// limits, ingestion, the delivery worker); GET /metrics itself is routes/metrics.ts.
//
// Labels stay bounded: a request is counted under its route's pattern (`/api/webhooks/:id`),
// never its URL, and one not matching any route under `unmatched`. Each route keeps its own
// label children, looked up by status and method, so a request costs two Map reads and an
// observe, with no label string built.
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { Histogram } from 'prom-client'
import { LoopMetrics, type IngestKind, type PoolUse } from '../lib/metrics/loop-metrics.ts'
import { queueSnapshot } from '../lib/outbound/queue-stats.ts'
import { toAppError } from './errors.ts'

declare module 'fastify' {
  interface FastifyInstance {
    metrics: LoopMetrics
  }
}

type Child = ReturnType<Histogram<'method' | 'route' | 'status_code'>['labels']>

interface RouteMetrics {
  route: string
  /** Which ingestion counters its answers count in, if any, and its accepted counter's child. */
  kind: IngestKind | null
  accepted: { inc: () => void } | null
  /** status → method → the duration histogram's child. */
  children: Map<number, Map<string, Child>>
}

const kRoute = Symbol('loop.metrics.route')
const kErrorCode = Symbol('loop.metrics.errorCode')
type WithErrorCode = { [kErrorCode]?: string }

function ingestKind (method: string | string[], url: string): IngestKind | null {
  const methods = [method].flat()
  if (!methods.includes('POST')) return null
  if (url === '/api/events') return 'event'
  if (url.startsWith('/api/signals/')) return 'signal'
  if (url.startsWith('/webhooks/')) return 'inbound'
  return null
}

/** The knex pool (tarn) under MikroORM, when the driver exposes it. */
interface TarnPool { numUsed: () => number, numFree: () => number, numPendingAcquires: () => number }

function poolUse (fastify: FastifyInstance): PoolUse | null {
  const pool = (fastify.orm.em.getKnex().client as { pool?: Partial<TarnPool> }).pool
  if (typeof pool?.numUsed !== 'function' || typeof pool.numFree !== 'function' || typeof pool.numPendingAcquires !== 'function') return null
  return { used: pool.numUsed(), free: pool.numFree(), pending: pool.numPendingAcquires() }
}

async function metricsPlugin (fastify: FastifyInstance): Promise<void> {
  let collectFailures = 0
  const metrics = new LoopMetrics({
    queue: async () => await queueSnapshot(fastify.orm.em.fork()),
    pool: () => poolUse(fastify),
    collectFailed: (error) => {
      // The 1st, 2nd, 4th, 8th… failure: a database outage must not flood the log at every scrape.
      collectFailures++
      if (Number.isInteger(Math.log2(collectFailures))) fastify.log.warn({ err: error, failures: collectFailures }, 'could not read the delivery queue for /metrics')
    }
  })
  fastify.decorate('metrics', metrics)

  const unmatched: RouteMetrics = { route: 'unmatched', kind: null, accepted: null, children: new Map() }
  fastify.addHook('onRoute', (route) => {
    const kind = ingestKind(route.method, route.url)
    const own: RouteMetrics = { route: route.url, kind, accepted: kind === null ? null : metrics.ingestAccepted.labels(kind), children: new Map() }
    route.config = { ...route.config, [kRoute]: own } as typeof route.config
  })

  // Runs after the error handler, with the error it rendered: the code the client was given.
  // Callback hooks, not async ones: no promise per request for what is synchronous work.
  fastify.addHook('onError', (request, _reply, error, done) => {
    (request as unknown as WithErrorCode)[kErrorCode] = toAppError(error).code
    done()
  })

  fastify.addHook('onResponse', (request, reply, done) => {
    const own = (request.routeOptions.config as { [kRoute]?: RouteMetrics })[kRoute] ?? unmatched
    const status = reply.statusCode
    let byMethod = own.children.get(status)
    if (byMethod === undefined) own.children.set(status, byMethod = new Map())
    let child = byMethod.get(request.method)
    if (child === undefined) byMethod.set(request.method, child = metrics.httpDuration.labels(request.method, own.route, String(status)))
    child.observe(reply.elapsedTime / 1000)
    if (own.kind !== null) {
      if (status < 400) own.accepted?.inc()
      else metrics.ingestRejected.inc({ kind: own.kind, reason: (request as unknown as WithErrorCode)[kErrorCode] ?? 'UNKNOWN' })
    }
    done()
  })
}

export default fp(metricsPlugin, { name: 'loop-metrics', dependencies: ['loop-config', 'loop-errors'], fastify: '5.x' })
