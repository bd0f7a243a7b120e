// The delivery worker: claims due deliveries from PostgreSQL, sends them (at most `concurrency`
// at a time), records each attempt. Every Loop instance runs one; the claim's lease keeps them
// from sending the same attempt twice. Framework-free: plugins/delivery-worker.ts runs it.
import http from 'node:http'
import https from 'node:https'
import type { MikroORM } from '@mikro-orm/postgresql'
import { outboundHeaders } from '../signing/outbound.ts'
import { claimDueDeliveries, recordAttempt, type ClaimedDelivery } from './queue.ts'
import { MAX_TIMEOUT_MS, sendWebhook } from './send.ts'
import { egressProxyAgents } from './egress-proxy.ts'

export interface WorkerLog {
  debug: (obj: object, msg: string) => void
  info: (obj: object, msg: string) => void
  warn: (obj: object, msg: string) => void
  error: (obj: object, msg: string) => void
}

export interface DeliveryWorkerOptions {
  orm: MikroORM
  schedule: readonly number[]
  allowPrivateUrls: boolean
  log: WorkerLog
  /** Attempts in flight at once, per instance. */
  concurrency?: number
  /** How long to wait before looking again when nothing was due. */
  pollIntervalMs?: number
  /** The longest any attempt may take (default 30 s, the most an endpoint may set): an endpoint's own `timeoutMs` above it is cut to it. */
  timeoutMs?: number
  /** How long a claim stays with this worker; must exceed a whole attempt, timeout included. */
  leaseMs?: number
  /** LOOP_EGRESS_PROXY: every attempt goes through this HTTP proxy's CONNECT tunnels. */
  egressProxy?: string | undefined
  /** LOOP_DISABLE_AFTER: how long an endpoint may stay failing before a failed attempt disables it. */
  disableAfterMs?: number
}

export class DeliveryWorker {
  private readonly concurrency: number
  private readonly pollIntervalMs: number
  private readonly timeoutMs: number
  private readonly leaseMs: number
  private readonly agents: { http: http.Agent, https: https.Agent }
  private readonly inFlight = new Set<Promise<void>>()
  private running = false
  /** Attempts this worker made and recorded since it started (for operators and tests). */
  attemptsMade = 0
  private loop: Promise<void> | null = null
  private wake: (() => void) | null = null
  /** A wake-up that came while the loop was not asleep; the next sleep returns at once. */
  private woken = false
  /** Claim passes started so far; an idle() waiter is answered by a later pass that finds nothing. */
  private passes = 0
  private idleWaiters: { after: number, resolve: () => void }[] = []

  constructor (private readonly options: DeliveryWorkerOptions) {
    this.concurrency = options.concurrency ?? 8
    this.pollIntervalMs = options.pollIntervalMs ?? 200
    this.timeoutMs = options.timeoutMs ?? MAX_TIMEOUT_MS
    this.leaseMs = options.leaseMs ?? this.timeoutMs + 50_000
    if (this.leaseMs <= this.timeoutMs) throw new Error(`the delivery lease (${this.leaseMs} ms) must outlast an attempt's timeout (${this.timeoutMs} ms)`)
    // Through the egress proxy's tunnels when one is set (static egress IPs), direct otherwise.
    this.agents = options.egressProxy !== undefined
      ? egressProxyAgents(new URL(options.egressProxy), { allowPrivateUrls: options.allowPrivateUrls, connectTimeoutMs: this.timeoutMs })
      : { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) }
  }

  start (): void {
    if (this.running) return
    this.running = true
    this.loop = this.run()
  }

  /** Stops claiming, waits for the attempts in flight to be sent and recorded, then frees sockets. */
  async stop (): Promise<void> {
    this.running = false
    this.nudge()
    await this.loop
    await Promise.all(this.inFlight)
    this.settleIdleWaiters(Number.POSITIVE_INFINITY)
    this.agents.http.destroy()
    this.agents.https.destroy()
  }

  /**
   * Resolves once the worker has nothing to do: a claim pass begun after this call found no due
   * delivery and no attempt was in flight, so everything due by then has been sent and recorded
   * (a retry scheduled for later is not due). Looks at once rather than at the next poll. For
   * operators and tests; resolves at once when the worker is not running.
   */
  async idle (): Promise<void> {
    if (!this.running) return
    await new Promise<void>((resolve) => {
      this.idleWaiters.push({ after: this.passes, resolve })
      this.nudge()
    })
  }

  /** Ends the loop's current sleep, or makes its next one return at once. */
  private nudge (): void {
    if (this.wake !== null) this.wake()
    else this.woken = true
  }

  private settleIdleWaiters (pass: number): void {
    const ready = this.idleWaiters.filter((waiter) => waiter.after < pass)
    this.idleWaiters = this.idleWaiters.filter((waiter) => waiter.after >= pass)
    for (const waiter of ready) waiter.resolve()
  }

  private async run (): Promise<void> {
    let failures = 0
    while (this.running) {
      const pass = ++this.passes
      const free = this.concurrency - this.inFlight.size
      let claimed: ClaimedDelivery[] = []
      let failed = false
      if (free > 0) {
        try {
          claimed = await claimDueDeliveries(this.options.orm.em.fork(), free, this.leaseMs)
        } catch (error) {
          failed = true
          // Logged on the 1st, 2nd, 4th, 8th… failure in a row, and retried less and less often
          // (up to every 5 s): a database outage must not flood the log.
          failures++
          if (Number.isInteger(Math.log2(failures))) this.options.log.error({ err: error, failures }, 'could not claim deliveries')
        }
        if (!failed) failures = 0
        for (const delivery of claimed) this.track(this.deliver(delivery))
        if (!failed && claimed.length === 0 && this.inFlight.size === 0) this.settleIdleWaiters(pass)
      }
      if (!this.running) break
      // Every slot filled: more may be due, so look again as soon as one frees up. Otherwise the
      // queue is drained (or the database is down): wait for the poll interval (or the backoff).
      const busy = free === 0 || (claimed.length === free && !failed)
      const idle = failed ? Math.min(this.pollIntervalMs * 2 ** Math.min(failures, 5), 5_000) : this.pollIntervalMs
      await this.sleep(busy ? Number.POSITIVE_INFINITY : idle)
    }
  }

  private sleep (ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.woken) {
        this.woken = false
        return resolve()
      }
      const timer = Number.isFinite(ms) ? setTimeout(() => done(), ms) : undefined
      const done = () => {
        clearTimeout(timer)
        this.wake = null
        resolve()
      }
      this.wake = done
    })
  }

  private track (work: Promise<void>): void {
    this.inFlight.add(work)
    void work.finally(() => {
      this.inFlight.delete(work)
      this.nudge()
    })
  }

  private async deliver (delivery: ClaimedDelivery): Promise<void> {
    const { log } = this.options
    const attemptedAt = new Date()
    // Loop's own headers last: the API refuses custom ones of the same names, and this keeps it so.
    const headers = { ...delivery.headers, ...outboundHeaders({
      body: delivery.body,
      messageId: delivery.messageId,
      deliveryId: delivery.id,
      eventType: delivery.eventType,
      timestamp: Math.floor(attemptedAt.getTime() / 1000),
      secret: delivery.secret,
      previousSecret: delivery.previousSecret
    }) }
    const result = await sendWebhook(delivery.url, delivery.body, headers, { timeoutMs: Math.min(delivery.timeoutMs, this.timeoutMs), allowPrivateUrls: this.options.allowPrivateUrls, agents: this.agents })
    // The URL is not logged: a query string can carry the receiver's own token.
    const context = { deliveryId: delivery.id, endpointId: delivery.endpointId, attempt: delivery.attempt, statusCode: result.statusCode, latencyMs: result.latencyMs }
    try {
      const recorded = await recordAttempt(this.options.orm.em.fork(), delivery, result, attemptedAt, this.options.schedule, { disableAfterMs: this.options.disableAfterMs })
      if (recorded.recorded) this.attemptsMade++
      if (!recorded.recorded) log.warn(context, 'delivery lease lost before the attempt was recorded; another worker owns it')
      else if (recorded.next.status === 'succeeded') log.debug(context, 'webhook delivered')
      else log.info({ ...context, error: result.error, next: recorded.next.status }, 'webhook attempt failed')
      if (recorded.transition === 'failing') log.warn({ endpointId: delivery.endpointId }, 'webhook endpoint is failing: retries exhausted, alert raised')
      if (recorded.transition === 'disabled') log.warn({ endpointId: delivery.endpointId, statusCode: result.statusCode }, 'webhook endpoint disabled: the receiver answered 410 Gone, or it has been failing for LOOP_DISABLE_AFTER')
      if (recorded.transition === 'active') log.info({ endpointId: delivery.endpointId }, 'webhook endpoint recovered: a delivery succeeded again')
    } catch (error) {
      // The lease will lapse and the attempt be made again: at least once, never silently lost.
      log.error({ ...context, err: error }, 'could not record a webhook attempt')
    }
  }
}
