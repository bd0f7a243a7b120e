// webhook_endpoint: a registered destination, its event patterns and its signing secrets.
import { defineEntity } from '@mikro-orm/core'

export const WebhookEndpoint = defineEntity({
  name: 'WebhookEndpoint',
  tableName: 'webhook_endpoint',
  properties: (p) => ({
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    url: p.text(),
    events: p.array<string>(),
    env: p.text().$type<'live' | 'test'>(),
    description: p.text().nullable(),
    brandId: p.uuid().nullable(),
    keyId: p.uuid().nullable(),
    scopes: p.array<string>(),
    secret: p.text().lazy(),
    previousSecret: p.text().nullable().lazy(),
    previousSecretExpiresAt: p.datetime().nullable(),
    status: p.text().$type<'active' | 'failing' | 'disabled'>().default('active'),
    failingSince: p.datetime().nullable(),
    createdAt: p.datetime().defaultRaw('now()'),
    updatedAt: p.datetime().defaultRaw('now()')
  })
})
