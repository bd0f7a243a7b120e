// Every metric Loop exports at /metrics (docs/operations.md#metrics), created once per app on its
// own prom-client Registry: tests build several apps in one process, and each app's counters are
// its own. Node's process metrics describe the process, whichever app asks, so they live on one
// registry per process: collectDefaultMetrics starts an event-loop monitor and a GC observer that
// nothing stops, and one set of them serves every app. The handles are made here, at start; the hot paths only call inc()/observe() on them.
// What is a state rather than an event (the queue, the endpoints, the pool) is read when
// Prometheus scrapes, through the collect() callbacks, never on a timer.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { BatchObserver } from '../ingest/group-commit.ts'
import { attemptOutcome, attemptOutcomes, type AttemptObserver } from '../outbound/attempt-observer.ts'
import type { QueueSnapshot } from '../outbound/queue-stats.ts'

/** What a request to an ingestion route is: an event (POST /api/events), a provider signal, an inbound webhook. */
const ingestKinds = ['event', 'signal', 'inbound'] as const
export type IngestKind = typeof ingestKinds[number]

/** Which bucket refused a request (plugins/rate-limit.ts). */
const rateLimitBuckets = ['api_key', 'ip', 'auth_failure'] as const
export type RateLimitBucket = typeof rateLimitBuckets[number]

export interface PoolUse { used: number, free: number, pending: number }

export interface MetricsSources {
  /** The queue and endpoint states (one statement, lib/outbound/queue-stats.ts). */
  queue: () => Promise<QueueSnapshot>
  /** The database pool's connections right now, or null when the driver does not say. */
  pool: () => PoolUse | null
  /** A scrape-time read failed (the database is down): its gauges are left empty for that scrape. */
  collectFailed: (error: unknown) => void
}

// Seconds. HTTP answers take milliseconds; deliveries wait on receivers, up to the 30 s timeout.
const httpBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
const attemptBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
const waitBuckets = [0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1]
const sizeBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000]

let processRegistry: Registry | undefined

function processMetrics (): Registry {
  if (processRegistry === undefined) {
    processRegistry = new Registry()
    collectDefaultMetrics({ register: processRegistry })
  }
  return processRegistry
}

export class LoopMetrics {
  /** This app's own metrics; `exposition()` adds the process's. */
  readonly registry = new Registry()
  private readonly process = processMetrics()
  /** The exposition format's media type (text, version 0.0.4). */
  readonly contentType = this.registry.contentType
  readonly httpDuration: Histogram<'method' | 'route' | 'status_code'>
  readonly ingestAccepted: Counter<'kind'>
  readonly ingestRejected: Counter<'kind' | 'reason'>
  /** One counter child per bucket, for plugins/rate-limit.ts to inc() as it refuses. */
  readonly rateLimited: Record<RateLimitBucket, { inc: () => void }>
  private readonly batchSize: Histogram<'writer'>
  private readonly batchWait: Histogram<'writer'>
  private readonly batchCommit: Histogram<'writer' | 'result'>
  private readonly attempts: Counter<'outcome'>
  private readonly attemptDuration: Histogram<'outcome'>

  constructor (sources: MetricsSources) {
    const registers = [this.registry]
    this.httpDuration = new Histogram({
      name: 'loop_http_request_duration_seconds',
      help: 'HTTP requests by method, route pattern and status code, and how long they took.',
      labelNames: ['method', 'route', 'status_code'],
      buckets: httpBuckets,
      registers
    })
    this.ingestAccepted = new Counter({
      name: 'loop_ingest_accepted_total',
      help: 'Events, provider signals and inbound webhooks accepted (answered 2xx, duplicates and ignored topics included).',
      labelNames: ['kind'],
      registers
    })
    this.ingestRejected = new Counter({
      name: 'loop_ingest_rejected_total',
      help: 'Events, provider signals and inbound webhooks refused, by the error code answered (VALIDATION_ERROR, UNAUTHORIZED, ...).',
      labelNames: ['kind', 'reason'],
      registers
    })
    const refusals = new Counter({
      name: 'loop_rate_limit_refusals_total',
      help: 'Requests refused with 429 by a rate limit: an API key\'s tier, an IP on the webhook routes, an IP\'s failed authentications.',
      labelNames: ['bucket'],
      registers
    })
    this.rateLimited = { api_key: refusals.labels('api_key'), ip: refusals.labels('ip'), auth_failure: refusals.labels('auth_failure') }
    // Counters whose labels are a known, closed set start at 0, so the first refusal or failure is
    // an increase that rate() and increase() see, and an alert can tell "none" from "not exported".
    for (const bucket of rateLimitBuckets) refusals.inc({ bucket }, 0)
    for (const kind of ingestKinds) this.ingestAccepted.inc({ kind }, 0)
    this.batchSize = new Histogram({
      name: 'loop_ingest_batch_size',
      help: 'Writes committed together in one group-commit transaction.',
      labelNames: ['writer'],
      buckets: sizeBuckets,
      registers
    })
    this.batchWait = new Histogram({
      name: 'loop_ingest_batch_wait_seconds',
      help: 'How long the oldest write of a batch queued before the batch was written.',
      labelNames: ['writer'],
      buckets: waitBuckets,
      registers
    })
    this.batchCommit = new Histogram({
      name: 'loop_ingest_batch_commit_seconds',
      help: 'How long writing and committing one batch took, by result (ok, error).',
      labelNames: ['writer', 'result'],
      buckets: httpBuckets,
      registers
    })
    this.attempts = new Counter({
      name: 'loop_delivery_attempts_total',
      help: 'Outbound delivery attempts recorded, by where they left the delivery (succeeded, retrying, failed, gone, lease_lost).',
      labelNames: ['outcome'],
      registers
    })
    for (const outcome of attemptOutcomes) this.attempts.inc({ outcome }, 0)
    this.attemptDuration = new Histogram({
      name: 'loop_delivery_attempt_duration_seconds',
      help: 'How long the receiver took to answer an outbound delivery attempt (or to time out), by outcome.',
      labelNames: ['outcome'],
      buckets: attemptBuckets,
      registers
    })

    // One statement per scrape feeds three gauges: the first collect() starts it, the others
    // (prom-client collects every metric at once) wait on the same answer.
    let snapshot: Promise<QueueSnapshot | null> | null = null
    const readSnapshot = async (): Promise<QueueSnapshot | null> => {
      snapshot ??= sources.queue()
        .catch((error: unknown) => { sources.collectFailed(error); return null })
        .finally(() => { snapshot = null })
      return await snapshot
    }
    new Gauge({
      name: 'loop_delivery_queue',
      help: 'Pending outbound deliveries by state: due (waiting for a worker), in_flight (being sent), scheduled (waiting for a retry), parked (their endpoint is disabled).',
      labelNames: ['state'],
      registers,
      async collect () {
        this.reset()
        const read = await readSnapshot()
        if (read === null) return
        this.set({ state: 'due' }, read.depth.due)
        this.set({ state: 'in_flight' }, read.depth.inFlight)
        this.set({ state: 'scheduled' }, read.depth.scheduled)
        this.set({ state: 'parked' }, read.depth.parked)
      }
    })
    new Gauge({
      name: 'loop_delivery_queue_oldest_due_age_seconds',
      help: 'How long the oldest due, unclaimed delivery has waited since it fell due (0 when none is due).',
      registers,
      async collect () {
        this.reset()
        const read = await readSnapshot()
        if (read !== null) this.set((read.oldestDueAgeMs ?? 0) / 1000)
      }
    })
    new Gauge({
      name: 'loop_endpoints',
      help: 'Webhook endpoints by state: active, failing (retries exhausted), paused (circuit breaker open), disabled.',
      labelNames: ['state'],
      registers,
      async collect () {
        this.reset()
        const read = await readSnapshot()
        if (read === null) return
        for (const state of ['active', 'failing', 'paused', 'disabled'] as const) this.set({ state }, read.endpoints[state])
      }
    })
    new Gauge({
      name: 'loop_db_pool_connections',
      help: 'The database pool: connections in use, idle (free), and requests waiting for one (pending).',
      labelNames: ['state'],
      registers,
      collect () {
        this.reset()
        const use = sources.pool()
        if (use === null) return
        this.set({ state: 'used' }, use.used)
        this.set({ state: 'free' }, use.free)
        this.set({ state: 'pending' }, use.pending)
      }
    })
  }

  /** What GET /metrics answers: the process's metrics, then this app's (no name is in both). */
  async exposition (): Promise<string> {
    const [own, shared] = await Promise.all([this.registry.metrics(), this.process.metrics()])
    return `${shared}\n${own}`
  }

  /** Watches one group commit (lib/ingest/group-commit.ts): batch sizes, waits and commit times. */
  batchObserver<T> (writer: 'signals' | 'events'): BatchObserver<T> {
    const size = this.batchSize.labels(writer)
    const wait = this.batchWait.labels(writer)
    const committed = { ok: this.batchCommit.labels(writer, 'ok'), error: this.batchCommit.labels(writer, 'error') }
    return {
      writing: (items, waitedMs) => {
        size.observe(items.length)
        wait.observe(waitedMs / 1000)
        const started = performance.now()
        return (failed) => { (failed ? committed.error : committed.ok).observe((performance.now() - started) / 1000) }
      }
    }
  }

  /** Watches the delivery worker: attempts by outcome and the receivers' latency. */
  readonly attemptObserver: AttemptObserver = {
    attempted: (_delivery, result, recorded) => {
      const outcome = attemptOutcome(recorded)
      this.attempts.inc({ outcome })
      this.attemptDuration.observe({ outcome }, result.latencyMs / 1000)
    }
  }
}
