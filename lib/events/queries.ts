// Reading stored events: newest first, keyset pagination on (received_at, id).
import type { EntityManager } from '@mikro-orm/postgresql'
import type { components } from '../../generated/openapi.ts'
import { Event } from '../db/entities/event.ts'
import { AppError, notFound } from '../errors.ts'
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

export function encodeCursor (receivedAt: Date, id: string): string {
  return Buffer.from(`${receivedAt.toISOString()}|${id}`).toString('base64url')
}

export function decodeCursor (cursor: string): { receivedAt: Date, id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|')
  const receivedAt = new Date(at ?? '')
  if (id === undefined || !/^[0-9a-f-]{36}$/i.test(id) || Number.isNaN(receivedAt.getTime())) {
    throw new AppError(422, 'VALIDATION_ERROR', 'cursor is not a cursor this API returned', [{ path: 'cursor', message: 'Invalid cursor', code: 'invalid_string' }])
  }
  return { receivedAt, id }
}

export interface EventFilter { event?: string, since?: string, until?: string, limit?: number, cursor?: string }

/** The caller's own events (its env; its brand, or every brand for the operator). */
export async function listEvents (em: EntityManager, caller: Caller, filter: EventFilter): Promise<EventList> {
  const limit = filter.limit ?? 50
  const where: Record<string, unknown> = { ...ownedBy(caller) }
  if (filter.event !== undefined) where.name = filter.event
  const receivedAt: Record<string, Date> = {}
  if (filter.since !== undefined) receivedAt.$gte = new Date(filter.since)
  if (filter.until !== undefined) receivedAt.$lt = new Date(filter.until)
  if (Object.keys(receivedAt).length > 0) where.receivedAt = receivedAt
  if (filter.cursor !== undefined) {
    const after = decodeCursor(filter.cursor)
    where.$or = [{ receivedAt: { $lt: after.receivedAt } }, { receivedAt: after.receivedAt, id: { $lt: after.id } }]
  }
  const rows = await em.find(Event, where, { orderBy: [{ receivedAt: 'desc' }, { id: 'desc' }], limit: limit + 1, disableIdentityMap: true })
  const page = rows.slice(0, limit)
  const last = page[page.length - 1]
  return {
    data: page.map(toStoredEvent),
    nextCursor: rows.length > limit && last !== undefined ? encodeCursor(last.receivedAt, last.id) : null
  }
}

export async function getEvent (em: EntityManager, caller: Caller, id: string): Promise<StoredEvent> {
  const row = await em.findOne(Event, { id, ...ownedBy(caller) }, { disableIdentityMap: true })
  if (row === null) throw notFound(`Event ${id} not found`)
  return toStoredEvent(row)
}
