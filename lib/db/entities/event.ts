// event: every accepted event, with the key, brand and env it arrived under.
import { defineEntity } from '@mikro-orm/core'

export const Event = defineEntity({
  name: 'Event',
  tableName: 'event',
  properties: (p) => ({
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    name: p.text(),
    eventId: p.text().nullable(),
    payload: p.json<Record<string, unknown>>(),
    keyId: p.uuid().nullable(),
    brandId: p.uuid().nullable(),
    env: p.text(),
    source: p.text(),
    /** The provider's body exactly as received (inbound webhooks); its big ids keep every digit. */
    rawBody: p.text().nullable().lazy(),
    receivedAt: p.datetime().defaultRaw('now()')
  })
})
