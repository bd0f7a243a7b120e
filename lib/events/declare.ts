// events.declare: a new type version (fields), an inbound webhook route for a type, or both.
import type { EntityManager } from '@mikro-orm/postgresql'
import type { components } from '../../generated/openapi.ts'
import { validationError } from '../errors.ts'
import { upsertInboundRoute } from '../inbound/declare-route.ts'
import type { FieldSpecs } from './field-schema.ts'
import type { EventTypeRegistry, RegisteredEventType } from './registry.ts'
import type { EventCaller } from './send-event.ts'

export type EventTypeDeclaration = components['schemas']['EventTypeDeclaration']
export type EventTypeDeclared = components['schemas']['EventTypeDeclared']

export const schemaView = (type: RegisteredEventType) => ({ name: type.name, builtIn: type.builtIn, fields: type.fields, jsonSchema: type.jsonSchema })

export async function declareEventType (em: EntityManager, registry: EventTypeRegistry, declaration: EventTypeDeclaration, caller: EventCaller): Promise<EventTypeDeclared> {
  const { name, fields, source, webhookPath, transform, secret } = declaration
  let created = false
  let type: RegisteredEventType | null
  if (fields !== undefined) {
    ({ created, type } = await registry.declare(em, name, fields as FieldSpecs))
  } else {
    type = await registry.get(em, name)
    if (type === null) throw validationError([{ path: 'fields', message: `${name} is not declared yet: give its fields`, code: 'required' }])
  }
  if (source === undefined && webhookPath === undefined && transform === undefined && secret === undefined) {
    return { ok: true, created, schema: schemaView(type) }
  }
  const inbound = await upsertInboundRoute(em, name, type.fields, {
    ...(source !== undefined ? { source } : {}),
    ...(webhookPath !== undefined ? { webhookPath } : {}),
    ...(transform !== undefined ? { transform } : {}),
    ...(secret !== undefined ? { secret } : {})
  }, caller)
  return { ok: true, created: created || inbound.created, schema: schemaView(type), inbound: inbound.route }
}
