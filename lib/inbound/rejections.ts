// Reading kept rejections, newest first (keyset pagination like events).
import type { EntityManager } from '@mikro-orm/postgresql'
import type { components } from '../../generated/openapi.ts'
import { EventRejection } from '../db/entities/event-rejection.ts'
import { decodeCursor, encodeCursor } from '../events/queries.ts'
import { ownedBy, type Caller } from '../tenancy/caller.ts'

export type EventRejectionList = components['schemas']['EventRejectionList']

/** The caller's own rejections: those of routes its brand and env declared (every brand's for the operator). */
export async function listRejections (em: EntityManager, caller: Caller, filter: { event?: string, limit?: number, cursor?: string }): Promise<EventRejectionList> {
  const limit = filter.limit ?? 50
  const where: Record<string, unknown> = { ...ownedBy(caller) }
  if (filter.event !== undefined) where.eventType = filter.event
  if (filter.cursor !== undefined) {
    const after = decodeCursor(filter.cursor)
    where.$or = [{ createdAt: { $lt: after.receivedAt } }, { createdAt: after.receivedAt, id: { $lt: after.id } }]
  }
  const rows = await em.find(EventRejection, where, { orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], limit: limit + 1, disableIdentityMap: true })
  const page = rows.slice(0, limit)
  const last = page[page.length - 1]
  return {
    data: page.map((row) => ({
      id: row.id,
      event: row.eventType,
      source: row.source as EventRejectionList['data'][number]['source'],
      webhookPath: row.webhookPath,
      headers: row.headers,
      body: row.body,
      issues: row.issues,
      createdAt: row.createdAt.toISOString(),
      replayedAt: row.replayedAt?.toISOString() ?? null,
      replayedEventId: row.replayedEventId ?? null
    })),
    nextCursor: rows.length > limit && last !== undefined ? encodeCursor(last.createdAt, last.id) : null
  }
}
