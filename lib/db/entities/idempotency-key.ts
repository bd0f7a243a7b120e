// idempotency_key: the first response to each (API key, Idempotency-Key), kept 24 hours.
import { defineEntity } from '@mikro-orm/core'

export const IdempotencyKey = defineEntity({
  name: 'IdempotencyKey',
  tableName: 'idempotency_key',
  properties: (p) => ({
    keyId: p.text().primary(),
    idempotencyKey: p.text().primary(),
    requestHash: p.text(),
    state: p.text(),
    responseStatus: p.integer().nullable(),
    responseBody: p.text().nullable(),
    createdAt: p.datetime().defaultRaw('now()'),
    updatedAt: p.datetime().defaultRaw('now()')
  })
})
