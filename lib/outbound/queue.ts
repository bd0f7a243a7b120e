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
}

/**
 * Claims up to `limit` due deliveries for `leaseMs`. The lease must outlast a whole attempt
 * (timeout included) so a slow attempt is never taken over while it is still running.
 */
export async function claimDueDeliveries (em: EntityManager, limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
  const rows = await sql<ClaimRow>(em,
    `update webhook_delivery d
        set locked_until = now() + ? * interval '1 millisecond', claim_token = gen_random_uuid()
       from webhook_endpoint e
      where e.id = d.endpoint_id
        and d.id in (
          select q.id from webhook_delivery q join webhook_endpoint qe on qe.id = q.endpoint_id
           where q.status = 'pending' and q.next_attempt_at <= now()
             and (q.locked_until is null or q.locked_until <= now())
             and qe.status <> 'disabled'
           order by q.next_attempt_at
           limit ?
           for update of q skip locked)
      returning d.id, d.claim_token, d.endpoint_id, d.message_id, d.event_type, d.body, d.attempt_count, d.manual_retry,
                e.url, e.secret, case when e.previous_secret_expires_at > now() then e.previous_secret end as previous_secret,
                e.timeout_ms, e.headers, e.status as endpoint_status, e.failing_since`,
    [leaseMs, limit]
  )
  return rows.map((r) => ({
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
    failingSince: r.failing_since === null ? null : new Date(r.failing_since)
  }))
}

export interface RecordedAttempt {
  recorded: boolean
  next: NextState
  /**
   * What this attempt made of its endpoint: `failing` (retries exhausted, alert raised), `disabled`
   * (410 Gone, or failing for LOOP_DISABLE_AFTER), `active` again (a success while failing), or nothing.
   */
  transition: 'failing' | 'disabled' | 'active' | null
}

export interface RecordOptions {
  /** LOOP_DISABLE_AFTER: a failure on an endpoint failing at least this long disables it. */
  disableAfterMs?: number
}

// One statement records the attempt, moves the delivery on and releases its lease, and (after a
// success) makes a failing endpoint active again, answering since when it had been failing (the
// self-join reads the row as it was): atomic on its own, one round trip per attempt. The
// claim_token guard makes it a no-op for a worker whose lease was taken over.
const recordSql = `
  with moved as (
    update webhook_delivery
       set attempt_count = ?, status = ?, manual_retry = false,
           next_attempt_at = case when ? then now() + ? * interval '1 millisecond' else next_attempt_at end,
           locked_until = null, claim_token = null, last_status_code = ?, last_error = ?, updated_at = now()
     where id = ? and claim_token = ?
    returning id, endpoint_id
  ), attempt as (
    insert into webhook_attempt (delivery_id, attempt_number, attempted_at, status_code, latency_ms, error, response_body)
    select id, ?, ?, ?, ?, ?, ? from moved
  ), recovered as (
    update webhook_endpoint e set status = 'active', failing_since = null, updated_at = now()
      from webhook_endpoint was
     where ? and e.status = 'failing' and e.id in (select endpoint_id from moved) and was.id = e.id
    returning was.failing_since
  )
  select (select count(*) from moved)::int as recorded, (select failing_since from recovered) as recovered_from`

/**
 * Records one attempt and what follows from it: the attempt row, the delivery's next state, the
 * endpoint's transitions and their messages (and, when the retries ran out, the alert), in the same
 * transaction. Nothing is written when the lease was lost to another worker: that one makes and
 * records the attempt itself. Only an attempt that may change its endpoint pays for a transaction.
 */
export async function recordAttempt (em: EntityManager, claimed: ClaimedDelivery, result: SendResult, attemptedAt: Date, schedule: readonly number[], options: RecordOptions = {}): Promise<RecordedAttempt> {
  const next = scheduleNextAttempt({ outcome: result, attempt: claimed.attempt, manualRetry: claimed.manualRetry, schedule })
  const record = async (tx: EntityManager): Promise<{ recorded: boolean, recoveredFrom: Date | null }> => {
    const [row] = await sql<{ recorded: number, recovered_from: Date | null }>(tx, recordSql, [
      // A 410's delivery stays pending: disableEndpoint parks it with the endpoint's others.
      claimed.attempt, next.status === 'gone' ? 'pending' : next.status, next.status === 'pending', next.status === 'pending' ? next.retryInMs : 0,
      result.statusCode, result.error, claimed.id, claimed.claimToken,
      claimed.attempt, attemptedAt, result.statusCode, result.latencyMs, result.error, result.responseBody,
      next.status === 'succeeded'
    ])
    return { recorded: row?.recorded === 1, recoveredFrom: row?.recovered_from == null ? null : new Date(row.recovered_from) }
  }
  const cause: FailedDeliverySummary = { deliveryId: claimed.id, eventType: claimed.eventType, attempts: claimed.attempt, statusCode: result.statusCode, error: result.error }
  const exhausted = next.status === 'failed' && next.exhausted
  const overdue = next.status !== 'succeeded' && options.disableAfterMs !== undefined && claimed.endpointStatus === 'failing' &&
    claimed.failingSince !== null && attemptedAt.getTime() - claimed.failingSince.getTime() >= options.disableAfterMs
  const recovering = next.status === 'succeeded' && claimed.endpointStatus === 'failing'
  if (!exhausted && !overdue && !recovering && next.status !== 'gone') {
    const { recorded, recoveredFrom } = await record(em)
    if (recoveredFrom === null) return { recorded, next, transition: null }
    // It turned failing after this claim (another delivery ran out of retries) and recovered at
    // once: announced right after, in a transaction of its own.
    await em.transactional(async (tx) => await announceRecovered(tx, claimed.endpointId, recoveredFrom, cause))
    return { recorded, next, transition: 'active' }
  }
  return await em.transactional(async (tx): Promise<RecordedAttempt> => {
    const { recorded, recoveredFrom } = await record(tx)
    if (!recorded) return { recorded: false, next, transition: null }
    if (recoveredFrom !== null) {
      await announceRecovered(tx, claimed.endpointId, recoveredFrom, cause)
      return { recorded, next, transition: 'active' }
    }
    if (next.status === 'gone') {
      const disabled = await disableEndpoint(tx, claimed.endpointId, { reason: 'gone', delivery: cause })
      return { recorded, next, transition: disabled ? 'disabled' : null }
    }
    const alerted = exhausted && await raiseEndpointFailing(tx, claimed.endpointId, cause)
    if (overdue && options.disableAfterMs !== undefined && await disableEndpoint(tx, claimed.endpointId, { reason: 'failing', delivery: cause, disableAfterMs: options.disableAfterMs })) {
      return { recorded, next, transition: 'disabled' }
    }
    return { recorded, next, transition: alerted ? 'failing' : null }
  })
}
