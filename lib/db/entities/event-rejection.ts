// event_rejection: an inbound delivery whose event failed validation, kept whole for replay.
import { defineEntity } from '@mikro-orm/core'
import type { ValidationIssue } from '../../errors.ts'

export const EventRejection = defineEntity({
  name: 'EventRejection',
  tableName: 'event_rejection',
  properties: (p) => ({
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    routeId: p.uuid(),
    eventType: p.text(),
    source: p.text(),
    webhookPath: p.text(),
    dedupeKey: p.text().nullable(),
    headers: p.json<Record<string, string>>(),
    body: p.text(),
    issues: p.json<ValidationIssue[]>(),
    brandId: p.uuid().nullable(),
    env: p.text().$type<'live' | 'test' | 'dev'>(),
    createdAt: p.datetime().defaultRaw('now()'),
    replayedAt: p.datetime().nullable(),
    replayedEventId: p.uuid().nullable()
  })
})
