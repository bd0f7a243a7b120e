// Delivery health from the delivery log (docs/webhooks.md#delivery-health): the overview of what a
// caller owns (events accepted, attempts succeeded and failed, the queue) and one endpoint's
// success rate, latency percentiles and attempts histogram, in a fixed number of time buckets.
// Each is one statement with the owner in it: the overview reads only the caller's events and
// endpoints; an endpoint the caller may not see answers 404 from the same statement.
//
// Attempts are found through their delivery: an attempt is recorded in the statement that sets
// its delivery's updated_at to now(), so a delivery with an attempt in the window has updated_at
// in it too, and webhook_delivery (endpoint_id, updated_at) bounds the scan to the window
// (test/lib/db/list-plans.test.ts checks the plans).
import type { EntityManager } from '@mikro-orm/postgresql'
import type { components } from '../../generated/openapi.ts'
import { notFound } from '../errors.ts'
import { sql } from '../db/sql.ts'
import { ownerSql, type Caller } from '../tenancy/caller.ts'

export type StatsWindow = components['schemas']['StatsWindow']
export type StatsOverview = components['schemas']['StatsOverview']
export type WebhookStats = components['schemas']['WebhookStats']

/** Every window is this many buckets: an hour of minutes, a day of 24-minute buckets. */
export const BUCKETS = 60
const bucketSeconds: Record<StatsWindow, number> = { '1h': 60, '1d': 1440 }
/** The attempts histogram's bins, 1 to this; the last one holds this many or more. */
export const HISTOGRAM_BINS = 6

// The window's buckets: the last one holds now (date_bin aligns them to the bucket width, so two
// calls in the same minute agree), the first starts BUCKETS - 1 widths before it. Parameters:
// the width (seconds) twice, the bucket count twice.
const bucketsSql = `
  bounds as (
    select make_interval(secs => ?) as width,
           date_bin(make_interval(secs => ?), now(), timestamptz '2000-01-01 00:00:00+00') as last
  ), window_ as (
    select width, last - (? - 1) * width as start from bounds
  ), buckets as (
    select g as i, w.start + g * w.width as at, least(w.start + (g + 1) * w.width, now()) as ends
      from window_ w, generate_series(0, ? - 1) g
  )`

// The window's start and width as scalar subqueries, not a joined CTE, for the buckets' arithmetic.
const start = '(select start from window_)'

// What bounds each index scan: a little more than the window (one more bucket), as now() less a
// bound parameter, which PostgreSQL estimates when it plans (the start above, an InitPlan, it
// could not, and it would plan for a third of the table). Rows before the first bucket fall out
// of the joins. Parameter: reachSeconds(window), once per use.
const since = 'now() - make_interval(secs => ?)'
const reachSeconds = (window: StatsWindow) => bucketSeconds[window] * (BUCKETS + 1)

/** A time's bucket number in the window (rows past the last bucket fall out of the joins). */
const bucketOf = (column: string) => `floor(extract(epoch from ${column} - ${start}) / (select extract(epoch from width) from window_))::int`

const windowParams = (window: StatsWindow) => [bucketSeconds[window], bucketSeconds[window], BUCKETS, BUCKETS]

const seconds = (value: unknown): number | null => value === null || value === undefined ? null : Math.max(0, Number(value))
const iso = (value: unknown): string => new Date(value as string | Date).toISOString()

type OverviewRow = {
  at: Date, events: number, succeeded: number, failed: number, queued: number, oldest_queued: number | string | null,
  pending: number, due: number, oldest_due: number | string | null, window_start: Date, window_until: Date
}

export async function statsOverview (em: EntityManager, caller: Caller, window: StatsWindow): Promise<StatsOverview> {
  const events = ownerSql(caller, 'e')
  const endpoints = ownerSql(caller, 'p')
  const rows = await sql<OverviewRow>(em, `
    with ${bucketsSql},
    endpoints as (select p.id from webhook_endpoint p where ${endpoints.sql}),
    accepted as (
      select ${bucketOf('e.received_at')} as i, count(*)::int as n
        from event e
       where ${events.sql} and e.received_at >= ${since}
       group by 1
    ), attempted as (
      select ${bucketOf('a.attempted_at')} as i,
             count(*) filter (where a.status_code between 200 and 299)::int as succeeded,
             count(*) filter (where a.status_code is null or a.status_code not between 200 and 299)::int as failed
        from endpoints p
        join webhook_delivery d on d.endpoint_id = p.id and d.updated_at >= ${since}
        join webhook_attempt a on a.delivery_id = d.id and a.attempted_at >= ${since}
       group by 1
    ), unsettled as (
      -- Deliveries not yet settled at some moment of the window: pending now, or settled in it.
      select d.created_at, timestamptz 'infinity' as settled_at
        from endpoints p join webhook_delivery d on d.endpoint_id = p.id and d.status = 'pending'
      union all
      select d.created_at, d.updated_at
        from endpoints p join webhook_delivery d on d.endpoint_id = p.id and d.updated_at >= ${since} and d.status <> 'pending'
    ), queued as (
      select k.i, count(*)::int as n, extract(epoch from max(k.ends - u.created_at)) as oldest
        from buckets k join unsettled u on u.created_at <= k.ends and u.settled_at > k.ends
       group by k.i
    ), queue as (
      select count(*)::int as pending,
             count(*) filter (where d.next_attempt_at <= now())::int as due,
             extract(epoch from now() - min(d.next_attempt_at) filter (where d.next_attempt_at <= now())) as oldest_due
        from endpoints p join webhook_delivery d on d.endpoint_id = p.id and d.status = 'pending'
    )
    select k.at, coalesce(ac.n, 0) as events, coalesce(att.succeeded, 0) as succeeded, coalesce(att.failed, 0) as failed,
           coalesce(qd.n, 0) as queued, qd.oldest as oldest_queued, q.pending, q.due, q.oldest_due,
           w.start as window_start, w.start + ${BUCKETS} * w.width as window_until
      from buckets k cross join window_ w cross join queue q
      left join accepted ac on ac.i = k.i left join attempted att on att.i = k.i left join queued qd on qd.i = k.i
     order by k.i`,
  [...windowParams(window), ...endpoints.params, ...events.params, ...Array<number>(4).fill(reachSeconds(window))])
  const first = rows[0]
  if (first === undefined) throw new Error('the window has no buckets')
  return {
    window,
    bucketSeconds: bucketSeconds[window],
    from: iso(first.window_start),
    until: iso(first.window_until),
    buckets: rows.map((row) => ({
      at: iso(row.at), events: row.events, succeeded: row.succeeded, failed: row.failed, queued: row.queued, oldestQueuedSeconds: seconds(row.oldest_queued)
    })),
    queue: { pending: first.pending, due: first.due, oldestDueSeconds: seconds(first.oldest_due) }
  }
}

type EndpointRow = {
  found: boolean, at: Date, attempts: number, succeeded: number, p50: number | null, p95: number | null,
  histogram: Array<{ attempts: number, succeeded: number, failed: number }>, window_start: Date, window_until: Date
}

export async function webhookStats (em: EntityManager, caller: Caller, endpointId: string, window: StatsWindow): Promise<WebhookStats> {
  const owner = ownerSql(caller, 'p')
  const rows = await sql<EndpointRow>(em, `
    with ${bucketsSql},
    endpoint as (select p.id from webhook_endpoint p where p.id = ? and ${owner.sql}),
    attempted as (
      select ${bucketOf('a.attempted_at')} as i, count(*)::int as attempts,
             count(*) filter (where a.status_code between 200 and 299)::int as succeeded,
             percentile_cont(0.5) within group (order by a.latency_ms) as p50,
             percentile_cont(0.95) within group (order by a.latency_ms) as p95
        from endpoint p
        join webhook_delivery d on d.endpoint_id = p.id and d.updated_at >= ${since}
        join webhook_attempt a on a.delivery_id = d.id and a.attempted_at >= ${since}
       group by 1
    ), settled as (
      select least(d.attempt_count, ${HISTOGRAM_BINS}) as attempts,
             count(*) filter (where d.status = 'succeeded')::int as succeeded,
             count(*) filter (where d.status = 'failed')::int as failed
        from endpoint p
        join webhook_delivery d on d.endpoint_id = p.id and d.updated_at >= ${since} and d.updated_at >= ${start}
         and d.status in ('succeeded', 'failed') and d.attempt_count > 0
       group by 1
    ), histogram as (
      select coalesce(json_agg(json_build_object('attempts', n, 'succeeded', coalesce(s.succeeded, 0), 'failed', coalesce(s.failed, 0)) order by n), '[]') as bins
        from generate_series(1, ${HISTOGRAM_BINS}) n left join settled s on s.attempts = n
    )
    select exists (select 1 from endpoint) as found, k.at, coalesce(att.attempts, 0) as attempts, coalesce(att.succeeded, 0) as succeeded,
           att.p50, att.p95, h.bins as histogram, w.start as window_start, w.start + ${BUCKETS} * w.width as window_until
      from buckets k cross join window_ w cross join histogram h
      left join attempted att on att.i = k.i
     order by k.i`,
  [...windowParams(window), endpointId, ...owner.params, ...Array<number>(3).fill(reachSeconds(window))])
  const first = rows[0]
  if (first?.found !== true) throw notFound(`Webhook endpoint ${endpointId} not found`)
  return {
    id: endpointId,
    window,
    bucketSeconds: bucketSeconds[window],
    from: iso(first.window_start),
    until: iso(first.window_until),
    buckets: rows.map((row) => ({
      at: iso(row.at),
      attempts: row.attempts,
      succeeded: row.succeeded,
      failed: row.attempts - row.succeeded,
      successRate: row.attempts === 0 ? null : row.succeeded / row.attempts,
      latencyP50Ms: row.p50 === null ? null : Number(row.p50),
      latencyP95Ms: row.p95 === null ? null : Number(row.p95)
    })),
    attemptsHistogram: first.histogram
  }
}
