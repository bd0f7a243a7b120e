// idempotency_key: the first response to each (API key, Idempotency-Key), kept 24 hours.
import { defineEntity } from '@mikro-orm/core'

export const IdempotencyKey = defineEntity({
  name: 'IdempotencyKey',
  tableName: 'idempotency_key',
  properties: (p) => ({
    keyId: p.text().primary(),
    idempotencyKey: p.text().primary(),
    requestHash: p.text(),
    state: p.enum(['in_flight', 'done']),
    responseStatus: p.integer().nullable(),
    responseBody: p.text().nullable(),
    createdAt: p.datetime().defaultRaw('now()'),
    updatedAt: p.datetime().defaultRaw('now()')
  }),
  indexes: [{ name: 'idempotency_key_created_at_idx', properties: ['createdAt'] }]
})
