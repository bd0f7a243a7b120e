// event_type: the registry of declared event types (SPEC section 7). A version never changes.
import { defineEntity } from '@mikro-orm/core'
import type { FieldSpecs, JsonSchema } from '../../events/field-schema.ts'

export const EventType = defineEntity({
  name: 'EventType',
  tableName: 'event_type',
  properties: (p) => ({
    name: p.text().primary(),
    fields: p.json<FieldSpecs>(),
    jsonSchema: p.json<JsonSchema>(),
    builtIn: p.boolean().default(false),
    createdAt: p.datetime().defaultRaw('now()')
  })
})
