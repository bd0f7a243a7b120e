// inbound_route: a declared webhookPath that receives one source's webhooks into one event type.
import { defineEntity } from '@mikro-orm/core'
import type { InboundSource } from '../../transforms/builtin.ts'

export const InboundRoute = defineEntity({
  name: 'InboundRoute',
  tableName: 'inbound_route',
  properties: (p) => ({
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    eventType: p.text(),
    source: p.text().$type<InboundSource>(),
    webhookPath: p.text().unique(),
    transform: p.json<Record<string, unknown>>().nullable(),
    /** Write-only: verifies deliveries, never leaves the database through the API or logs. */
    secret: p.text().nullable().hidden(),
    keyId: p.uuid().nullable(),
    brandId: p.uuid().nullable(),
    env: p.text(),
    createdAt: p.datetime().defaultRaw('now()'),
    updatedAt: p.datetime().defaultRaw('now()')
  })
})
