// webhook_attempt: one try at sending a delivery, numbered from 1, recorded once.
import { defineEntity } from '@mikro-orm/core'
import { WebhookDelivery } from './webhook-delivery.ts'

export const WebhookAttempt = defineEntity({
  name: 'WebhookAttempt',
  tableName: 'webhook_attempt',
  properties: (p) => ({
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    delivery: p.manyToOne(WebhookDelivery).mapToPk().fieldName('delivery_id'),
    attemptNumber: p.integer(),
    attemptedAt: p.datetime(),
    statusCode: p.integer().nullable(),
    latencyMs: p.integer(),
    error: p.text().nullable(),
    responseBody: p.text().nullable()
  })
})
