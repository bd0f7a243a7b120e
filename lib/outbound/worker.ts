// The delivery worker: claims due deliveries from PostgreSQL, sends them (at most `concurrency`
// at a time, at most `perEndpoint` per endpoint across instances), records each attempt (while
// slots are spare, the same statement hands the slot its endpoint's next due delivery). Every
// Loop instance runs one; the claim's lease keeps them from sending the same attempt twice. It
// looks at the queue when told to (nudge: a NOTIFY from the transaction that queued deliveries),
// when an attempt ends, when the next retry is due, and every poll interval as a fallback.
// Framework-free: plugins/delivery-worker.ts runs it.
import http from 'node:http'
import https from 'node:https'
import type { MikroORM } from '@mikro-orm/postgresql'
import { outboundHeaders } from '../signing/outbound.ts'
import { claimDueDeliveries, DEFAULT_CLAIM_LIMITS, nextDueInMs, recordAttempts, recordEndpointHealth, releaseLease, type AttemptToRecord, type BreakerSettings, type ClaimedDelivery, type RecordedAttempt } from './queue.ts'
import { MAX_TIMEOUT_MS, sendWebhook } from './send.ts'
import { egressProxyAgents } from './egress-proxy.ts'
import type { AttemptObserver } from './attempt-observer.ts'

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
  /** Attempts in flight at once per endpoint, across every instance. */
  perEndpoint?: number
  /** The circuit breaker: failed attempts in a row that pause an endpoint, and for how long. */
  breaker?: BreakerSettings
  /** The fallback: how long to wait before looking again when nothing was due and nobody said otherwise. */
  pollIntervalMs?: number
  /** The longest any attempt may take (default 30 s, the most an endpoint may set): an endpoint's own `timeoutMs` above it is cut to it. */
  timeoutMs?: number
  /** How long a claim stays with this worker; must exceed a whole attempt, timeout included. */
  leaseMs?: number
  /**
   * On stop, how long the attempts in flight may take to end (default 10 s, inside the 15 s that
   * server.ts gives a whole close). Those still waiting on their receiver then are abandoned: not
   * recorded, their leases released, so the next instance to claim sends them again at once.
   */
  drainMs?: number
  /** LOOP_EGRESS_PROXY: every attempt goes through this HTTP proxy's CONNECT tunnels. */
  egressProxy?: string | undefined
  /** LOOP_DISABLE_AFTER: how long an endpoint may stay failing before a failed attempt disables it. */
  disableAfterMs?: number
  /** Told of every recorded attempt (metrics, traces: plugins/delivery-worker.ts). */
  observer?: AttemptObserver | undefined
}

export class DeliveryWorker {
  private readonly concurrency: number
  private readonly perEndpoint: number
  private readonly breaker: BreakerSettings
  private readonly pollIntervalMs: number
  private readonly timeoutMs: number
  private readonly leaseMs: number
  private readonly drainMs: number
  /** Aborted when stop's drain time is up: it ends the attempts still waiting on their receivers. */
  private readonly abandon = new AbortController()
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
  /** Attempts made and waiting to be recorded: written together by the next batch (see record). */
  private unrecorded: { attempt: AttemptToRecord, resolve: (recorded: RecordedAttempt) => void, reject: (error: unknown) => void }[] = []
  private recording: Promise<void> | null = null
  /**
   * The last claim pass left slots free: every endpoint with due work got all it could take, so
   * a finished attempt may take its endpoint's next delivery at once (a hand-off, see recordSql)
   * without standing in front of anyone. False once a pass fills every slot: then slots go back
   * to the claim's rotation across endpoints.
   */
  private roomToSpare = false

  constructor (private readonly options: DeliveryWorkerOptions) {
    this.concurrency = options.concurrency ?? 200
    this.perEndpoint = options.perEndpoint ?? DEFAULT_CLAIM_LIMITS.perEndpoint
    this.breaker = options.breaker ?? { failures: DEFAULT_CLAIM_LIMITS.breakerFailures, cooldownMs: 30_000 }
    this.pollIntervalMs = options.pollIntervalMs ?? 1000
    this.timeoutMs = options.timeoutMs ?? MAX_TIMEOUT_MS
    this.leaseMs = options.leaseMs ?? this.timeoutMs + 50_000
    this.drainMs = options.drainMs ?? 10_000
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

  /**
   * Stops claiming, waits up to the drain time for the attempts in flight to be sent and recorded,
   * abandons those still waiting on their receivers (see drainMs), then frees sockets.
   */
  async stop (): Promise<void> {
    this.running = false
    this.nudge()
    await this.loop
    let timer: NodeJS.Timeout | undefined
    const drained = await Promise.race([
      Promise.all(this.inFlight).then(() => true),
      new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), this.drainMs) })
    ])
    clearTimeout(timer)
    if (!drained) {
      this.options.log.warn({ attempts: this.inFlight.size, drainMs: this.drainMs }, 'stopping: abandoning the attempts still waiting on their receivers; they go back to the queue')
      this.abandon.abort()
      await Promise.all(this.inFlight)
    }
    this.settleIdleWaiters(Number.POSITIVE_INFINITY)
    this.agents.http.destroy()
    this.agents.https.destroy()
  }

  /**
   * Resolves once the worker has nothing to do: a claim pass begun after this call found no due
   * delivery and no attempt was in flight, so everything due by then has been sent and recorded
   * (a retry scheduled for later is not due, nor is a delivery held back by its endpoint: paused
   * by the circuit breaker, waiting for rate-limit tokens, or at its cap on another instance). Looks at once rather than at the next poll. For
   * operators and tests; resolves at once when the worker is not running.
   */
  async idle (): Promise<void> {
    if (!this.running) return
    await new Promise<void>((resolve) => {
      this.idleWaiters.push({ after: this.passes, resolve })
      this.nudge()
    })
  }

  /** Looks at the queue now: ends the loop's current sleep, or makes its next one return at once. */
  nudge (): void {
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
          claimed = await claimDueDeliveries(this.options.orm.em.fork(), free, this.leaseMs, { perEndpoint: this.perEndpoint, breakerFailures: this.breaker.failures })
        } catch (error) {
          failed = true
          // Logged on the 1st, 2nd, 4th, 8th… failure in a row, and retried less and less often
          // (up to every 5 s): a database outage must not flood the log.
          failures++
          if (Number.isInteger(Math.log2(failures))) this.options.log.error({ err: error, failures }, 'could not claim deliveries')
        }
        if (!failed) failures = 0
        this.roomToSpare = !failed && claimed.length < free
        for (const delivery of claimed) this.track(this.deliver(delivery))
        if (!failed && claimed.length === 0 && this.inFlight.size === 0) this.settleIdleWaiters(pass)
      } else {
        this.roomToSpare = false
      }
      if (!this.running) break
      // Every slot filled: more may be due, so look again as soon as one frees up. Otherwise the
      // queue is drained (or the database is down): wait until the next retry is due, at most the
      // poll interval (or the backoff); a nudge or an attempt ending cuts the wait short. A pass
      // that claimed something skips asking when the next retry is due: its attempts' ends bring
      // the next pass, which asks if it finds nothing (a round trip saved per pass under load).
      const busy = free === 0 || (claimed.length === free && !failed)
      const idle = failed
        ? Math.min(this.pollIntervalMs * 2 ** Math.min(failures, 5), 5_000)
        : claimed.length > 0 ? this.pollIntervalMs : await this.untilNextDue()
      await this.sleep(busy ? Number.POSITIVE_INFINITY : idle)
    }
  }

  /** The poll interval, or less when a retry falls due sooner. */
  private async untilNextDue (): Promise<number> {
    try {
      const ms = await nextDueInMs(this.options.orm.em.fork())
      return ms === null ? this.pollIntervalMs : Math.max(0, Math.min(ms, this.pollIntervalMs))
    } catch (error) {
      // Only asked after a claim succeeded, so this is no outage flooding the log.
      this.options.log.warn({ err: error }, 'could not read when the next retry is due; polling instead')
      return this.pollIntervalMs
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

  /**
   * Records an attempt, batched like the ingest path's group commit: one batch is written at a
   * time, and every attempt that ends meanwhile joins the next, so the database sees one
   * statement per batch rather than per attempt however many are in flight.
   */
  private record (attempt: AttemptToRecord): Promise<RecordedAttempt> {
    return new Promise((resolve, reject) => {
      this.unrecorded.push({ attempt, resolve, reject })
      this.recording ??= this.writeBatches()
    })
  }

  private async writeBatches (): Promise<void> {
    while (this.unrecorded.length > 0) {
      const batch = this.unrecorded
      this.unrecorded = []
      try {
        const recorded = await this.recordNow(batch.map((entry) => entry.attempt))
        batch.forEach((entry, i) => entry.resolve(recorded[i] as RecordedAttempt))
      } catch (error) {
        if (batch.length === 1) (batch[0] as typeof batch[0]).reject(error)
        // One attempt the database refuses must not take its batch-mates down with it: each alone.
        else await Promise.all(batch.map(async (entry) => await this.recordNow([entry.attempt]).then(([recorded]) => entry.resolve(recorded as RecordedAttempt), entry.reject)))
      }
    }
    this.recording = null
  }

  private async recordNow (attempts: AttemptToRecord[]): Promise<RecordedAttempt[]> {
    return await recordAttempts(this.options.orm.em.fork(), attempts, this.options.schedule, { disableAfterMs: this.options.disableAfterMs, leaseMs: this.leaseMs })
  }

  /** An attempt abandoned at stop: its outcome unknown, it is not recorded, and its lease is released for any instance to send it again. */
  private async handBack (delivery: ClaimedDelivery): Promise<undefined> {
    try {
      await releaseLease(this.options.orm.em.fork(), delivery)
      this.options.log.info({ deliveryId: delivery.id, endpointId: delivery.endpointId, attempt: delivery.attempt }, 'webhook attempt abandoned at stop; back in the queue')
    } catch (error) {
      this.options.log.error({ deliveryId: delivery.id, err: error }, 'could not release an abandoned attempt\'s lease; it lapses instead')
    }
    return undefined
  }

  /** Attempts a delivery, then each one handed off to its slot, until none is. */
  private async deliver (claimed: ClaimedDelivery): Promise<void> {
    let next: ClaimedDelivery | undefined = claimed
    while (next !== undefined) next = await this.attempt(next)
  }

  /** One attempt, recorded; answers the delivery handed off to this slot, if any. */
  private async attempt (delivery: ClaimedDelivery): Promise<ClaimedDelivery | undefined> {
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
    const result = await sendWebhook(delivery.url, delivery.body, headers, { timeoutMs: Math.min(delivery.timeoutMs, this.timeoutMs), allowPrivateUrls: this.options.allowPrivateUrls, agents: this.agents, signal: this.abandon.signal })
    if (this.abandon.signal.aborted && result.statusCode === null) return await this.handBack(delivery)
    // The URL is not logged: a query string can carry the receiver's own token.
    const context = { deliveryId: delivery.id, endpointId: delivery.endpointId, attempt: delivery.attempt, statusCode: result.statusCode, latencyMs: result.latencyMs }
    // Once recorded, a delivery handed to this slot is this worker's lease: it is sent whatever
    // else below goes wrong, rather than left to lapse.
    let handedOff: ClaimedDelivery | undefined
    try {
      const recorded = await this.record({ claimed: delivery, result, attemptedAt, handOff: this.running && this.roomToSpare })
      handedOff = recorded.handedOff
      if (recorded.recorded) this.attemptsMade++
      this.options.observer?.attempted(delivery, result, recorded, attemptedAt)
      if (!recorded.recorded) log.warn(context, 'delivery lease lost before the attempt was recorded; another worker owns it')
      else if (recorded.next.status === 'succeeded') log.debug(context, 'webhook delivered')
      else log.info({ ...context, error: result.error, next: recorded.next.status }, 'webhook attempt failed')
      if (recorded.transition === 'failing') log.warn({ endpointId: delivery.endpointId }, 'webhook endpoint is failing: retries exhausted, alert raised')
      if (recorded.transition === 'disabled') log.warn({ endpointId: delivery.endpointId, statusCode: result.statusCode }, 'webhook endpoint disabled: the receiver answered 410 Gone, or it has been failing for LOOP_DISABLE_AFTER')
      if (recorded.transition === 'active') log.info({ endpointId: delivery.endpointId }, 'webhook endpoint recovered: a delivery succeeded again')
      const succeeded = recorded.next.status === 'succeeded'
      if (recorded.recorded && (!succeeded || delivery.endpointFailures > 0)) {
        const change = await recordEndpointHealth(this.options.orm.em.fork(), delivery.endpointId, succeeded, this.breaker)
        if (change === 'opened') log.warn({ endpointId: delivery.endpointId, failures: this.breaker.failures, cooldownMs: this.breaker.cooldownMs }, 'webhook endpoint paused: circuit breaker open')
        else if (change === 'reopened') log.info({ endpointId: delivery.endpointId, cooldownMs: this.breaker.cooldownMs }, 'webhook endpoint probe failed: paused again')
        else if (change === 'closed') log.info({ endpointId: delivery.endpointId }, 'webhook endpoint answered: circuit breaker closed')
      }
    } catch (error) {
      // The lease will lapse and the attempt be made again: at least once, never silently lost.
      log.error({ ...context, err: error }, 'could not record a webhook attempt')
    }
    return handedOff
  }
}
