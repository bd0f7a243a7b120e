// event_type: the registry of event types (docs/events.md#event-types). Built-in types are brandless and
// shared; a declared type belongs to the brand that declared it (null: the operator). A version
// never changes.
import { defineEntity } from '@mikro-orm/core'
import type { FieldSpecs, JsonSchema } from '../../events/field-schema.ts'

export const EventType = defineEntity({
  name: 'EventType',
  tableName: 'event_type',
  properties: (p) => ({
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    brandId: p.uuid().nullable(),
    name: p.text(),
    fields: p.json<FieldSpecs>(),
    jsonSchema: p.json<JsonSchema>(),
    builtIn: p.boolean().default(false),
    createdAt: p.datetime().defaultRaw('now()')
  })
})
