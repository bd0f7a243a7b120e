// Fan-out (the outbox): inside the transaction that stores an event (or a signal, an issue change,
// an alert), one query finds the endpoints that may receive its messages and one insert queues a
// delivery for each message and endpoint, however many messages there are. Commit makes the
// messages' subjects and their deliveries visible together; rollback drops both. The same
// statement NOTIFYs the delivery workers, so they look at the queue the moment it commits.
import type { EntityManager } from '@mikro-orm/postgresql'
import { sql } from '../db/sql.ts'
import { messageBody, type OutboundMessage } from './message.ts'
import { subscribes } from './subscriptions.ts'
import { currentTraceParent } from '../tracing/index.ts'

/**
 * The channel a transaction that made deliveries due NOTIFYs (delivered at its commit, once per
 * transaction however often it is sent): every instance's worker LISTENs on it and claims at once.
 */
export const deliveriesQueuedChannel = 'loop_deliveries_queued'

/** Wakes every instance's delivery worker once the current transaction commits. */
export async function notifyDeliveryWorkers (em: EntityManager): Promise<void> {
  await sql(em, 'select pg_notify(?, ?)', [deliveriesQueuedChannel, ''])
}

/** An endpoint that may receive some of the messages: its owner, env and subscription. */
export interface CandidateRow { id: string, env: string, brand_id: string | null, events: string[], scopes: string[] }

/** Who may receive a message: its env and brand (see OutboundMessage). */
export type Audience = Pick<OutboundMessage, 'env' | 'brandId'>

/**
 * The endpoints of the given envs and brands, with the brandless (operator's) ones of those envs:
 * candidateParams' two parameters. A subquery too, so a batch writer (lib/ingest) can select them
 * inside its insert statement, saving a round trip. FOR KEY SHARE holds off a concurrent DELETE of
 * a candidate until the transaction ends, so a delivery is never inserted for an endpoint deleted
 * in between (a foreign-key failure that would roll back the event itself); status changes do not
 * wait on it. No endpoint list is cached: an indexed query per transaction stays correct across
 * instances without any invalidation.
 */
export const candidatesSql = `select id, env, brand_id, events, scopes from webhook_endpoint
  where env = any(?::text[]) and status <> 'disabled' and (brand_id is null or brand_id = any(?::uuid[]))
  for key share`

/** candidatesSql's parameters for messages to these audiences. dev is stored but never delivered (docs/tenancy.md). */
export function candidateParams (audiences: Iterable<Audience>): [string[], string[]] {
  const envs = new Set<string>()
  const brands = new Set<string>()
  for (const { env, brandId } of audiences) {
    if (env === 'dev') continue
    envs.add(env)
    if (brandId !== null) brands.add(brandId)
  }
  return [[...envs], [...brands]]
}

/**
 * A brand's message reaches its own endpoints and the brandless ones of its env; a brandless
 * message reaches brandless endpoints only (docs/tenancy.md).
 */
function targetsOf (candidates: readonly CandidateRow[], message: OutboundMessage): string[] {
  if (message.env === 'dev') return []
  return candidates
    .filter((e) => e.env === message.env && (e.brand_id === null || e.brand_id === message.brandId) &&
      e.id !== message.excludeEndpointId && subscribes(e, message.type))
    .map((e) => e.id)
}

/**
 * Queues each message for every matching endpoint; returns how many deliveries were queued. Call
 * it with the EntityManager of the transaction that stores what the messages report, and with the
 * candidates when that transaction already selected them (candidatesSql).
 */
export async function enqueueMessages (em: EntityManager, messages: readonly OutboundMessage[], candidates?: readonly CandidateRow[]): Promise<number> {
  if (messages.every((m) => m.env === 'dev')) return 0
  candidates ??= await sql<CandidateRow>(em, candidatesSql, candidateParams(messages))
  if (candidates.length === 0) return 0
  const endpointIds: string[] = []
  const messageIds: string[] = []
  const types: string[] = []
  const bodies: string[] = []
  for (const message of messages) {
    const targets = targetsOf(candidates, message)
    if (targets.length === 0) continue
    // Serialized once per message, stored per delivery: the exact bytes every attempt signs.
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
  const [inserted] = await sql<{ queued: number }>(em,
    `with queued as (
       insert into webhook_delivery (endpoint_id, message_id, event_type, body, trace_parent)
       select *, ?::text from unnest(?::uuid[], ?::uuid[], ?::text[], ?::text[])
       on conflict on constraint webhook_delivery_message_unique do nothing returning 1
     ), notified as (select pg_notify(?, '') from queued limit 1)
     select (select count(*)::int from queued) as queued, (select count(*) from notified) as notified`,
    [currentTraceParent(), endpointIds, messageIds, types, bodies, deliveriesQueuedChannel]
  )
  return inserted?.queued ?? 0
}

/** enqueueMessages for one message. */
export async function enqueueDeliveries (em: EntityManager, message: OutboundMessage): Promise<number> {
  return await enqueueMessages(em, [message])
}
