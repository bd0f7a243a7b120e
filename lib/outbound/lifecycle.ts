// An endpoint's automatic transitions besides `failing` (alerts.ts), made in the transaction that
// records the attempt causing them (docs/webhooks.md#endpoint-lifecycle): a 410 Gone disables it at
// once. Disabling parks its pending deliveries, as a PATCH to `disabled` does; a PATCH back to
// `active` sends them.
import type { EntityManager } from '@mikro-orm/postgresql'
import { parkPendingDeliveries } from './endpoints.ts'
import { sql } from '../db/sql.ts'

/**
 * Disables the endpoint unless it already is: the conditional UPDATE is the once-only gate, so two
 * attempts answered 410 at once disable it once. Returns whether this call disabled it.
 */
export async function disableEndpoint (em: EntityManager, endpointId: string): Promise<boolean> {
  const [endpoint] = await sql<{ id: string }>(em,
    "update webhook_endpoint set status = 'disabled', updated_at = now() where id = ? and status <> 'disabled' returning id",
    [endpointId]
  )
  if (endpoint === undefined) return false
  await parkPendingDeliveries(em, endpointId, true)
  return true
}
