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
    env: p.enum(['live', 'test', 'dev']),
    source: p.text(),
    /** The provider's body exactly as received (inbound webhooks); its big ids keep every digit. */
    rawBody: p.text().nullable().lazy(),
    receivedAt: p.datetime(3).defaultRaw('now()')
  }),
  indexes: [
    { name: 'event_env_received_at_idx', expression: 'create index event_env_received_at_idx on event (env, received_at desc, id desc)' },
    { name: 'event_env_name_received_at_idx', expression: 'create index event_env_name_received_at_idx on event (env, name, received_at desc, id desc)' },
    { name: 'event_owner_name_received_at_idx', expression: 'create index event_owner_name_received_at_idx on event (brand_id, env, name, received_at desc, id desc)' },
    { name: 'event_owner_received_at_idx', expression: 'create index event_owner_received_at_idx on event (brand_id, env, received_at desc, id desc)' }
  ],
  uniques: [
    // A payload eventId is stored once per brand, env and type; NULLS NOT DISTINCT makes brandless keys dedupe too.
    { name: 'event_owner_event_id_unique', expression: 'create unique index event_owner_event_id_unique on event (brand_id, env, name, event_id) nulls not distinct where event_id is not null' }
  ]
})
