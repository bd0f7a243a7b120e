// events.declare: a new type version (fields), an inbound webhook route for a type, or both, in
// one transaction: a declaration whose route is refused (422, 409) leaves no type behind. The
// type belongs to the caller's brand; the route to its brand and env (docs/tenancy.md).
import type { EntityManager } from '@mikro-orm/postgresql'
import type { components } from '../../generated/openapi.ts'
import { validationError } from '../errors.ts'
import { checkInboundDeclaration, upsertInboundRoute, type InboundDeclaration } from '../inbound/declare-route.ts'
import type { FieldSpecs } from './field-schema.ts'
import type { EventTypeRegistry, PendingDeclaration } from './registry.ts'
import type { EventCaller } from './send-event.ts'

export type EventTypeDeclaration = components['schemas']['EventTypeDeclaration']
export type EventTypeDeclared = components['schemas']['EventTypeDeclared']

export const schemaView = (type: { name: string, brandId: string | null, builtIn: boolean, fields: FieldSpecs, jsonSchema: unknown }) =>
  ({ name: type.name, brandId: type.brandId, builtIn: type.builtIn, fields: type.fields, jsonSchema: type.jsonSchema as Record<string, unknown> })

/** The declared type, and whether this declaration created it or a new inbound route (201 rather than 200). */
export async function declareEventType (em: EntityManager, registry: EventTypeRegistry, declaration: EventTypeDeclaration, caller: EventCaller): Promise<{ created: boolean, declared: EventTypeDeclared }> {
  const { name, fields, source, webhookPath, transform, secret } = declaration
  const inbound: InboundDeclaration | null = source === undefined && webhookPath === undefined && transform === undefined && secret === undefined
    ? null
    : {
        ...(source !== undefined ? { source } : {}),
        ...(webhookPath !== undefined ? { webhookPath } : {}),
        ...(transform !== undefined ? { transform } : {}),
        ...(secret !== undefined ? { secret } : {})
      }
  const declared = await em.transactional(async (tx) => {
    let pending: PendingDeclaration
    if (fields !== undefined) {
      pending = await registry.declare(tx, caller.brandId, name, fields as FieldSpecs)
    } else {
      const type = await registry.get(tx, caller.brandId, name)
      if (type === null) throw validationError([{ path: 'fields', message: `${name} is not declared yet: give its fields`, code: 'required' }])
      pending = { created: false, type }
    }
    if (inbound === null) return { pending, route: null }
    const issues = checkInboundDeclaration(name, pending.type.fields, inbound)
    if (issues.length > 0) throw validationError(issues)
    return { pending, route: await upsertInboundRoute(tx, name, inbound, caller) }
  })
  // Only now is the type committed: the cache never holds a declaration that rolled back.
  const type = registry.remember(declared.pending.type)
  const created = declared.pending.created || declared.route?.created === true
  return { created, declared: { ...schemaView(type), ...(declared.route === null ? {} : { inbound: declared.route.route }) } }
}
