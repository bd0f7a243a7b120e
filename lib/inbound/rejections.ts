// Reading kept rejections, newest first (keyset pagination like events).
import type { InferEntity } from '@mikro-orm/core'
import type { EntityManager } from '@mikro-orm/postgresql'
import type { components } from '../../generated/openapi.ts'
import { EventRejection } from '../db/entities/event-rejection.ts'
import { newestFirst, type PageRequest } from '../pagination/cursor.ts'
import { ownedBy, type Caller } from '../tenancy/caller.ts'

export type EventRejectionList = components['schemas']['EventRejectionList']

/** The caller's own rejections: those of routes its brand and env declared (every brand's for the operator). */
const pager = newestFirst<InferEntity<typeof EventRejection>>('event-rejections', 'createdAt')

export async function listRejections (em: EntityManager, caller: Caller, filters: { event?: string | undefined }, request: PageRequest): Promise<EventRejectionList> {
  const where = { ...ownedBy(caller), ...(filters.event !== undefined ? { eventType: filters.event } : {}) }
  return await pager.find(em, EventRejection, where, request, { ...filters }, (row) => ({
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
  }))
}
