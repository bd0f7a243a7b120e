// The event type registry: declarations in PostgreSQL, each compiled once into a validator and
// cached by name. Declared versions are immutable, so a cached entry never goes stale and every
// instance converges by reading the same rows; a lookup is one Map read however many types exist.
import type { EntityManager } from '@mikro-orm/postgresql'
import { conflict, validationError } from '../errors.ts'
import { canonicalJson } from '../canonical-json.ts'
import { EventType } from '../db/entities/event-type.ts'
import { checkFieldSpecs, compileEventValidator, fieldsToJsonSchema, normalizeFields, type EventValidator, type FieldSpecs, type JsonSchema } from './field-schema.ts'

export interface RegisteredEventType {
  name: string
  fields: FieldSpecs
  jsonSchema: JsonSchema
  builtIn: boolean
  validate: EventValidator
}

export class EventTypeRegistry {
  private readonly cache = new Map<string, RegisteredEventType>()
  /** How many declarations were compiled; stays flat however many events are validated. */
  compiled = 0

  private remember (row: { name: string, fields: FieldSpecs, jsonSchema: JsonSchema, builtIn: boolean }): RegisteredEventType {
    const cached = this.cache.get(row.name)
    if (cached !== undefined) return cached
    const entry = { name: row.name, fields: row.fields, jsonSchema: row.jsonSchema, builtIn: row.builtIn, validate: compileEventValidator(row.fields) }
    this.compiled++
    this.cache.set(row.name, entry)
    return entry
  }

  async get (em: EntityManager, name: string): Promise<RegisteredEventType | null> {
    const cached = this.cache.get(name)
    if (cached !== undefined) return cached
    const row = await em.findOne(EventType, { name }, { disableIdentityMap: true })
    return row === null ? null : this.remember(row)
  }

  async list (em: EntityManager): Promise<RegisteredEventType[]> {
    const rows = await em.find(EventType, {}, { orderBy: { name: 'asc' }, disableIdentityMap: true })
    return rows.map((row) => this.cache.get(row.name) ?? { ...row, validate: () => [] })
  }

  /** Declares a version; the identical declaration again is `created: false`, a different one 409. */
  async declare (em: EntityManager, name: string, fields: FieldSpecs): Promise<{ created: boolean, type: RegisteredEventType }> {
    const issues = checkFieldSpecs(fields)
    if (issues.length > 0) throw validationError(issues)
    const normalized = normalizeFields(fields)
    const jsonSchema = fieldsToJsonSchema(normalized)
    const inserted = await em.getConnection().execute<{ name: string }[]>(
      'insert into event_type (name, fields, json_schema) values (?, ?, ?) on conflict (name) do nothing returning name',
      [name, JSON.stringify(normalized), JSON.stringify(jsonSchema)]
    )
    if (inserted.length > 0) return { created: true, type: this.remember({ name, fields: normalized, jsonSchema, builtIn: false }) }
    const existing = await this.get(em, name)
    if (existing === null) throw new Error(`event type ${name} vanished during declaration`)
    if (canonicalJson(normalizeFields(existing.fields)) !== canonicalJson(normalized)) {
      throw conflict(`${name} is already declared with different fields; declare a new version (e.g. ${nextVersion(name)})`)
    }
    return { created: false, type: existing }
  }
}

function nextVersion (name: string): string {
  return name.replace(/\.v(\d+)$/, (_m, n: string) => `.v${Number(n) + 1}`)
}
