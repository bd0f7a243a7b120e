// POST /api/events as a service: validate against the declaration, store once per brand and
// eventId, and (with an Idempotency-Key already claimed) record the replayable response, all in
// one transaction.
import type { EntityManager } from '@mikro-orm/postgresql'
import type { components } from '../../generated/openapi.ts'
import { AppError, summarizeIssues } from '../errors.ts'
import { enqueueDeliveries } from '../delivery/fan-out.ts'
import type { EventTypeRegistry } from './registry.ts'
import { eventIssues } from './validate-event.ts'
import { completeIdempotencyKey, type IdempotencyScope } from '../idempotency/idempotency-key.ts'
import { sql } from '../db/sql.ts'
import type { Owner } from '../tenancy/caller.ts'

export type SendEventRequest = components['schemas']['SendEventRequest']
export type EventAccepted = components['schemas']['EventAccepted']
export type KeyEnv = 'live' | 'test' | 'dev'

/** Who is sending: the API key (or the key that declared an inbound route) and the owner it writes as. */
export interface EventCaller extends Owner { keyId: string | null }


/** The payload's own id, kept as text (a number id keeps its digits as JSON printed them). */
function payloadEventId (payload: Record<string, unknown>): string | null {
  const id = payload.eventId
  return typeof id === 'string' ? id : typeof id === 'number' ? String(id) : null
}

export async function validateEventRequest (em: EntityManager, registry: EventTypeRegistry, request: SendEventRequest, owner: Owner): Promise<void> {
  // The caller's brand's own types and the built-in ones: another brand's declaration is not there.
  const type = await registry.get(em, owner.brandId, request.event)
  // The SDK's validateEvent runs this same function, so both report the same issues.
  const issues = eventIssues(request.event, request.payload, type?.validate ?? null)
  if (issues.length === 0) return
  const message = type === null ? `event ${request.event} is not a declared event type` : summarizeIssues(issues, 'payload')
  throw new AppError(422, 'VALIDATION_ERROR', message, issues)
}

interface InsertedRow { id: string, received_at: Date }

/** Stores a validated event (or finds the one already stored for this brand, env and eventId). */
export async function storeEvent (em: EntityManager, name: string, payload: Record<string, unknown>, payloadText: string, caller: EventCaller, source: string, rawBody: string | null = null): Promise<EventAccepted> {
  const eventId = payloadEventId(payload)
  const inserted = await sql<InsertedRow>(em,
    `insert into event (name, event_id, payload, key_id, brand_id, env, source, raw_body) values (?, ?, ?::jsonb, ?, ?, ?, ?, ?)
     on conflict (brand_id, env, name, event_id) where event_id is not null do nothing returning id, received_at`,
    [name, eventId, payloadText, caller.keyId, caller.brandId, caller.env, source, rawBody]
  )
  const row = inserted[0]
  if (row !== undefined) {
    const receivedAt = new Date(row.received_at).toISOString()
    // Same transaction as the insert: the event and its outbound deliveries commit together. A
    // duplicate (the branch below) was fanned out when it was first stored, so it queues nothing.
    await enqueueDeliveries(em, { id: row.id, type: name, createdAt: receivedAt, dataJson: payloadText, env: caller.env, brandId: caller.brandId })
    return { ok: true, id: row.id, eventId, event: name, receivedAt }
  }
  const [existing] = await sql<InsertedRow & { name: string }>(em,
    'select id, name, received_at from event where brand_id is not distinct from ? and env = ? and name = ? and event_id = ?', [caller.brandId, caller.env, name, eventId]
  )
  if (existing === undefined) throw new Error('event vanished between conflict and read')
  return { ok: true, id: existing.id, eventId, event: existing.name, receivedAt: new Date(existing.received_at).toISOString(), duplicate: true }
}

/**
 * Validates and stores the event; returns the acknowledgement as the JSON text to send. With the
 * scope of a claimed Idempotency-Key, that text is recorded for replay in the event's transaction.
 */
export async function sendEvent (em: EntityManager, registry: EventTypeRegistry, request: SendEventRequest, caller: EventCaller & { keyId: string }, idempotency: IdempotencyScope | null): Promise<string> {
  await validateEventRequest(em, registry, request, caller)
  return await em.transactional(async (tx) => {
    const accepted = await storeEvent(tx, request.event, request.payload, JSON.stringify(request.payload), caller, 'api')
    const text = JSON.stringify(accepted)
    if (idempotency !== null) await completeIdempotencyKey(tx, idempotency, 200, text)
    return text
  })
}
