// webhook_endpoint: a registered destination, its event patterns and its signing secrets.
import { defineEntity } from '@mikro-orm/core'

export const WebhookEndpoint = defineEntity({
  name: 'WebhookEndpoint',
  tableName: 'webhook_endpoint',
  properties: (p) => ({
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    url: p.text(),
    events: p.array<string>(),
    env: p.enum(['live', 'test']),
    description: p.text().nullable(),
    brandId: p.uuid().nullable(),
    keyId: p.uuid().nullable(),
    scopes: p.array<string>(),
    secret: p.text().lazy(),
    previousSecret: p.text().nullable().lazy(),
    previousSecretExpiresAt: p.datetime(3).nullable(),
    status: p.enum(['active', 'failing', 'disabled']).default('active'),
    /** `fifo`: one delivery at a time, in the order Loop accepted the messages (lib/outbound/queue.ts). */
    ordering: p.enum(['unordered', 'fifo']).default('unordered'),
    /** Messages per second, across instances: a token bucket of rateLimit tokens (null tokens: full). */
    rateLimit: p.integer().nullable(),
    rateTokens: p.double().nullable(),
    rateUpdatedAt: p.datetime(3).nullable(),
    failingSince: p.datetime(3).nullable(),
    timeoutMs: p.integer().default(15000),
    /** Custom headers by name; the values are sent, never shown (lib/outbound/endpoints.ts). */
    headers: p.json<Record<string, string>>().default('{}'),
    /** The circuit breaker: failed attempts in a row, and until when no attempt is made (lib/outbound/queue.ts). */
    consecutiveFailures: p.integer().default(0),
    pausedUntil: p.datetime(3).nullable(),
    createdAt: p.datetime(3).defaultRaw('now()'),
    updatedAt: p.datetime(3).defaultRaw('now()')
  }),
  indexes: [
    { name: 'webhook_endpoint_env_list_idx', expression: 'create index webhook_endpoint_env_list_idx on webhook_endpoint (env, created_at desc, id desc)' },
    { name: 'webhook_endpoint_owner_list_idx', expression: 'create index webhook_endpoint_owner_list_idx on webhook_endpoint (brand_id, env, created_at desc, id desc)' },
    // Fan-out reads the live endpoints of one env (and brand) inside every event's transaction.
    { name: 'webhook_endpoint_fan_out_idx', expression: "create index webhook_endpoint_fan_out_idx on webhook_endpoint (env, brand_id) where status <> 'disabled'" },
  ],
  checks: [
    { name: 'webhook_endpoint_events_check', expression: 'cardinality(events) > 0' },
    { name: 'webhook_endpoint_timeout_ms_check', expression: 'timeout_ms >= 1000 and timeout_ms <= 30000' },
    { name: 'webhook_endpoint_consecutive_failures_check', expression: 'consecutive_failures >= 0' },
    { name: 'webhook_endpoint_rate_limit_check', expression: 'rate_limit >= 1 and rate_limit <= 10000' }
  ]
})
