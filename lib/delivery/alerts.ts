// The alert when an endpoint starts failing (SPEC section 8): raised once per transition to
// `failing`, in the transaction that records the attempt which exhausted the retries.
import { randomUUID } from 'node:crypto'
import type { EntityManager } from '@mikro-orm/postgresql'
import { enqueueDeliveries } from './fan-out.ts'

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
  const [endpoint] = await em.getConnection().execute<FlippedRow[]>(
    `update webhook_endpoint set status = 'failing', failing_since = now(), updated_at = now()
      where id = ? and status = 'active' returning id, url, env, brand_id, description, failing_since`,
    [endpointId], 'all', em.getTransactionContext()
  )
  if (endpoint === undefined) return false
  const failingSince = new Date(endpoint.failing_since).toISOString()
  const data = {
    endpoint: { id: endpoint.id, url: endpoint.url, env: endpoint.env, brandId: endpoint.brand_id, description: endpoint.description, status: 'failing', failingSince },
    delivery: { id: delivery.deliveryId, eventType: delivery.eventType, attempts: delivery.attempts, lastStatusCode: delivery.statusCode, lastError: delivery.error }
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
  return true
}
