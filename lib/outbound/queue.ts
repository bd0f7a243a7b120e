// The delivery queue, in PostgreSQL. The webhook_delivery row is the job, and the log: it is
// written in the event's own transaction (fan-out.ts), so there is one source of truth and no
// second system to keep in step. Workers claim due rows with FOR UPDATE SKIP LOCKED and a lease
// (`locked_until`, `claim_token`): a claim is atomic, so two instances never take the same attempt;
// a worker that dies mid-send simply lets its lease lapse and the attempt is made again.
import type { EntityManager } from '@mikro-orm/postgresql'
import { scheduleNextAttempt, type NextState } from './schedule.ts'
import type { SendResult } from './send.ts'
import { raiseEndpointFailing } from './alerts.ts'
import { disableEndpoint } from './lifecycle.ts'
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
  /** The endpoint's status when claimed: a success on a `failing` one makes it `active` and announces it. */
  endpointStatus: 'active' | 'failing'
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
  endpoint_status: 'active' | 'failing'
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
                e.timeout_ms, e.status as endpoint_status`,
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
    endpointStatus: r.endpoint_status
  }))
}

export interface RecordedAttempt {
  recorded: boolean
  next: NextState
  /** What this attempt made of its endpoint: `failing` (retries exhausted, alert raised), `disabled` (410 Gone), or nothing. */
  transition: 'failing' | 'disabled' | null
}

// One statement records the attempt, moves the delivery on and releases its lease, and (after a
// success) makes a failing endpoint active again: atomic on its own, one round trip per attempt.
// The claim_token guard makes it a no-op for a worker whose lease was taken over.
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
    update webhook_endpoint set status = 'active', failing_since = null, updated_at = now()
     where ? and status = 'failing' and id in (select endpoint_id from moved)
  )
  select count(*)::int as recorded from moved`

/**
 * Records one attempt and what follows from it: the attempt row, the delivery's next state, the
 * endpoint's transitions, and (when the retries ran out) the alert, in the same transaction.
 * Nothing is written when the lease was lost to another worker: that one makes and records the
 * attempt itself.
 */
export async function recordAttempt (em: EntityManager, claimed: ClaimedDelivery, result: SendResult, attemptedAt: Date, schedule: readonly number[]): Promise<RecordedAttempt> {
  const next = scheduleNextAttempt({ outcome: result, attempt: claimed.attempt, manualRetry: claimed.manualRetry, schedule })
  const record = async (tx: EntityManager): Promise<boolean> => {
    const [row] = await sql<{ recorded: number }>(tx, recordSql, [
      // A 410's delivery stays pending: disableEndpoint parks it with the endpoint's others.
      claimed.attempt, next.status === 'gone' ? 'pending' : next.status, next.status === 'pending', next.status === 'pending' ? next.retryInMs : 0,
      result.statusCode, result.error, claimed.id, claimed.claimToken,
      claimed.attempt, attemptedAt, result.statusCode, result.latencyMs, result.error, result.responseBody,
      next.status === 'succeeded'
    ])
    return row?.recorded === 1
  }
  const exhausted = next.status === 'failed' && next.exhausted
  if (!exhausted && next.status !== 'gone') return { recorded: await record(em), next, transition: null }
  return await em.transactional(async (tx) => {
    if (!await record(tx)) return { recorded: false, next, transition: null }
    if (next.status === 'gone') {
      const disabled = await disableEndpoint(tx, claimed.endpointId)
      return { recorded: true, next, transition: disabled ? 'disabled' : null }
    }
    const alerted = await raiseEndpointFailing(tx, claimed.endpointId, { deliveryId: claimed.id, eventType: claimed.eventType, attempts: claimed.attempt, statusCode: result.statusCode, error: result.error })
    return { recorded: true, next, transition: alerted ? 'failing' : null }
  })
}
