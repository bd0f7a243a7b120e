// Fan-out (the outbox): inside the transaction that stores an event (or a signal, an issue change,
// an alert), one query finds the endpoints that may receive it and one insert queues a delivery
// for each. Commit makes the event and its deliveries visible together; rollback drops both.
import type { EntityManager } from '@mikro-orm/postgresql'
import { messageBody, type OutboundMessage } from './message.ts'
import { subscribes } from './subscriptions.ts'

interface CandidateRow { id: string, events: string[], scopes: string[] }

/**
 * Queues `message` for every matching endpoint; returns how many deliveries were queued. Call it
 * with the EntityManager of the transaction that stores what the message reports. No endpoint
 * list is cached: a per-event indexed query stays correct across instances without invalidation.
 */
export async function enqueueDeliveries (em: EntityManager, message: OutboundMessage): Promise<number> {
  // dev is validated and stored but never delivered (SPEC section 6).
  if (message.env === 'dev') return 0
  const connection = em.getConnection()
  const ctx = em.getTransactionContext()
  // A brandless message reaches brandless endpoints only; a brand's reaches its own and brandless ones.
  const candidates = await connection.execute<CandidateRow[]>(
    `select id, events, scopes from webhook_endpoint
      where env = ? and status <> 'disabled' and (brand_id is null or brand_id = ?)`,
    [message.env, message.brandId], 'all', ctx
  )
  const targets = candidates.filter((e) => e.id !== message.excludeEndpointId && subscribes(e, message.type)).map((e) => e.id)
  if (targets.length === 0) return 0
  // One multi-row insert; the body is one parameter, serialized once, stored per delivery.
  const inserted = await connection.execute<unknown[]>(
    `insert into webhook_delivery (endpoint_id, message_id, event_type, body)
     select endpoint_id, ?, ?, ? from unnest(array[?]::uuid[]) as endpoint_id
     on conflict on constraint webhook_delivery_message_unique do nothing returning 1`,
    [message.id, message.type, messageBody(message), targets], 'all', ctx
  )
  return inserted.length
}
