// Fan-out (the outbox): inside the transaction that stores an event (or a signal, an issue change,
// an alert), one query finds the endpoints that may receive it and one insert per message queues
// a delivery for each. Commit makes the event and its deliveries visible together; rollback drops
// both.
import type { EntityManager } from '@mikro-orm/postgresql'
import type { SqlClient } from '../db/raw-connection.ts'
import { messageBody, type OutboundMessage } from './message.ts'
import { subscribes } from './subscriptions.ts'

export interface CandidateRow { id: string, events: string[], scopes: string[] }

/** Who may receive a set of messages: one env and brand (see OutboundMessage). */
export type Audience = Pick<OutboundMessage, 'env' | 'brandId' | 'excludeEndpointId'>
export type MessageContent = Pick<OutboundMessage, 'id' | 'type' | 'createdAt' | 'dataJson'>

/**
 * Queues each message for every matching endpoint of the audience; returns how many deliveries
 * were queued. Call it with the EntityManager of the transaction that stores what the messages
 * report. No endpoint list is cached: an indexed query per call stays correct across instances
 * without any invalidation.
 */
export async function enqueueMessages (em: EntityManager, audience: Audience, messages: readonly MessageContent[]): Promise<number> {
  // dev is validated and stored but never delivered (docs/tenancy.md).
  if (audience.env === 'dev' || messages.length === 0) return 0
  const connection = em.getConnection()
  const ctx = em.getTransactionContext()
  // A brandless message reaches brandless endpoints only; a brand's reaches its own and brandless
  // ones. FOR KEY SHARE holds off a concurrent DELETE of a candidate until this transaction ends,
  // so a delivery is never inserted for an endpoint deleted in between (a foreign-key failure that
  // would roll back the event itself); status changes do not wait on it.
  const candidates = await connection.execute<CandidateRow[]>(
    `select id, events, scopes from webhook_endpoint
      where env = ? and status <> 'disabled' and (brand_id is null or brand_id = ?)
      for key share`,
    [audience.env, audience.brandId], 'all', ctx
  )
  let queued = 0
  for (const message of messages) {
    const targets = targetsOf(candidates, audience, message.type)
    if (targets.length === 0) continue
    const dataJson = typeof message.dataJson === 'string' ? message.dataJson : await message.dataJson()
    // One multi-row insert; the body is one parameter, serialized once, stored per delivery.
    const inserted = await connection.execute<unknown[]>(
      `insert into webhook_delivery (endpoint_id, message_id, event_type, body)
       select endpoint_id, ?, ?, ? from unnest(array[?]::uuid[]) as endpoint_id
       on conflict on constraint webhook_delivery_message_unique do nothing returning 1`,
      [message.id, message.type, messageBody({ ...message, dataJson }), targets], 'all', ctx
    )
    queued += inserted.length
  }
  return queued
}

function targetsOf (candidates: readonly CandidateRow[], audience: Audience, type: string): string[] {
  return candidates.filter((e) => e.id !== audience.excludeEndpointId && subscribes(e, type)).map((e) => e.id)
}

/**
 * The candidates of enqueueMessages for signals and issues (brandless, live), as a subquery the
 * group commit (lib/ingest) runs inside its insert statement, saving a round trip per batch.
 */
export const brandlessLiveCandidatesSql = `select id, events, scopes from webhook_endpoint
  where env = 'live' and status <> 'disabled' and brand_id is null
  for key share`

/**
 * enqueueMessages for the group commit, on the plain pg client of its transaction, given the
 * candidates it already selected (brandlessLiveCandidatesSql): the same rules, and one insert for
 * every delivery of every message in the batch.
 */
export async function enqueueForCandidates (client: SqlClient, candidates: readonly CandidateRow[], audience: Audience, messages: readonly MessageContent[]): Promise<number> {
  const endpointIds: string[] = []
  const messageIds: string[] = []
  const types: string[] = []
  const bodies: string[] = []
  for (const message of messages) {
    const targets = targetsOf(candidates, audience, message.type)
    if (targets.length === 0) continue
    const dataJson = typeof message.dataJson === 'string' ? message.dataJson : await message.dataJson()
    const body = messageBody({ ...message, dataJson })
    for (const target of targets) {
      endpointIds.push(target)
      messageIds.push(message.id)
      types.push(message.type)
      bodies.push(body)
    }
  }
  if (endpointIds.length === 0) return 0
  const { rowCount } = await client.query(
    `insert into webhook_delivery (endpoint_id, message_id, event_type, body)
     select * from unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[])
     on conflict on constraint webhook_delivery_message_unique do nothing`,
    [endpointIds, messageIds, types, bodies]
  )
  return rowCount ?? 0
}

/** enqueueMessages for one message. */
export async function enqueueDeliveries (em: EntityManager, message: OutboundMessage): Promise<number> {
  return await enqueueMessages(em, message, [message])
}
