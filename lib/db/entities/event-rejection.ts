// event_rejection: an inbound delivery whose event failed validation, kept whole for replay.
import { defineEntity } from '@mikro-orm/core'
import type { ValidationIssue } from '../../errors.ts'
import { Event } from './event.ts'
import { InboundRoute } from './inbound-route.ts'

export const EventRejection = defineEntity({
  name: 'EventRejection',
  tableName: 'event_rejection',
  properties: (p) => ({
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    routeId: p.manyToOne(InboundRoute).mapToPk().fieldName('route_id').foreignKeyName('event_rejection_route_id_fkey').deleteRule('cascade').updateRule('no action'),
    eventType: p.text(),
    source: p.text(),
    webhookPath: p.text(),
    dedupeKey: p.text().nullable(),
    headers: p.json<Record<string, string>>(),
    body: p.text(),
    issues: p.json<ValidationIssue[]>(),
    brandId: p.uuid().nullable(),
    env: p.enum(['live', 'test', 'dev']),
    createdAt: p.datetime(3).defaultRaw('now()'),
    replayedAt: p.datetime().nullable(),
    replayedEventId: p.manyToOne(Event).mapToPk().nullable().fieldName('replayed_event_id').foreignKeyName('event_rejection_replayed_event_id_fkey').deleteRule('no action').updateRule('no action')
  }),
  indexes: [
    { name: 'event_rejection_env_created_at_idx', expression: 'create index event_rejection_env_created_at_idx on event_rejection (env, created_at desc, id desc)' },
    { name: 'event_rejection_owner_created_at_idx', expression: 'create index event_rejection_owner_created_at_idx on event_rejection (brand_id, env, created_at desc, id desc)' },
  ]
})
