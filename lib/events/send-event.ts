// POST /api/events as a service: validate against the declaration, then store once per brand and
// eventId through the group commit, which (with an Idempotency-Key already claimed) records the
// replayable response in the event's transaction.
import type { EntityManager } from '@mikro-orm/postgresql'
import type { components } from '../../generated/openapi.ts'
import { AppError, summarizeIssues } from '../errors.ts'
import type { EventTypeRegistry } from './registry.ts'
import { eventIssues } from './validate-event.ts'
import type { IdempotencyScope } from '../idempotency/idempotency-key.ts'
import type { EventAccepted, EventItem } from '../ingest/event-batch.ts'
import type { Owner } from '../tenancy/caller.ts'

export type SendEventRequest = components['schemas']['SendEventRequest']
export type KeyEnv = 'live' | 'test' | 'dev'
export type { EventAccepted }

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

/** Stores an event through the group commit (fastify.ingest.storeEvent, lib/ingest/event-batch.ts). */
export type EventStore = (item: EventItem) => Promise<EventAccepted>

/** An event to store, as the event batch takes it. */
export function eventItem (name: string, payload: Record<string, unknown>, caller: EventCaller, source: string, extra: Partial<Pick<EventItem, 'rawBody' | 'receipt' | 'idempotency' | 'rejectionId'>> = {}): EventItem {
  return {
    name,
    payload: JSON.stringify(payload),
    eventId: payloadEventId(payload),
    keyId: caller.keyId,
    brandId: caller.brandId,
    env: caller.env,
    source,
    rawBody: null,
    receipt: null,
    idempotency: null,
    rejectionId: null,
    ...extra
  }
}

/**
 * Validates and stores the event; returns the acknowledgement as the JSON text to send. With the
 * scope of a claimed Idempotency-Key, that text is recorded for replay in the event's transaction.
 */
export async function sendEvent (store: EventStore, em: EntityManager, registry: EventTypeRegistry, request: SendEventRequest, caller: EventCaller & { keyId: string }, idempotency: IdempotencyScope | null): Promise<string> {
  await validateEventRequest(em, registry, request, caller)
  // The same text the batch sealed for replay: JSON.stringify of the same object.
  return JSON.stringify(await store(eventItem(request.event, request.payload, caller, 'api', { idempotency })))
}
