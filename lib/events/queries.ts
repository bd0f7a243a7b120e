// Reading stored events: newest first, keyset pagination on (received_at, id).
import type { InferEntity } from '@mikro-orm/core'
import type { EntityManager } from '@mikro-orm/postgresql'
import type { components } from '../../generated/openapi.ts'
import { Event } from '../db/entities/event.ts'
import { notFound } from '../errors.ts'
import { newestFirst, type PageRequest, type RawCondition } from '../pagination/cursor.ts'
import { ownedBy, type Caller } from '../tenancy/caller.ts'

export type StoredEvent = components['schemas']['StoredEvent']
export type EventList = components['schemas']['EventList']

type EventRow = { id: string, name: string, eventId?: string | null, payload: Record<string, unknown>, keyId?: string | null, brandId?: string | null, env: string, source: string, receivedAt: Date }

export function toStoredEvent (row: EventRow): StoredEvent {
  return {
    id: row.id,
    event: row.name,
    eventId: row.eventId ?? null,
    payload: row.payload,
    brandId: row.brandId ?? null,
    keyId: row.keyId ?? null,
    env: row.env as StoredEvent['env'],
    source: row.source,
    receivedAt: row.receivedAt.toISOString()
  }
}

export interface EventFilters {
  event?: string | undefined
  eventId?: string | undefined
  since?: string | undefined
  until?: string | undefined
  /** Text the payload contains, case-insensitively (a plain substring: no wildcards). */
  q?: string | undefined
}

/** `q` as an ILIKE pattern that matches it literally: its own `%`, `_` and `\\` escaped. */
export function containsPattern (text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`
}

/** The payload's JSON text contains `q`: a cast the ORM's filters cannot say. */
const payloadContains = (q: string): RawCondition => ({ sql: (column) => `${column('payload')}::text ilike ?`, params: [containsPattern(q)] })

const pager = newestFirst<InferEntity<typeof Event>>('events', 'receivedAt')

/** The caller's own events (its env; its brand, or every brand for the operator). */
export async function listEvents (em: EntityManager, caller: Caller, filters: EventFilters, request: PageRequest): Promise<EventList> {
  const receivedAt: Record<string, Date> = {}
  if (filters.since !== undefined) receivedAt.$gte = new Date(filters.since)
  if (filters.until !== undefined) receivedAt.$lt = new Date(filters.until)
  const where = {
    ...ownedBy(caller),
    ...(filters.event !== undefined ? { name: filters.event } : {}),
    ...(filters.eventId !== undefined ? { eventId: filters.eventId } : {}),
    ...(Object.keys(receivedAt).length > 0 ? { receivedAt } : {})
  }
  return await pager.find(em, Event, where, request, { ...filters }, toStoredEvent, filters.q === undefined ? undefined : payloadContains(filters.q))
}

export async function getEvent (em: EntityManager, caller: Caller, id: string): Promise<StoredEvent> {
  const row = await em.findOne(Event, { id, ...ownedBy(caller) }, { disableIdentityMap: true })
  if (row === null) throw notFound(`Event ${id} not found`)
  return toStoredEvent(row)
}
