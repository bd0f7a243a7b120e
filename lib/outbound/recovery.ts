// Recovering a window (docs/webhooks.md#recovering-a-window): after a receiver's outage, its
// failed deliveries of that time get one more attempt each, as a manual retry gives one. Bounded
// as Svix bounds it, 14 days and 10,000 deliveries a request; more is refused whole (422), never
// cut short, so what the answer counts is everything the window held.
import type { EntityManager } from '@mikro-orm/postgresql'
import type { components } from '../../generated/openapi.ts'
import { conflict, notFound, validationError, type ValidationIssue } from '../errors.ts'
import { ownerSql } from '../tenancy/caller.ts'
import { findEndpoint, type WebhookCaller } from './endpoints.ts'
import { sql } from '../db/sql.ts'
import { notifyDeliveryWorkers } from './fan-out.ts'

export type RecoverWebhookRequest = components['schemas']['RecoverWebhookRequest']
export type RecoverWebhooksRequest = components['schemas']['RecoverWebhooksRequest']
export type WebhookRecovery = components['schemas']['WebhookRecovery']

export const RECOVERY_MAX_WINDOW_MS = 14 * 24 * 60 * 60 * 1000
export const RECOVERY_MAX_DELIVERIES = 10_000

export interface RecoveryWindow { since: Date, until: Date }

const DAY_MS = 24 * 60 * 60 * 1000

/** The window a request asks for (until defaults to now), or the issues that make it unusable. */
export function recoveryWindow (input: { since: string, until?: string | undefined }, now: Date): RecoveryWindow | ValidationIssue[] {
  const since = new Date(input.since)
  const until = input.until === undefined ? now : new Date(input.until)
  if (until.getTime() <= since.getTime()) {
    return input.until === undefined
      ? [{ path: 'since', message: 'must be in the past (until is now when left out)', code: 'custom' }]
      : [{ path: 'until', message: 'must be later than since', code: 'custom' }]
  }
  const width = until.getTime() - since.getTime()
  if (width > RECOVERY_MAX_WINDOW_MS) {
    const days = Math.round((width / DAY_MS) * 10) / 10
    return [{ path: 'since', message: `the window may be at most 14 days wide; this one is ${days} days: recover it in parts`, code: 'too_big' }]
  }
  return { since, until }
}

function windowOrThrow (input: { since: string, until?: string | undefined }): RecoveryWindow {
  const window = recoveryWindow(input, new Date())
  if (Array.isArray(window)) throw validationError(window)
  return window
}

/**
 * One statement: the endpoints as the caller owns them (disabled ones left out), their failed
 * deliveries of the window, counted up to one past the limit, and all of them re-queued only when
 * the limit holds. The update re-checks `status`, so a delivery retried by hand meanwhile is
 * counted once and left as it is.
 */
async function requeueFailed (em: EntityManager, caller: WebhookCaller, endpointIds: readonly string[] | null, window: RecoveryWindow): Promise<WebhookRecovery> {
  const owner = ownerSql(caller, 'e')
  const [row] = await sql<{ matched: number, requeued: number }>(em,
    `with endpoints as (
       select e.id from webhook_endpoint e
        where (?::uuid[] is null or e.id = any(?::uuid[])) and e.status <> 'disabled' and ${owner.sql}
     ), matched as (
       select d.id from webhook_delivery d
        where d.endpoint_id in (select id from endpoints) and d.status = 'failed' and d.created_at >= ? and d.created_at < ?
        limit ?
     ), requeued as (
       update webhook_delivery d
          set status = 'pending', manual_retry = true, next_attempt_at = now(), updated_at = now()
        where d.id in (select id from matched) and d.status = 'failed' and (select count(*) from matched) <= ?
       returning 1
     )
     select (select count(*) from matched)::int as matched, (select count(*) from requeued)::int as requeued`,
    [endpointIds, endpointIds, ...owner.params, window.since, window.until, RECOVERY_MAX_DELIVERIES + 1, RECOVERY_MAX_DELIVERIES]
  )
  if (row === undefined) throw new Error('the recovery statement returned no row')
  if (row.matched > RECOVERY_MAX_DELIVERIES) {
    throw validationError([{
      path: 'since',
      message: `this window holds more than ${RECOVERY_MAX_DELIVERIES.toLocaleString('en-US')} failed deliveries (at most ${RECOVERY_MAX_DELIVERIES.toLocaleString('en-US')} a request): nothing was re-queued; recover it in narrower windows`,
      code: 'too_big'
    }])
  }
  // Committed (one statement): the workers start on them now rather than at their next poll.
  if (row.requeued > 0) await notifyDeliveryWorkers(em)
  return { requeued: row.requeued, since: window.since.toISOString(), until: window.until.toISOString() }
}

/** Re-queues one endpoint's failed deliveries of the window; 404 when the caller cannot see it, 409 while disabled. */
export async function recoverEndpoint (em: EntityManager, endpointId: string, input: RecoverWebhookRequest, caller: WebhookCaller): Promise<WebhookRecovery> {
  const window = windowOrThrow(input)
  const endpoint = await findEndpoint(em, endpointId, caller)
  if (endpoint.status === 'disabled') throw conflict('This endpoint is disabled; enable it to recover its deliveries')
  return await requeueFailed(em, caller, [endpointId], window)
}

/**
 * The console's form: the listed endpoints, or every endpoint the caller can see. Disabled ones
 * are skipped; an id the caller cannot see is a 404, as it is one at a time.
 */
export async function recoverEndpoints (em: EntityManager, input: RecoverWebhooksRequest, caller: WebhookCaller): Promise<WebhookRecovery> {
  const window = windowOrThrow(input)
  const endpointIds = input.endpointIds ?? null
  if (endpointIds !== null) {
    const owner = ownerSql(caller, 'e')
    const found = await sql<{ id: string }>(em, `select e.id from webhook_endpoint e where e.id = any(?::uuid[]) and ${owner.sql}`, [endpointIds, ...owner.params])
    const seen = new Set(found.map((r) => r.id.toLowerCase()))
    const missing = endpointIds.find((id) => !seen.has(id.toLowerCase()))
    if (missing !== undefined) throw notFound(`Webhook endpoint ${missing} not found`)
  }
  return await requeueFailed(em, caller, endpointIds, window)
}
