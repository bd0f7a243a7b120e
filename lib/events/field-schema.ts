// Event type declarations (`{ email: { type: 'email', required: true } }`, docs/events.md#field-types) turned into
// JSON Schema and a compiled Ajv validator. Framework-free: the server and the SDK's
// validateEvent share this one implementation, so both report the same issues.
import type { ValidateFunction } from 'ajv'
import type { components } from '../../generated/openapi.ts'
import type { ValidationIssue } from '../errors.ts'
import { createAjv } from '../validation/ajv.ts'
import { issuesFromAjv } from '../validation/issues.ts'

export type FieldType = components['schemas']['EventFieldType']
export type FieldSpec = Omit<components['schemas']['EventField'], 'fields' | 'items'> & {
  fields?: Record<string, FieldSpec>
  items?: FieldSpec
}
export type FieldSpecs = Record<string, FieldSpec>
export type JsonSchema = Record<string, unknown>

const fieldTypes: readonly FieldType[] = ['uuid', 'datetime', 'email', 'url', 'string', 'number', 'integer', 'boolean', 'enum', 'object', 'array']
const fieldName = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/
const maxDepth = 6

/**
 * Checks what the OpenAPI schema cannot say about a declaration (nested fields, `values` only on
 * enums, depth); returns issues with dot paths under `fields`.
 */
export function checkFieldSpecs (fields: unknown, base = 'fields', depth = 1): ValidationIssue[] {
  if (fields === null || typeof fields !== 'object' || Array.isArray(fields)) {
    return [{ path: base, message: 'Expected object', code: 'invalid_type' }]
  }
  const entries = Object.entries(fields as Record<string, unknown>)
  if (entries.length === 0) return [{ path: base, message: 'Declare at least one field', code: 'too_small' }]
  if (depth > maxDepth) return [{ path: base, message: `Fields nest at most ${maxDepth} levels deep`, code: 'too_big' }]
  const issues: ValidationIssue[] = []
  for (const [name, spec] of entries) {
    const path = `${base}.${name}`
    if (!fieldName.test(name)) issues.push({ path, message: 'Field names are letters, digits and _ (at most 64)', code: 'invalid_string' })
    issues.push(...checkFieldSpec(spec, path, depth))
  }
  return issues
}

function checkFieldSpec (spec: unknown, path: string, depth: number): ValidationIssue[] {
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) return [{ path, message: 'Expected object', code: 'invalid_type' }]
  const s = spec as Record<string, unknown>
  const issues: ValidationIssue[] = []
  for (const key of Object.keys(s)) {
    if (!['type', 'required', 'values', 'fields', 'items', 'description'].includes(key)) {
      issues.push({ path: `${path}.${key}`, message: `Unrecognized key '${key}'`, code: 'unrecognized_keys' })
    }
  }
  if (!fieldTypes.includes(s.type as FieldType)) {
    issues.push({ path: `${path}.type`, message: `Invalid enum value. Expected ${fieldTypes.map((t) => `'${t}'`).join(' | ')}`, code: s.type === undefined ? 'required' : 'invalid_enum_value' })
    return issues
  }
  if (s.required !== undefined && typeof s.required !== 'boolean') issues.push({ path: `${path}.required`, message: 'Expected boolean', code: 'invalid_type' })
  if (s.description !== undefined && typeof s.description !== 'string') issues.push({ path: `${path}.description`, message: 'Expected string', code: 'invalid_type' })
  if (s.type === 'enum') {
    const values = s.values
    if (values === undefined) issues.push({ path: `${path}.values`, message: 'Required for enum fields', code: 'required' })
    else if (!Array.isArray(values) || values.length === 0 || values.some((v) => typeof v !== 'string')) {
      issues.push({ path: `${path}.values`, message: 'Expected a non-empty array of strings', code: 'invalid_type' })
    } else if (new Set(values).size !== values.length) {
      issues.push({ path: `${path}.values`, message: 'Values must be unique', code: 'custom' })
    }
  } else if (s.values !== undefined) {
    issues.push({ path: `${path}.values`, message: 'Only enum fields take values', code: 'unrecognized_keys' })
  }
  if (s.fields !== undefined) {
    if (s.type !== 'object') issues.push({ path: `${path}.fields`, message: 'Only object fields take fields', code: 'unrecognized_keys' })
    else issues.push(...checkFieldSpecs(s.fields, `${path}.fields`, depth + 1))
  }
  if (s.items !== undefined) {
    if (s.type !== 'array') issues.push({ path: `${path}.items`, message: 'Only array fields take items', code: 'unrecognized_keys' })
    else issues.push(...checkFieldSpec(s.items, `${path}.items`, depth + 1))
  }
  return issues
}

/** Stable form of a declaration: `required` spelled out, keys in a fixed order. */
export function normalizeFields (fields: FieldSpecs): FieldSpecs {
  const out: FieldSpecs = {}
  for (const [name, spec] of Object.entries(fields)) out[name] = normalizeField(spec)
  return out
}

function normalizeField (spec: FieldSpec): FieldSpec {
  return {
    type: spec.type,
    required: spec.required === true,
    ...(spec.values !== undefined ? { values: [...spec.values] } : {}),
    ...(spec.fields !== undefined ? { fields: normalizeFields(spec.fields) } : {}),
    ...(spec.items !== undefined ? { items: normalizeField(spec.items) } : {}),
    ...(spec.description !== undefined ? { description: spec.description } : {})
  }
}

function valueSchema (spec: FieldSpec): JsonSchema {
  switch (spec.type) {
    case 'uuid': return { type: 'string', format: 'uuid' }
    case 'datetime': return { type: 'string', format: 'date-time' }
    case 'email': return { type: 'string', format: 'email' }
    // `uri` alone accepts `mailto:`; a URL field means an absolute http(s) URL.
    case 'url': return { type: 'string', format: 'uri', pattern: '^https?://' }
    case 'string': return { type: 'string' }
    case 'number': return { type: 'number' }
    case 'integer': return { type: 'integer' }
    case 'boolean': return { type: 'boolean' }
    case 'enum': return { type: 'string', enum: [...(spec.values ?? [])] }
    case 'object': return spec.fields === undefined ? { type: 'object' } : objectSchema(spec.fields)
    case 'array': return spec.items === undefined ? { type: 'array' } : { type: 'array', items: fieldSchema(spec.items, true) }
  }
}

/** Optional fields also accept null (the published lead.captured.v1 example sends `personId: null`). */
function fieldSchema (spec: FieldSpec, required: boolean): JsonSchema {
  const schema = valueSchema(spec)
  if (required) return schema
  const nullable: JsonSchema = { ...schema, type: [schema.type as string, 'null'] }
  if (Array.isArray(schema.enum)) nullable.enum = [...schema.enum, null]
  return nullable
}

function objectSchema (fields: FieldSpecs): JsonSchema {
  const properties: Record<string, JsonSchema> = {}
  const required: string[] = []
  for (const [name, spec] of Object.entries(fields)) {
    properties[name] = fieldSchema(spec, spec.required === true)
    if (spec.required === true) required.push(name)
  }
  return { type: 'object', properties, required, additionalProperties: false }
}

/** The JSON Schema (2020-12 compatible subset) equivalent to a declaration's fields. */
export function fieldsToJsonSchema (fields: FieldSpecs): JsonSchema {
  return { $schema: 'https://json-schema.org/draft/2020-12/schema', ...objectSchema(fields) }
}

export type EventValidator = (payload: unknown) => ValidationIssue[]

// One Ajv for every event type: compiled validators stay cached by the registry, not rebuilt.
// ownProperties: a declared field named constructor or toString must be the payload's own, not
// Object.prototype's, or a required one would never be missing.
const ajv = createAjv({ coerceTypes: false, useDefaults: false, ownProperties: true })

/** Compiles a declaration once; the returned function lists every issue (empty when valid). */
export function compileEventValidator (fields: FieldSpecs): EventValidator {
  const { $schema: _dialect, ...schema } = fieldsToJsonSchema(fields)
  const validate: ValidateFunction = ajv.compile(schema)
  return (payload) => (validate(payload) ? [] : issuesFromAjv(validate.errors))
}
