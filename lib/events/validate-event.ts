// validateEvent (the `@loop/contracts` helper, docs/events.md#validating-before-sending): an event checked the way
// POST /api/events checks it, by the same code. The server's route and the SDK both call
// `eventIssues`, so an integrator validating locally sees exactly the issues a 422 would list:
// first the request's shape (SendEventRequest, with the Ajv setup the server's body validator
// uses), then the event name, then the payload against the type's compiled declaration.
import type { ValidateFunction } from 'ajv'
import type { ValidationIssue } from '../errors.ts'
import { SendEventRequest } from '../../generated/schemas.ts'
import { createAjv } from '../validation/ajv.ts'
import { issuesFromAjv } from '../validation/issues.ts'
import { builtinEventTypes } from './builtin-types.ts'
import { checkFieldSpecs, compileEventValidator, normalizeFields, type EventValidator, type FieldSpecs } from './field-schema.ts'

export type { ValidationIssue } from '../errors.ts'
export type { FieldSpec, FieldSpecs } from './field-schema.ts'

/** A declaration as `GET /api/events/schema/{name}` returns it, or just its `fields` (checked when used). */
export type EventSchema = { name?: string, fields: Record<string, unknown> } | FieldSpecs

export type ValidateEventResult<T = Record<string, unknown>> =
  | { success: true, data: T }
  | { success: false, error: { issues: ValidationIssue[] } }

// Compiled once, on first use rather than at import: @loop/contracts bundles this file, and a
// runtime that forbids code generation from strings (Ajv compiles to a function) can still load it.
let requestShape: ValidateFunction | undefined

/** Issues of the request envelope `{event, payload}` (what the server's body schema reports). */
export function requestIssues (request: unknown): ValidationIssue[] {
  requestShape ??= createAjv({ coerceTypes: false }).compile(SendEventRequest)
  return requestShape(request) ? [] : issuesFromAjv(requestShape.errors)
}

/** The one issue an undeclared event name gets. */
export function unknownEventIssues (name: string): ValidationIssue[] {
  return [{ path: 'event', message: `Unknown event type '${name}'`, code: 'invalid_enum_value' }]
}

/**
 * Every issue of `{event: name, payload}`, given the validator of the declared type (null when
 * the name is not declared). Empty when the event would be accepted.
 */
export function eventIssues (name: string, payload: unknown, validate: EventValidator | null): ValidationIssue[] {
  const shape = requestIssues({ event: name, payload })
  if (shape.length > 0) return shape
  if (validate === null) return unknownEventIssues(name)
  return validate(payload)
}

const builtinValidators = new Map<string, EventValidator>()
const schemaValidators = new WeakMap<object, EventValidator>()

function builtinValidator (name: string): EventValidator | null {
  const cached = builtinValidators.get(name)
  if (cached !== undefined) return cached
  const fields = Object.hasOwn(builtinEventTypes, name) ? builtinEventTypes[name] : undefined
  if (fields === undefined) return null
  const validate = compileEventValidator(normalizeFields(fields))
  builtinValidators.set(name, validate)
  return validate
}

function schemaValidator (schema: EventSchema): EventValidator {
  const cached = schemaValidators.get(schema)
  if (cached !== undefined) return cached
  const fields = (isSchemaDocument(schema) ? schema.fields : schema) as FieldSpecs
  const problems = checkFieldSpecs(fields)
  if (problems.length > 0) {
    throw new TypeError(`validateEvent: invalid schema: ${problems.map((i) => `${i.path}: ${i.message}`).join('; ')}`)
  }
  const validate = compileEventValidator(normalizeFields(fields))
  schemaValidators.set(schema, validate)
  return validate
}

function isSchemaDocument (schema: EventSchema): schema is { name?: string, fields: Record<string, unknown> } {
  const fields = (schema as { fields?: unknown }).fields
  // A declaration may itself have a field called `fields`; a field spec always has a string `type`.
  return fields !== null && typeof fields === 'object' && typeof (fields as { type?: unknown }).type !== 'string'
}

/**
 * Validates an event before sending it. Without `schema` the name must be one of Loop's built-in
 * types (`lead.captured.v1`, `order.completed.v1`, …); for your own types pass the declaration
 * (e.g. the body of `GET /api/events/schema/{name}`). Compiled validators are cached per built-in
 * name and per schema object, so validating in a loop does not recompile.
 */
export function validateEvent<T = Record<string, unknown>> (name: string, payload: unknown, schema?: EventSchema): ValidateEventResult<T> {
  const validate = schema === undefined ? builtinValidator(name) : schemaValidator(schema)
  const issues = eventIssues(name, payload, validate)
  return issues.length === 0 ? { success: true, data: payload as T } : { success: false, error: { issues } }
}
