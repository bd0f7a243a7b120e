// Retention (docs/operations.md#retention): what Loop no longer needs is deleted, by one instance
// at a time. Settled webhook deliveries (succeeded or failed) with their bodies and attempts go
// LOOP_RETENTION_DAYS after they settled; idempotency keys go once their 24 hours are over, and
// brand portal links a week after they expired. Each
// statement deletes at most a batch (1,000 rows) and commits on its own, so no run holds many row
// locks or one long transaction, and the batches repeat until one comes back short.
import type { EntityManager } from '@mikro-orm/postgresql'
import { purgeExpiredIdempotencyKeys } from '../idempotency/idempotency-key.ts'
import { purgeExpiredPortalLinks } from '../portal/portal-link.ts'
import { sql } from '../db/sql.ts'

export const RETENTION_BATCH_SIZE = 1000

/** The advisory lock one retention run holds: instances sharing a database take turns on it. */
export const RETENTION_LOCK = 'loop:retention'

export interface RetentionOptions {
  retentionDays: number
  batchSize?: number
  /** Stops between batches (the app is closing); what was deleted stays deleted. */
  signal?: AbortSignal
}

export interface RetentionRun {
  /** false: another instance held the lock, so this one did nothing. */
  leader: boolean
  deliveries: number
  idempotencyKeys: number
  portalLinks: number
}

/**
 * Runs `work` while holding the retention lock, or not at all when another session holds it. The
 * lock is transaction-level (pg_try_advisory_xact_lock) in a transaction that does nothing else
 * and stays open for the run: it ends with the run, or with the connection if the process dies,
 * so a crashed leader never blocks the others. `work` writes through other connections (each
 * batch commits on its own), never through this transaction.
 */
export async function withRetentionLock<T> (em: EntityManager, work: () => Promise<T>): Promise<{ locked: true, value: T } | { locked: false }> {
  return await em.fork().transactional(async (tx) => {
    const [row] = await sql<{ locked: boolean }>(tx, 'select pg_try_advisory_xact_lock(hashtextextended(?, 0)) as locked', [RETENTION_LOCK])
    if (row?.locked !== true) return { locked: false as const }
    return { locked: true as const, value: await work() }
  })
}

/** Repeats `batch` (which deletes at most `size` rows and says how many) until one is short. */
async function inBatches (batch: () => Promise<number>, size: number, signal: AbortSignal | undefined): Promise<number> {
  let total = 0
  while (signal?.aborted !== true) {
    const deleted = await batch()
    total += deleted
    if (deleted < size) break
  }
  return total
}

/**
 * Deletes up to `limit` deliveries settled more than `retentionDays` ago, oldest first (the
 * settled index); their attempts go with them (on delete cascade). `skip locked`: a row a
 * recovery or a manual retry is changing right now is left for the next run.
 */
export async function pruneSettledDeliveries (em: EntityManager, retentionDays: number, limit: number): Promise<number> {
  const [row] = await sql<{ pruned: number }>(em,
    `with settled as (
       select id from webhook_delivery
        where status in ('succeeded', 'failed') and updated_at < now() - ? * interval '1 day'
        order by updated_at limit ? for update skip locked
     ), pruned as (
       delete from webhook_delivery d using settled s where d.id = s.id returning 1
     )
     select count(*)::int as pruned from pruned`,
    [retentionDays, limit]
  )
  return row?.pruned ?? 0
}

/** One retention run: everything that is due, if this instance gets the lock. */
export async function runRetention (em: EntityManager, options: RetentionOptions): Promise<RetentionRun> {
  const size = options.batchSize ?? RETENTION_BATCH_SIZE
  const held = await withRetentionLock(em, async () => ({
    deliveries: await inBatches(async () => await pruneSettledDeliveries(em.fork(), options.retentionDays, size), size, options.signal),
    idempotencyKeys: await inBatches(async () => await purgeExpiredIdempotencyKeys(em.fork(), size), size, options.signal),
    portalLinks: await inBatches(async () => await purgeExpiredPortalLinks(em.fork(), size), size, options.signal)
  }))
  return held.locked ? { leader: true, ...held.value } : { leader: false, deliveries: 0, idempotencyKeys: 0, portalLinks: 0 }
}
