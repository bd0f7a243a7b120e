// The delivery queue, in PostgreSQL. The webhook_delivery row is the job, and the log: it is
// written in the event's own transaction (fan-out.ts), so there is one source of truth and no
// second system to keep in step. Workers claim due rows with FOR UPDATE SKIP LOCKED and a lease
// (`locked_until`, `claim_token`): a claim is atomic, so two instances never take the same attempt;
// a worker that dies mid-send simply lets its lease lapse and the attempt is made again.
import type { EntityManager } from '@mikro-orm/postgresql'
import { scheduleNextAttempt, type NextState } from './schedule.ts'
import type { SendResult } from './send.ts'
import { raiseEndpointFailing, type FailedDeliverySummary } from './alerts.ts'
import { announceRecovered, disableEndpoint } from './lifecycle.ts'
import { sql } from '../db/sql.ts'

export interface ClaimedDelivery {
  id: string
  claimToken: string
  endpointId: string
  messageId: string
  eventType: string
  body: string
  /** The number this attempt will be recorded under (attempts made so far + 1). */
  attempt: number
  manualRetry: boolean
  url: string
  secret: string
  /** Still signing beside the new secret during the 24 hours after a rotation; null otherwise. */
  previousSecret: string | null
  /** The endpoint's own attempt timeout (1–30 s). */
  timeoutMs: number
  /** The endpoint's custom headers, sent with Loop's own; the values are never logged. */
  headers: Record<string, string>
  /** The endpoint's status when claimed: a success on a `failing` one makes it `active` and announces it. */
  endpointStatus: 'active' | 'failing'
  /** Since when a `failing` endpoint has been failing: past LOOP_DISABLE_AFTER, a failure disables it. */
  failingSince: Date | null
  /** The endpoint's failed attempts in a row when this was claimed (the circuit breaker's count). */
  endpointFailures: number
  /** The traceparent of the span that queued it (tracing on), which its attempt's span continues. */
  traceParent: string | null
}

interface ClaimRow {
  id: string
  claim_token: string
  endpoint_id: string
  message_id: string
  event_type: string
  body: string
  attempt_count: number
  manual_retry: boolean
  url: string
  secret: string
  previous_secret: string | null
  timeout_ms: number
  headers: Record<string, string>
  endpoint_status: 'active' | 'failing'
  failing_since: Date | null
  consecutive_failures: number
  trace_parent: string | null
}

/** How much of the queue one endpoint may hold at once, across every instance. */
export interface ClaimLimits {
  /** Attempts in flight per endpoint (counted by unexpired lease, whichever instance holds it). */
  perEndpoint: number
  /** Failed attempts in a row that open the circuit breaker: then one attempt at a time, a probe. */
  breakerFailures: number
}

export const DEFAULT_CLAIM_LIMITS: ClaimLimits = { perEndpoint: 4, breakerFailures: 5 }

// What a claim answers of each delivery it leased (d) and its endpoint (e): a ClaimRow.
const claimedColumns = `d.id, d.claim_token, d.endpoint_id, d.message_id, d.event_type, d.body, d.attempt_count, d.manual_retry,
  e.url, e.secret, case when e.previous_secret_expires_at > now() then e.previous_secret end as previous_secret,
  e.timeout_ms, e.headers, e.status as endpoint_status, e.failing_since, e.consecutive_failures, d.trace_parent`

// Step 1 of a claim: lock the endpoints that have due work and are not paused by the circuit
// breaker. SKIP LOCKED: an endpoint another instance is claiming for right now is left to that
// one. NO KEY UPDATE does not wait for, nor hold off, fan-out's FOR KEY SHARE (lib/outbound/fan-out.ts).
const lockReadySql = `
  select e.id from webhook_endpoint e
   where e.status <> 'disabled' and (e.paused_until is null or e.paused_until <= now())
     and exists (select 1 from webhook_delivery q
                  where q.endpoint_id = e.id and q.status = 'pending' and q.next_attempt_at <= now()
                    and (q.locked_until is null or q.locked_until <= now()))
     for no key update of e skip locked`

// Step 2, in the same transaction and so with a snapshot taken once the endpoints are locked:
// every lease taken for them before is visible, and no other claimer can add one until commit,
// so an endpoint's free slots are exact across instances. Each endpoint offers its oldest due
// deliveries up to its free slots; the offers are taken in turns (every endpoint's first, then
// every endpoint's second, …) until this worker's free slots are filled: one endpoint's backlog
// never stands in front of another's first delivery. An endpoint whose breaker has opened (and
// whose cool-down has passed) gets one slot: a single probe. A FIFO endpoint gets one slot and
// offers only its head, the pending delivery accepted first: while the head is in flight or
// waiting for its retry, nothing of that endpoint is sent. A rate-limited endpoint also takes no
// more than the whole tokens in its bucket (rate_limit tokens at most, refilled at rate_limit a
// second), and pays for what it takes in the same statement: the endpoint lock makes the bucket
// one for every instance. An endpoint's leases are counted newest first and no further than the
// cap: every claim and record leaves a dead index entry behind, and a full count (a bitmap scan)
// would visit all of them on every pass, never marking them dead; this scan stops at the cap and
// marks what it passes, so a busy queue's claims stay cheap (36 ms to 7 ms a pass, 20,000 queued).
const claimSql = `
  with bucket as (
    select e.id, e.consecutive_failures, e.ordering,
           case when e.rate_limit is not null then least(e.rate_limit::float8,
             coalesce(e.rate_tokens, e.rate_limit) + extract(epoch from now() - coalesce(e.rate_updated_at, now())) * e.rate_limit) end as tokens
      from webhook_endpoint e where e.id = any(?::uuid[])
  ), ready as (
    select b.id, b.tokens,
           least(case when b.consecutive_failures >= ? or b.ordering = 'fifo' then 1 else ?::int end
                   - (select count(*)::int from (select from webhook_delivery f where f.endpoint_id = b.id and f.locked_until > now()
                                                  order by f.locked_until desc limit ?) f),
                 coalesce(floor(b.tokens)::int, 2147483647)) as slots,
           case when b.ordering = 'fifo' then (select min(h.seq) from webhook_delivery h where h.endpoint_id = b.id and h.status = 'pending') end as head
      from bucket b
  ), offered as (
    select o.id, r.id as endpoint_id, o.next_attempt_at, row_number() over (partition by r.id order by o.next_attempt_at, o.id) as turn
      from ready r cross join lateral (
        select q.id, q.next_attempt_at from webhook_delivery q
         where q.endpoint_id = r.id and q.status = 'pending' and q.next_attempt_at <= now()
           and (q.locked_until is null or q.locked_until <= now()) and (r.head is null or q.seq = r.head)
         order by q.next_attempt_at limit greatest(r.slots, 0)
           for update of q skip locked) o
  ), chosen as (
    select id, endpoint_id from offered order by turn, next_attempt_at limit ?
  ), spent as (
    update webhook_endpoint e set rate_tokens = r.tokens - c.taken, rate_updated_at = now()
      from ready r, (select endpoint_id, count(*) as taken from chosen group by endpoint_id) c
     where r.tokens is not null and c.endpoint_id = r.id and e.id = r.id
  )
  update webhook_delivery d
     set locked_until = now() + ? * interval '1 millisecond', claim_token = gen_random_uuid()
    from chosen c, webhook_endpoint e
   where d.id = c.id and e.id = d.endpoint_id
  returning ${claimedColumns}`

/**
 * Claims up to `limit` due deliveries for `leaseMs`, rotating across endpoints and leaving each
 * endpoint at most `limits.perEndpoint` attempts in flight. The lease must outlast a whole attempt
 * (timeout included) so a slow attempt is never taken over while it is still running.
 */
export async function claimDueDeliveries (em: EntityManager, limit: number, leaseMs: number, limits: Partial<ClaimLimits> = {}): Promise<ClaimedDelivery[]> {
  const { perEndpoint, breakerFailures } = { ...DEFAULT_CLAIM_LIMITS, ...limits }
  const rows = await em.transactional(async (tx) => {
    const ready = await sql<{ id: string }>(tx, lockReadySql)
    if (ready.length === 0) return []
    return await sql<ClaimRow>(tx, claimSql, [ready.map((r) => r.id), breakerFailures, perEndpoint, perEndpoint, limit, leaseMs])
  })
  return rows.map(claimedDelivery)
}

function claimedDelivery (r: ClaimRow): ClaimedDelivery {
  return {
    id: r.id,
    claimToken: r.claim_token,
    endpointId: r.endpoint_id,
    messageId: r.message_id,
    eventType: r.event_type,
    body: r.body,
    attempt: r.attempt_count + 1,
    manualRetry: r.manual_retry,
    url: r.url,
    secret: r.secret,
    previousSecret: r.previous_secret,
    timeoutMs: r.timeout_ms,
    headers: r.headers,
    endpointStatus: r.endpoint_status,
    failingSince: r.failing_since === null ? null : new Date(r.failing_since),
    endpointFailures: r.consecutive_failures,
    traceParent: r.trace_parent
  }
}

/**
 * Gives a claimed delivery back without an attempt: its lease released (if still this claim's),
 * it is due again as it was, for whichever instance claims next. For an attempt whose outcome
 * is unknown because the worker stopped waiting for it; the receiver may have seen it, and will
 * see it again under the same webhook-id.
 */
export async function releaseLease (em: EntityManager, claimed: Pick<ClaimedDelivery, 'id' | 'claimToken'>): Promise<void> {
  await sql(em, 'update webhook_delivery set locked_until = null, claim_token = null where id = ? and claim_token = ?', [claimed.id, claimed.claimToken])
}

/**
 * How long (ms) until the next delivery waiting for a retry becomes due, a paused endpoint's
 * cool-down ends, or an empty rate-limit bucket holds a token again; null when nothing is waiting. A worker that caught up sleeps until then rather
 * than a whole poll interval. Measured on the database's clock, which set those times.
 */
export async function nextDueInMs (em: EntityManager): Promise<number | null> {
  const [row] = await sql<{ ms: number | null }>(em,
    `select ceil(extract(epoch from least(
       -- 'infinity': a disabled endpoint's parked deliveries (lib/outbound/endpoints.ts), due never
       (select min(next_attempt_at) from webhook_delivery where status = 'pending' and next_attempt_at > now() and next_attempt_at < 'infinity'),
       (select min(paused_until) from webhook_endpoint where paused_until > now()),
       (select min(refilled) from (select rate_updated_at + (1 - rate_tokens) / rate_limit * interval '1 second' as refilled
                                     from webhook_endpoint where rate_limit is not null and rate_tokens < 1) r where refilled > now())
     ) - now()) * 1000)::float8 as ms`)
  return row?.ms ?? null
}

/** The circuit breaker's settings: failed attempts in a row that open it, and its cool-down. */
export interface BreakerSettings { failures: number, cooldownMs: number }

export type BreakerChange = 'opened' | 'reopened' | 'closed' | null

/**
 * Counts an attempt's outcome against its endpoint's circuit breaker. The Nth failure in a row
 * pauses the endpoint for the cool-down (no instance claims for it); after it, one probe is made,
 * and its failure pauses it again. A success closes the breaker. Called for every failure, and
 * for a success only when the claim saw failures (so a healthy endpoint costs no write).
 */
export async function recordEndpointHealth (em: EntityManager, endpointId: string, succeeded: boolean, breaker: BreakerSettings): Promise<BreakerChange> {
  if (succeeded) {
    const closed = await sql(em,
      'update webhook_endpoint set consecutive_failures = 0, paused_until = null where id = ? and consecutive_failures > 0 returning paused_until',
      [endpointId])
    return closed.length > 0 ? 'closed' : null
  }
  const [row] = await sql<{ consecutive_failures: number }>(em,
    `update webhook_endpoint
        set consecutive_failures = consecutive_failures + 1,
            paused_until = case when consecutive_failures + 1 >= ? then now() + ? * interval '1 millisecond' else paused_until end
      where id = ? returning consecutive_failures`,
    [breaker.failures, breaker.cooldownMs, endpointId])
  if (row === undefined || row.consecutive_failures < breaker.failures) return null
  return row.consecutive_failures === breaker.failures ? 'opened' : 'reopened'
}

export interface RecordedAttempt {
  recorded: boolean
  next: NextState
  /**
   * What this attempt made of its endpoint: `failing` (retries exhausted, alert raised), `disabled`
   * (410 Gone, or failing for LOOP_DISABLE_AFTER), `active` again (a success while failing), or nothing.
   */
  transition: 'failing' | 'disabled' | 'active' | null
  /** The endpoint's next due delivery, leased in the same statement when the attempt asked for a hand-off and one was ready. */
  handedOff?: ClaimedDelivery
}

export interface RecordOptions {
  /** LOOP_DISABLE_AFTER: a failure on an endpoint failing at least this long disables it. */
  disableAfterMs?: number
  /** The lease of a delivery handed off to a finished attempt's slot (AttemptToRecord.handOff); required for a hand-off. */
  leaseMs?: number
}

// One statement records a batch of attempts: each attempt's row, its delivery moved on and its
// lease released, and (after a success) a failing endpoint made active again, answering since when
// it had been failing (the self-join reads the row as it was). Atomic on its own, one round trip
// for every attempt that ended while the last batch was being written (the worker's group commit).
// The claim_token guard skips an attempt whose lease was taken over by another worker.
//
// The same statement hands each successful attempt that asks for it (`handoff`) its endpoint's
// next due delivery, leased at once: the slot goes straight on to the endpoint's next message
// rather than waiting for a claim pass. Only for an endpoint that a claim would give every slot
// it had anyway: active, breaker closed, not FIFO, no rate limit, not paused. The endpoint's
// leases are swapped one for one (never more taken than released), under FOR SHARE of the endpoint
// row, which a claimer's FOR NO KEY UPDATE SKIP LOCKED steps around: its cap holds across
// instances as a claim's does. An endpoint a claim is locking right now is skipped, not waited for.
const recordSql = `
  with input as (
    select * from jsonb_to_recordset(?::jsonb) as i(id uuid, claim_token uuid, attempt int, status text, retry_ms float8,
                                                    status_code int, error text, attempted_at timestamptz, latency_ms int, response_body text,
                                                    handoff boolean)
  ), moved as (
    update webhook_delivery d
       set attempt_count = i.attempt, status = i.status, manual_retry = false,
           next_attempt_at = case when i.retry_ms is not null then now() + i.retry_ms * interval '1 millisecond' else d.next_attempt_at end,
           locked_until = null, claim_token = null, last_status_code = i.status_code, last_error = i.error, updated_at = now()
      from input i
     where d.id = i.id and d.claim_token = i.claim_token
    returning d.id, d.endpoint_id, d.status
  ), attempt as (
    insert into webhook_attempt (delivery_id, attempt_number, attempted_at, status_code, latency_ms, error, response_body)
    select i.id, i.attempt, i.attempted_at, i.status_code, i.latency_ms, i.error, i.response_body from input i join moved m on m.id = i.id
  ), recovered as (
    update webhook_endpoint e set status = 'active', failing_since = null, updated_at = now()
      from webhook_endpoint was
     where e.status = 'failing' and e.id in (select endpoint_id from moved where status = 'succeeded') and was.id = e.id
    returning e.id, was.failing_since
  ), giving as (
    select m.endpoint_id, count(*)::int as slots from input i join moved m on m.id = i.id
     where i.handoff and m.status = 'succeeded' group by m.endpoint_id
  ), open as (
    select e.id, g.slots from webhook_endpoint e join giving g on g.endpoint_id = e.id
     where e.status = 'active' and e.consecutive_failures = 0 and e.ordering <> 'fifo' and e.rate_limit is null
       and (e.paused_until is null or e.paused_until <= now())
       for share of e skip locked
  ), taken as (
    select q.id from open o cross join lateral (
      select q.id from webhook_delivery q
       where q.endpoint_id = o.id and q.status = 'pending' and q.next_attempt_at <= now()
         and (q.locked_until is null or q.locked_until <= now()) and q.id not in (select id from input)
       order by q.next_attempt_at limit o.slots
         for update of q skip locked) q
  ), handed as (
    update webhook_delivery d
       set locked_until = now() + ? * interval '1 millisecond', claim_token = gen_random_uuid()
      from taken t, webhook_endpoint e
     where d.id = t.id and e.id = d.endpoint_id
    returning ${claimedColumns}
  )
  select m.id, r.failing_since as recovered_from, null::jsonb as handed from moved m left join recovered r on r.id = m.endpoint_id and m.status = 'succeeded'
  union all
  select h.id, null, to_jsonb(h) from handed h`

/** One attempt made, to be recorded: what was claimed, what the receiver did, and when it was sent. */
export interface AttemptToRecord {
  claimed: ClaimedDelivery
  result: SendResult
  attemptedAt: Date
  /** After a success, lease the endpoint's next due delivery to this attempt's slot in the same statement (see recordSql). */
  handOff?: boolean
}

interface PlannedAttempt extends AttemptToRecord {
  next: NextState
  /** It may change its endpoint (retries exhausted, 410, failing too long, a success while failing): a transaction of its own. */
  transitional: boolean
  exhausted: boolean
  /** LOOP_DISABLE_AFTER, when this failure comes that long after its endpoint began failing: it disables the endpoint. */
  overdueAfterMs: number | null
}

function plan (attempt: AttemptToRecord, schedule: readonly number[], options: RecordOptions): PlannedAttempt {
  const { claimed, result, attemptedAt } = attempt
  const next = scheduleNextAttempt({ outcome: result, attempt: claimed.attempt, manualRetry: claimed.manualRetry, schedule })
  const exhausted = next.status === 'failed' && next.exhausted
  const overdueAfterMs = next.status !== 'succeeded' && options.disableAfterMs !== undefined && claimed.endpointStatus === 'failing' &&
    claimed.failingSince !== null && attemptedAt.getTime() - claimed.failingSince.getTime() >= options.disableAfterMs
    ? options.disableAfterMs
    : null
  const recovering = next.status === 'succeeded' && claimed.endpointStatus === 'failing'
  return { ...attempt, next, exhausted, overdueAfterMs, transitional: exhausted || overdueAfterMs !== null || recovering || next.status === 'gone' }
}

interface Written {
  /** Per delivery recorded: since when its endpoint had been failing (null: it was not). */
  recoveredFrom: Map<string, Date | null>
  /** The deliveries handed off, by endpoint. */
  handed: Map<string, ClaimedDelivery[]>
}

/** It asked for a hand-off and may have one: a success, on an endpoint healthy when claimed, that changes nothing of it. */
const handsOff = (attempt: PlannedAttempt) => attempt.handOff === true && !attempt.transitional && attempt.next.status === 'succeeded' &&
  attempt.claimed.endpointFailures === 0 && attempt.claimed.endpointStatus === 'active'

/** Writes the attempts in one statement, handing off what they may have. */
async function writeAttempts (em: EntityManager, attempts: readonly PlannedAttempt[], options: RecordOptions): Promise<Written> {
  if (options.leaseMs === undefined && attempts.some(handsOff)) throw new Error('a hand-off needs the lease (RecordOptions.leaseMs)')
  const input = attempts.map((attempt) => {
    const { claimed, result, attemptedAt, next } = attempt
    return {
      id: claimed.id,
      claim_token: claimed.claimToken,
      attempt: claimed.attempt,
      // A 410's delivery stays pending: disableEndpoint parks it with the endpoint's others.
      status: next.status === 'gone' ? 'pending' : next.status,
      retry_ms: next.status === 'pending' ? next.retryInMs : null,
      status_code: result.statusCode,
      error: result.error,
      attempted_at: attemptedAt.toISOString(),
      latency_ms: result.latencyMs,
      response_body: result.responseBody,
      handoff: handsOff(attempt)
    }
  })
  const rows = await sql<{ id: string, recovered_from: Date | null, handed: ClaimRow | null }>(em, recordSql, [JSON.stringify(input), options.leaseMs ?? 0])
  const written: Written = { recoveredFrom: new Map(), handed: new Map() }
  for (const row of rows) {
    if (row.handed === null) {
      written.recoveredFrom.set(row.id, row.recovered_from == null ? null : new Date(row.recovered_from))
      continue
    }
    const delivery = claimedDelivery(row.handed)
    written.handed.set(delivery.endpointId, [...(written.handed.get(delivery.endpointId) ?? []), delivery])
  }
  return written
}

const summary = ({ claimed, result }: AttemptToRecord): FailedDeliverySummary =>
  ({ deliveryId: claimed.id, eventType: claimed.eventType, attempts: claimed.attempt, statusCode: result.statusCode, error: result.error })

/**
 * Records attempts and what follows from each: the attempt row, the delivery's next state, the
 * endpoint's transitions and their messages (and, when the retries ran out, the alert). Nothing is
 * written for an attempt whose lease was lost to another worker: that one makes and records the
 * attempt itself. The attempts that cannot change their endpoint (nearly all) share one statement;
 * each one that may change it pays for a transaction of its own. Answers in the order given.
 */
export async function recordAttempts (em: EntityManager, attempts: readonly AttemptToRecord[], schedule: readonly number[], options: RecordOptions = {}): Promise<RecordedAttempt[]> {
  const planned = attempts.map((attempt) => plan(attempt, schedule, options))
  const plain = planned.filter((attempt) => !attempt.transitional)
  const written: Written = plain.length > 0 ? await writeAttempts(em, plain, options) : { recoveredFrom: new Map(), handed: new Map() }
  const announced = new Set<string>()
  const results: RecordedAttempt[] = []
  for (const attempt of planned) {
    const { claimed, next } = attempt
    if (attempt.transitional) {
      results.push(await recordTransition(em, attempt, options))
      continue
    }
    const recoveredFrom = written.recoveredFrom.get(claimed.id)
    // The endpoint's handed-off deliveries go to its attempts that asked, one each, in order.
    const handedOff = handsOff(attempt) && recoveredFrom !== undefined ? written.handed.get(claimed.endpointId)?.shift() : undefined
    const handed = handedOff === undefined ? {} : { handedOff }
    if (recoveredFrom == null || announced.has(claimed.endpointId)) {
      results.push({ recorded: recoveredFrom !== undefined, next, transition: null, ...handed })
      continue
    }
    // It turned failing after this claim (another delivery ran out of retries) and recovered at
    // once: announced right after, in a transaction of its own, once however many succeeded.
    announced.add(claimed.endpointId)
    await em.transactional(async (tx) => await announceRecovered(tx, claimed.endpointId, recoveredFrom, summary(attempt)))
    results.push({ recorded: true, next, transition: 'active', ...handed })
  }
  return results
}

async function recordTransition (em: EntityManager, attempt: PlannedAttempt, options: RecordOptions): Promise<RecordedAttempt> {
  const { claimed, next } = attempt
  const cause = summary(attempt)
  return await em.transactional(async (tx): Promise<RecordedAttempt> => {
    const recoveredFrom = (await writeAttempts(tx, [attempt], options)).recoveredFrom.get(claimed.id)
    if (recoveredFrom === undefined) return { recorded: false, next, transition: null }
    if (recoveredFrom !== null) {
      await announceRecovered(tx, claimed.endpointId, recoveredFrom, cause)
      return { recorded: true, next, transition: 'active' }
    }
    if (next.status === 'gone') {
      const disabled = await disableEndpoint(tx, claimed.endpointId, { reason: 'gone', delivery: cause })
      return { recorded: true, next, transition: disabled ? 'disabled' : null }
    }
    const alerted = attempt.exhausted && await raiseEndpointFailing(tx, claimed.endpointId, cause)
    if (attempt.overdueAfterMs !== null && await disableEndpoint(tx, claimed.endpointId, { reason: 'failing', delivery: cause, disableAfterMs: attempt.overdueAfterMs })) {
      return { recorded: true, next, transition: 'disabled' }
    }
    return { recorded: true, next, transition: alerted ? 'failing' : null }
  })
}
