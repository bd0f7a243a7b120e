// The event type registry: declarations in PostgreSQL, each compiled once into a validator and
// cached by owner and name. Built-in types are brandless and shared by every brand; a declared
// type belongs to the brand that declared it (docs/tenancy.md), so two brands may each declare
// `quiz.completed.v1`. Declared versions are immutable, so a cached entry never goes stale and
// every instance converges by reading the same rows; a lookup is one or two Map reads.
import type { InferEntity } from '@mikro-orm/core'
import type { EntityManager } from '@mikro-orm/postgresql'
import { conflict, validationError } from '../errors.ts'
import { canonicalJson } from '../canonical-json.ts'
import { sql } from '../db/sql.ts'
import { EventType } from '../db/entities/event-type.ts'
import type { Caller } from '../tenancy/caller.ts'
import { Pager, type Page, type PageRequest } from '../pagination/cursor.ts'
import { checkFieldSpecs, compileEventValidator, fieldsToJsonSchema, normalizeFields, type EventValidator, type FieldSpecs, type JsonSchema } from './field-schema.ts'

export interface RegisteredEventType {
  name: string
  /** The declaring brand; null for built-in types and the operator's own declarations. */
  brandId: string | null
  fields: FieldSpecs
  jsonSchema: JsonSchema
  builtIn: boolean
  validate: EventValidator
}

type TypeRow = Omit<RegisteredEventType, 'validate'>

/** A declaration about to be committed: the registry learns it only once its transaction has. */
export interface PendingDeclaration { created: boolean, type: TypeRow }

// By name; two brands' declarations of one name are told apart by their row id.
const typePager = new Pager<InferEntity<typeof EventType>>('event-types', [{ field: 'name', dir: 'asc', kind: 'text' }, { field: 'id', dir: 'asc', kind: 'uuid' }])

const cacheKey = (brandId: string | null, name: string) => `${brandId ?? ''}/${name}`

export class EventTypeRegistry {
  private readonly cache = new Map<string, RegisteredEventType>()
  /** How many declarations were compiled; stays flat however many events are validated. */
  compiled = 0

  /** Compiles and caches a committed row (or returns the cached entry). */
  remember (row: TypeRow): RegisteredEventType {
    const key = cacheKey(row.brandId, row.name)
    const cached = this.cache.get(key)
    if (cached !== undefined) return cached
    const entry = { ...row, validate: compileEventValidator(row.fields) }
    this.compiled++
    this.cache.set(key, entry)
    return entry
  }

  /**
   * The type `name` as `brandId` sees it: its own declaration, else the built-in one. The operator
   * (null) sees its own declarations and the built-ins. Another brand's declaration is never found.
   */
  async get (em: EntityManager, brandId: string | null, name: string): Promise<RegisteredEventType | null> {
    const own = this.cache.get(cacheKey(brandId, name))
    if (own !== undefined) return own
    const shared = brandId === null ? undefined : this.cache.get(cacheKey(null, name))
    if (shared?.builtIn === true) return shared
    const rows = await em.find(EventType, { name, $or: [{ brandId }, { brandId: null, builtIn: true }] }, { disableIdentityMap: true })
    const row = rows.find((r) => (r.brandId ?? null) === brandId) ?? rows.find((r) => r.builtIn)
    return row === undefined ? null : this.remember(toTypeRow(row))
  }

  /**
   * What `caller` may see, by name: the built-ins and its brand's declarations; every brand's for
   * the operator; the built-ins alone without a caller (public discovery).
   */
  async list (em: EntityManager, caller: Pick<Caller, 'brandId'> | null, request: PageRequest): Promise<Page<TypeRow>> {
    const where = caller === null ? { builtIn: true } : caller.brandId === null ? {} : { $or: [{ builtIn: true }, { brandId: caller.brandId }] }
    return await typePager.find(em, EventType, where, request, {}, toTypeRow)
  }

  /**
   * Declares a version for `brandId` inside the caller's transaction; the identical declaration
   * again is `created: false`, a different one 409, and so is redeclaring a built-in type with
   * other fields. Call `remember` with the result once the transaction has committed.
   */
  async declare (tx: EntityManager, brandId: string | null, name: string, fields: FieldSpecs): Promise<PendingDeclaration> {
    const issues = checkFieldSpecs(fields)
    if (issues.length > 0) throw validationError(issues)
    const normalized = normalizeFields(fields)
    const jsonSchema = fieldsToJsonSchema(normalized)
    const existing = await this.get(tx, brandId, name)
    if (existing === null) {
      const inserted = await sql<{ name: string }>(tx,
        'insert into event_type (brand_id, name, fields, json_schema) values (?, ?, ?, ?) on conflict (brand_id, name) do nothing returning name',
        [brandId, name, JSON.stringify(normalized), JSON.stringify(jsonSchema)]
      )
      if (inserted.length > 0) return { created: true, type: { name, brandId, fields: normalized, jsonSchema, builtIn: false } }
    }
    // Declared meanwhile (a concurrent declaration committed first) or already there: compare.
    const current = existing ?? await this.get(tx, brandId, name)
    if (current === null) throw new Error(`event type ${name} vanished during declaration`)
    if (canonicalJson(normalizeFields(current.fields)) !== canonicalJson(normalized)) {
      throw conflict(`${name} is already ${current.builtIn ? 'a built-in type' : 'declared'} with different fields; declare a new version (e.g. ${nextVersion(name)})`)
    }
    return { created: false, type: current }
  }
}

function toTypeRow (row: { name: string, brandId?: string | null, fields: FieldSpecs, jsonSchema: JsonSchema, builtIn: boolean }): TypeRow {
  return { name: row.name, brandId: row.brandId ?? null, fields: row.fields, jsonSchema: row.jsonSchema, builtIn: row.builtIn }
}

function nextVersion (name: string): string {
  return name.replace(/\.v(\d+)$/, (_m, n: string) => `.v${Number(n) + 1}`)
}
