// event_type: the registry of event types (docs/events.md#event-types). Built-in types are brandless and
// shared; a declared type belongs to the brand that declared it (null: the operator). A version
// never changes.
import { defineEntity } from '@mikro-orm/core'
import type { FieldSpecs, JsonSchema } from '../../events/field-schema.ts'
import { Brand } from './brand.ts'

export const EventType = defineEntity({
  name: 'EventType',
  tableName: 'event_type',
  properties: (p) => ({
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    brandId: p.manyToOne(Brand).mapToPk().nullable().fieldName('brand_id').foreignKeyName('event_type_brand_id_fkey').deleteRule('no action').updateRule('no action'),
    name: p.text(),
    fields: p.json<FieldSpecs>(),
    jsonSchema: p.json<JsonSchema>(),
    builtIn: p.boolean().default(false),
    createdAt: p.datetime().defaultRaw('now()')
  }),
  uniques: [
    { name: 'event_type_owner_name_unique', expression: 'create unique index event_type_owner_name_unique on event_type (brand_id, name) nulls not distinct' }
  ],
  checks: [
    { name: 'event_type_name_check', expression: "name ~ '^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)*\\.v[1-9][0-9]*$'" },
    { name: 'event_type_built_in_is_shared', expression: 'not built_in or brand_id is null' }
  ],
  indexes: [
    { name: 'event_type_name_idx', expression: 'create index event_type_name_idx on event_type (name, id)' }
  ]
})
