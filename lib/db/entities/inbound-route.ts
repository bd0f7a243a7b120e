// inbound_route: a declared webhookPath that receives one source's webhooks into one event type.
import { defineEntity } from '@mikro-orm/core'

export const InboundRoute = defineEntity({
  name: 'InboundRoute',
  tableName: 'inbound_route',
  properties: (p) => ({
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    eventType: p.text().index('inbound_route_event_type_idx'),
    source: p.enum(['shopify', 'bigcommerce', 'typeform', 'calendly', 'custom']),
    webhookPath: p.text().unique('inbound_route_webhook_path_key'),
    transform: p.json<Record<string, unknown>>().nullable(),
    /** Write-only: verifies deliveries, never leaves the database through the API or logs. */
    secret: p.text().nullable().hidden(),
    keyId: p.uuid().nullable(),
    brandId: p.uuid().nullable(),
    env: p.enum(['live', 'test', 'dev']),
    createdAt: p.datetime().defaultRaw('now()'),
    updatedAt: p.datetime().defaultRaw('now()')
  }),
  // `~~` is LIKE as PostgreSQL stores it.
  checks: [{ name: 'inbound_route_webhook_path_check', expression: "webhook_path ~~ '/webhooks/%'" }]
})
