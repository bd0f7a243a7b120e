// webhook_delivery: one message to one endpoint. It is the queue entry the workers claim and the
// delivery log the API shows; the body is the exact text every attempt sends.
import { defineEntity } from '@mikro-orm/core'
import { WebhookEndpoint } from './webhook-endpoint.ts'

export const WebhookDelivery = defineEntity({
  name: 'WebhookDelivery',
  tableName: 'webhook_delivery',
  properties: (p) => ({
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    endpoint: p.manyToOne(WebhookEndpoint).mapToPk().fieldName('endpoint_id').foreignKeyName('webhook_delivery_endpoint_id_fkey').deleteRule('cascade').updateRule('no action'),
    messageId: p.uuid(),
    eventType: p.text(),
    body: p.text().lazy(),
    status: p.enum(['pending', 'succeeded', 'failed']).default('pending'),
    attemptCount: p.integer().default(0),
    nextAttemptAt: p.datetime(3).defaultRaw('now()'),
    lockedUntil: p.datetime(3).nullable(),
    claimToken: p.uuid().nullable(),
    manualRetry: p.boolean().default(false),
    lastStatusCode: p.integer().nullable(),
    lastError: p.text().nullable(),
    /** The order Loop accepted it in: a FIFO endpoint's head is its pending delivery with the lowest. */
    seq: p.bigint().autoincrement(),
    /** The W3C traceparent of the span that queued it, when tracing is on: its attempts join that trace. */
    traceParent: p.text().nullable(),
    createdAt: p.datetime(3).defaultRaw('now()'),
    updatedAt: p.datetime(3).defaultRaw('now()')
  }),
  uniques: [
    // One message reaches one endpoint once, however often fan-out runs.
    { name: 'webhook_delivery_message_unique', properties: ['endpoint', 'messageId'] }
  ],
  indexes: [
    { name: 'webhook_delivery_status_log_idx', expression: 'create index webhook_delivery_status_log_idx on webhook_delivery (endpoint_id, status, created_at desc, id desc)' },
    { name: 'webhook_delivery_due_idx', expression: "create index webhook_delivery_due_idx on webhook_delivery (next_attempt_at) where status = 'pending'" },
    { name: 'webhook_delivery_endpoint_due_idx', expression: "create index webhook_delivery_endpoint_due_idx on webhook_delivery (endpoint_id, next_attempt_at) where status = 'pending'" },
    { name: 'webhook_delivery_in_flight_idx', expression: 'create index webhook_delivery_in_flight_idx on webhook_delivery (endpoint_id, locked_until) where locked_until is not null' },
    { name: 'webhook_delivery_fifo_idx', expression: "create index webhook_delivery_fifo_idx on webhook_delivery (endpoint_id, seq) where status = 'pending'" },
    { name: 'webhook_delivery_log_idx', expression: 'create index webhook_delivery_log_idx on webhook_delivery (endpoint_id, created_at desc, id desc)' },
    // Delivery health (lib/stats): an endpoint's deliveries touched in a window, the attempts' way in.
    { name: 'webhook_delivery_endpoint_updated_idx', expression: 'create index webhook_delivery_endpoint_updated_idx on webhook_delivery (endpoint_id, updated_at)' },
    // Retention's batches, oldest settled first (lib/retention).
    { name: 'webhook_delivery_settled_idx', expression: "create index webhook_delivery_settled_idx on webhook_delivery (updated_at) where status in ('succeeded', 'failed')" }
  ],
  checks: [{ name: 'webhook_delivery_attempt_count_check', expression: 'attempt_count >= 0' }]
})
