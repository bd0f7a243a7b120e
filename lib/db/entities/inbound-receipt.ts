// inbound_receipt: one row per provider delivery of a route (webhook id, body hash…), so a
// redelivery finds it and stores nothing. Written and read with SQL (lib/ingest/event-batch.ts); the entity
// describes the table so the schema check covers it.
import { defineEntity } from '@mikro-orm/core'
import { Event } from './event.ts'
import { InboundRoute } from './inbound-route.ts'

export const InboundReceipt = defineEntity({
  name: 'InboundReceipt',
  tableName: 'inbound_receipt',
  properties: (p) => ({
    routeId: p.manyToOne(InboundRoute).mapToPk().primary().fieldName('route_id').foreignKeyName('inbound_receipt_route_id_fkey').deleteRule('cascade').updateRule('no action'),
    dedupeKey: p.text().primary(),
    eventId: p.manyToOne(Event).mapToPk().nullable().fieldName('event_id').foreignKeyName('inbound_receipt_event_id_fkey').deleteRule('no action').updateRule('no action'),
    createdAt: p.datetime().defaultRaw('now()')
  })
})
