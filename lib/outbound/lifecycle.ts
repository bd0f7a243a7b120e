// An endpoint's automatic transitions besides `failing` (alerts.ts), made in the transaction that
// records the attempt causing them (docs/webhooks.md#endpoint-lifecycle): a 410 Gone disables it at
// once, so does a failed attempt once it has been failing for LOOP_DISABLE_AFTER, and a success
// makes a failing one active again. Each is announced as an operational message (webhook.disabled,
// webhook.recovered) to the endpoints of its brand subscribed to it; only turning `failing` is also
// a signal and an issue (SPEC section 8): a disable follows an alert already raised, and a recovery
// needs nobody. Disabling parks its pending deliveries, as a PATCH to `disabled` does; a PATCH back
// to `active` sends them.
import { randomUUID } from 'node:crypto'
import type { EntityManager } from '@mikro-orm/postgresql'
import { parkPendingDeliveries } from './endpoints.ts'
import { enqueueDeliveries } from './fan-out.ts'
import type { FailedDeliverySummary } from './alerts.ts'
import { sql } from '../db/sql.ts'

export type DisableCause =
  /** The receiver answered 410 Gone. */
  | { reason: 'gone', delivery: FailedDeliverySummary }
  /** It has been failing for at least `disableAfterMs` (LOOP_DISABLE_AFTER) and failed again. */
  | { reason: 'failing', delivery: FailedDeliverySummary, disableAfterMs: number }

interface EndpointRow { id: string, url: string, env: 'live' | 'test', brand_id: string | null, description: string | null, failing_since: Date | null }

const endpointData = (row: EndpointRow, status: 'active' | 'disabled') => ({
  id: row.id, url: row.url, env: row.env, brandId: row.brand_id, description: row.description, status
})

/**
 * Disables the endpoint and announces it, unless it already is disabled (a 410) or is no longer
 * failing for long enough (the window): the conditional UPDATE is the once-only gate, so attempts
 * recorded at once disable it once. Returns whether this call disabled it.
 */
export async function disableEndpoint (em: EntityManager, endpointId: string, cause: DisableCause): Promise<boolean> {
  const [endpoint] = cause.reason === 'gone'
    ? await sql<EndpointRow>(em,
      `update webhook_endpoint set status = 'disabled', updated_at = now() where id = ? and status <> 'disabled'
       returning id, url, env, brand_id, description, failing_since`, [endpointId])
    : await sql<EndpointRow>(em,
      `update webhook_endpoint set status = 'disabled', updated_at = now()
        where id = ? and status = 'failing' and failing_since <= now() - ? * interval '1 millisecond'
       returning id, url, env, brand_id, description, failing_since`, [endpointId, cause.disableAfterMs])
  if (endpoint === undefined) return false
  await parkPendingDeliveries(em, endpointId, true)
  const { delivery } = cause
  await enqueueDeliveries(em, {
    id: randomUUID(),
    type: 'webhook.disabled',
    createdAt: new Date().toISOString(),
    dataJson: JSON.stringify({
      endpoint: { ...endpointData(endpoint, 'disabled'), failingSince: endpoint.failing_since === null ? null : new Date(endpoint.failing_since).toISOString() },
      reason: cause.reason,
      delivery: { id: delivery.deliveryId, eventType: delivery.eventType, attempts: delivery.attempts, lastStatusCode: delivery.statusCode, lastError: delivery.error }
    }),
    env: endpoint.env,
    brandId: endpoint.brand_id,
    excludeEndpointId: endpoint.id
  })
  return true
}

/**
 * Announces that the endpoint, `failing` since `failingSince`, is active again after `delivery`
 * succeeded (recordAttempt made the change). The endpoint itself hears it too if it subscribes:
 * it answers again.
 */
export async function announceRecovered (em: EntityManager, endpointId: string, failingSince: Date, delivery: Pick<FailedDeliverySummary, 'deliveryId' | 'eventType'>): Promise<void> {
  const [endpoint] = await sql<EndpointRow>(em, 'select id, url, env, brand_id, description, failing_since from webhook_endpoint where id = ?', [endpointId])
  if (endpoint === undefined) return
  await enqueueDeliveries(em, {
    id: randomUUID(),
    type: 'webhook.recovered',
    createdAt: new Date().toISOString(),
    dataJson: JSON.stringify({
      endpoint: endpointData(endpoint, 'active'),
      failingSince: new Date(failingSince).toISOString(),
      delivery: { id: delivery.deliveryId, eventType: delivery.eventType }
    }),
    env: endpoint.env,
    brandId: endpoint.brand_id
  })
}
