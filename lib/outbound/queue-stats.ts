// What the delivery queue and the endpoints look like right now, for /metrics and /ready
// (docs/operations.md#metrics). Read on demand (a scrape, a probe), never on a timer. Only pending
// rows are counted, through the pending-only index (webhook_delivery_due_idx): settled deliveries,
// which retention keeps for days, are history, and their throughput is the attempts counter's.
import type { EntityManager } from '@mikro-orm/postgresql'
import { sql } from '../db/sql.ts'

/** Pending deliveries by where they stand; the four are disjoint and add up to every pending row. */
export interface QueueDepth {
  /** Due now and not claimed: waiting for a worker (or for a paused or rate-limited endpoint). */
  due: number
  /** Claimed by a worker whose lease has not lapsed: being sent. */
  inFlight: number
  /** Waiting for a retry that is not due yet. */
  scheduled: number
  /** Parked with their disabled endpoint until it is enabled again (due 'infinity'). */
  parked: number
}

/** Endpoints by state; `paused` (the circuit breaker holds it) is taken out of active and failing. */
export interface EndpointCounts { active: number, failing: number, paused: number, disabled: number }

export interface QueueSnapshot {
  depth: QueueDepth
  /** How long the oldest due, unclaimed delivery has waited since it fell due, ms; null when none is due. */
  oldestDueAgeMs: number | null
  endpoints: EndpointCounts
}

// "Due and unclaimed" is the claim's own test (lib/outbound/queue.ts): next_attempt_at has come and
// no lease holds it. The database's clock decides, as it set those times.
const unclaimed = '(locked_until is null or locked_until <= now())'
const oldestDue = `extract(epoch from now() - min(next_attempt_at) filter (where next_attempt_at <= now() and ${unclaimed})) * 1000`

const snapshotSql = `
  with q as (
    select count(*) filter (where next_attempt_at <= now() and ${unclaimed})::int as due,
           count(*) filter (where locked_until > now())::int as in_flight,
           count(*) filter (where next_attempt_at > now() and next_attempt_at < 'infinity' and ${unclaimed})::int as scheduled,
           count(*) filter (where next_attempt_at = 'infinity' and ${unclaimed})::int as parked,
           ${oldestDue}::float8 as oldest_due_ms
      from webhook_delivery where status = 'pending'
  ), e as (
    select count(*) filter (where status = 'disabled')::int as disabled,
           count(*) filter (where status <> 'disabled' and paused_until > now())::int as paused,
           count(*) filter (where status = 'active' and (paused_until is null or paused_until <= now()))::int as active,
           count(*) filter (where status = 'failing' and (paused_until is null or paused_until <= now()))::int as failing
      from webhook_endpoint
  )
  select * from q, e`

interface SnapshotRow {
  due: number
  in_flight: number
  scheduled: number
  parked: number
  oldest_due_ms: number | null
  disabled: number
  paused: number
  active: number
  failing: number
}

const ageMs = (ms: number | null | undefined): number | null => ms == null ? null : Math.max(0, Math.round(ms))

/** The queue's depth by state, its oldest due delivery's age and the endpoints by state, in one statement. */
export async function queueSnapshot (em: EntityManager): Promise<QueueSnapshot> {
  const [row] = await sql<SnapshotRow>(em, snapshotSql)
  if (row === undefined) throw new Error('the queue snapshot returned no row')
  return {
    depth: { due: row.due, inFlight: row.in_flight, scheduled: row.scheduled, parked: row.parked },
    oldestDueAgeMs: ageMs(row.oldest_due_ms),
    endpoints: { active: row.active, failing: row.failing, paused: row.paused, disabled: row.disabled }
  }
}

/** Only the oldest due delivery's age (ms, or null): what /ready reports, found through the index. */
export async function oldestDueAgeMs (em: EntityManager): Promise<number | null> {
  const [row] = await sql<{ ms: number | null }>(em, `select ${oldestDue}::float8 as ms from webhook_delivery where status = 'pending'`)
  return ageMs(row?.ms)
}
