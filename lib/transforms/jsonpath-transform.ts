// Transforms map a provider payload onto an event's fields (seed 004): each target field is an
// RFC 9535 JSONPath (`"$.note_attributes.brand_id"`) or a literal. Paths compile once, at
// declaration, with json-p3: a standard RFC 9535 parser with no script expressions, no eval and
// no Function, so `$..[?(@.constructor...)]` is a syntax error, never code.
import { jsonpath, type JSONPathQuery } from 'json-p3'
import type { ValidationIssue } from '../errors.ts'
import type { FieldSpecs } from '../events/field-schema.ts'

export type TransformSpec = Record<string, unknown>
export type CompiledTransform = (payload: unknown) => Record<string, unknown>

const maxPathLength = 500

/** A string starting with `$` is a JSONPath; anything else is a literal copied as is. */
const isPath = (value: unknown): value is string => typeof value === 'string' && value.startsWith('$')

/** Issues for every field whose JSONPath does not parse, or that the event type does not have. */
export function checkTransform (transform: unknown, fields: FieldSpecs | null, base = 'transform'): ValidationIssue[] {
  if (transform === null || typeof transform !== 'object' || Array.isArray(transform)) {
    return [{ path: base, message: 'Expected an object mapping field names to JSONPath expressions or literals', code: 'invalid_type' }]
  }
  const issues: ValidationIssue[] = []
  for (const [field, expression] of Object.entries(transform)) {
    const path = `${base}.${field}`
    // Own fields only: `in` would also find `constructor` or `toString` on every object.
    if (fields !== null && !Object.hasOwn(fields, field)) {
      issues.push({ path, message: `The event type has no field '${field}'`, code: 'unrecognized_keys' })
      continue
    }
    if (!isPath(expression)) continue
    if (expression.length > maxPathLength) {
      issues.push({ path, message: `JSONPath longer than ${maxPathLength} characters`, code: 'too_big' })
      continue
    }
    try {
      jsonpath.compile(expression)
    } catch (error) {
      issues.push({ path, message: `Invalid JSONPath: ${(error as Error).message}`, code: 'invalid_string' })
    }
  }
  return issues
}

/**
 * Compiles a checked transform. A path with no match leaves the field out (so a required field is
 * reported as missing); a path with several matches yields the first.
 */
export function compileTransform (transform: TransformSpec): CompiledTransform {
  const steps: [string, JSONPathQuery | null, unknown][] = Object.entries(transform).map(([field, expression]) =>
    isPath(expression) ? [field, jsonpath.compile(expression), undefined] : [field, null, expression])
  return (payload) => {
    const out: Record<string, unknown> = {}
    for (const [field, query, literal] of steps) {
      if (query === null) {
        out[field] = literal
        continue
      }
      const [first] = query.query(payload as never).values()
      if (first !== undefined) out[field] = first
    }
    return out
  }
}

/**
 * Lossless conversions toward the declared field types, so a numeric provider id fills a string
 * field and a Unix timestamp fills a datetime field. Nothing else is changed; validation still
 * decides.
 */
export function coerceToFields (values: Record<string, unknown>, fields: FieldSpecs): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(values)) {
    const type = fields[name]?.type
    if (type === 'datetime' && typeof value === 'number' && Number.isFinite(value)) {
      // Providers send seconds (BigCommerce) or milliseconds; 1e11 s is the year 5138.
      out[name] = new Date(value < 1e11 ? value * 1000 : value).toISOString()
    } else if ((type === 'string' || type === 'enum') && (typeof value === 'number' || typeof value === 'boolean')) {
      out[name] = String(value)
    } else {
      out[name] = value
    }
  }
  return out
}
