// webhook_attempt: one try at sending a delivery, numbered from 1, recorded once.
import { defineEntity } from '@mikro-orm/core'
import { WebhookDelivery } from './webhook-delivery.ts'

export const WebhookAttempt = defineEntity({
  name: 'WebhookAttempt',
  tableName: 'webhook_attempt',
  properties: (p) => ({
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    delivery: p.manyToOne(WebhookDelivery).mapToPk().fieldName('delivery_id').foreignKeyName('webhook_attempt_delivery_id_fkey').deleteRule('cascade').updateRule('no action'),
    attemptNumber: p.integer(),
    attemptedAt: p.datetime(3),
    statusCode: p.integer().nullable(),
    latencyMs: p.integer(),
    error: p.text().nullable(),
    responseBody: p.text().nullable()
  }),
  // An attempt is recorded once, whichever instance made it.
  uniques: [{ name: 'webhook_attempt_number_unique', properties: ['delivery', 'attemptNumber'] }],
  checks: [
    { name: 'webhook_attempt_attempt_number_check', expression: 'attempt_number > 0' },
    { name: 'webhook_attempt_latency_ms_check', expression: 'latency_ms >= 0' }
  ]
})
