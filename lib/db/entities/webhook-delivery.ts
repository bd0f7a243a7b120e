// webhook_delivery: one message to one endpoint. It is the queue entry the workers claim and the
// delivery log the API shows; the body is the exact text every attempt sends.
import { defineEntity } from '@mikro-orm/core'
import { WebhookEndpoint } from './webhook-endpoint.ts'

export const WebhookDelivery = defineEntity({
  name: 'WebhookDelivery',
  tableName: 'webhook_delivery',
  properties: (p) => ({
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    endpoint: p.manyToOne(WebhookEndpoint).mapToPk().fieldName('endpoint_id'),
    messageId: p.uuid(),
    eventType: p.text(),
    body: p.text().lazy(),
    status: p.text().$type<'pending' | 'succeeded' | 'failed'>().default('pending'),
    attemptCount: p.integer().default(0),
    nextAttemptAt: p.datetime().defaultRaw('now()'),
    lockedUntil: p.datetime().nullable(),
    claimToken: p.uuid().nullable(),
    manualRetry: p.boolean().default(false),
    lastStatusCode: p.integer().nullable(),
    lastError: p.text().nullable(),
    createdAt: p.datetime().defaultRaw('now()'),
    updatedAt: p.datetime().defaultRaw('now()')
  })
})
