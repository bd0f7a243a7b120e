// The alert when an endpoint starts failing (docs/webhooks.md#delivery-schedule): raised once per transition to
// `failing`, in the transaction that records the attempt which exhausted the retries. It is a
// webhook.failing message to the endpoints subscribed to it, and a high-severity signal (source
// `loop`) with its triage issue, so people and agents see it where they see every other alert.
// Both belong to the endpoint's brand and env (docs/tenancy.md).
import { randomUUID } from 'node:crypto'
import type { EntityManager } from '@mikro-orm/postgresql'
import { recordSignal } from '../ingest/signal-batch.ts'
import { clipTitle } from '../severity/signal-mapping.ts'
import { enqueueDeliveries } from './fan-out.ts'
import { sql } from '../db/sql.ts'

export interface FailedDeliverySummary {
  deliveryId: string
  eventType: string
  attempts: number
  statusCode: number | null
  error: string | null
}

interface FlippedRow { id: string, url: string, env: 'live' | 'test', brand_id: string | null, description: string | null, failing_since: Date }

/**
 * Marks the endpoint `failing` and raises the alert, only if it was `active`: the conditional
 * UPDATE is the once-only gate, so concurrent exhausted deliveries raise a single alert. Returns
 * whether this call raised it.
 */
export async function raiseEndpointFailing (em: EntityManager, endpointId: string, delivery: FailedDeliverySummary): Promise<boolean> {
  const [endpoint] = await sql<FlippedRow>(em,
    `update webhook_endpoint set status = 'failing', failing_since = now(), updated_at = now()
      where id = ? and status = 'active' returning id, url, env, brand_id, description, failing_since`,
    [endpointId]
  )
  if (endpoint === undefined) return false
  const failingSince = new Date(endpoint.failing_since).toISOString()
  const lastDelivery = { id: delivery.deliveryId, eventType: delivery.eventType, attempts: delivery.attempts, lastStatusCode: delivery.statusCode, lastError: delivery.error }
  const data = {
    endpoint: { id: endpoint.id, url: endpoint.url, env: endpoint.env, brandId: endpoint.brand_id, description: endpoint.description, status: 'failing', failingSince },
    delivery: lastDelivery
  }
  // The failing endpoint is not told about itself: it is the one not answering.
  await enqueueDeliveries(em, {
    id: randomUUID(),
    type: 'webhook.failing',
    createdAt: failingSince,
    dataJson: JSON.stringify(data),
    env: endpoint.env,
    brandId: endpoint.brand_id,
    excludeEndpointId: endpoint.id
  })
  // Signals are readable with signals:read alone, so they name the destination by its origin:
  // a webhook URL's path or query often carries the receiver's own token.
  const origin = new URL(endpoint.url).origin
  const outcome = delivery.statusCode !== null ? `HTTP ${delivery.statusCode}` : (delivery.error ?? 'no response')
  // The alert is the endpoint's owner's: that brand (and the operator) sees it, no other brand.
  await recordSignal(em, {
    source: 'loop',
    owner: { brandId: endpoint.brand_id, env: endpoint.env },
    // One signal per transition: the delivery that exhausted its retries names it.
    deliveryId: `webhook-failing:${delivery.deliveryId}`,
    raw: Buffer.from(JSON.stringify({ endpoint: { id: endpoint.id, origin, env: endpoint.env, brandId: endpoint.brand_id, failingSince }, delivery: lastDelivery })),
    mapping: {
      severity: 'high',
      type: 'webhook.failing',
      sourceId: endpoint.id,
      title: clipTitle(`Loop: webhook endpoint failing: ${origin} (${delivery.eventType}, ${delivery.attempts} attempts, last ${outcome})`),
      description: [
        `Outbound webhook endpoint \`${endpoint.id}\` (${endpoint.env}${endpoint.description !== null ? `, ${endpoint.description}` : ''}) at ${origin} stopped accepting deliveries.`,
        '',
        `- last delivery: \`${delivery.deliveryId}\` (${delivery.eventType}), ${delivery.attempts} attempts, last ${outcome}`,
        `- delivery log: \`GET /api/webhooks/${endpoint.id}/deliveries\``,
        `- once the receiver is fixed, resend: \`POST /api/webhooks/${endpoint.id}/deliveries/${delivery.deliveryId}/retry\``
      ].join('\n')
    }
  })
  return true
}
