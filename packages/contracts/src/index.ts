// @loop/contracts: Loop's event contract, runnable wherever JavaScript runs (browsers, Deno, Bun,
// Workers, Node), so nothing here may import a Node-only module (test/sdk/contracts-neutral.test.ts
// bundles it for the browser to prove it):
// - validateEvent: the server's own event validation (lib/events/validate-event.ts), run locally,
//   answering exactly the issues `POST /api/events` would answer 422 with;
// - eventTypes and the payload types computed from them (EventPayload<'lead.captured.v1'>).
import { validateEvent as validateWithServerCode, type EventSchema, type ValidateEventResult } from '../../../lib/events/validate-event.ts'
import type { EventName, EventPayload } from './event-types.ts'

export type { EventSchema, FieldSpec, FieldSpecs, ValidateEventResult, ValidationIssue } from '../../../lib/events/validate-event.ts'
export type { FieldType, JsonSchema } from '../../../lib/events/field-schema.ts'
export { eventJsonSchema, eventTypes, type EventName, type EventPayload, type EventPayloads, type EventTypes, type FieldValue, type PayloadOf } from './event-types.ts'

/**
 * Validates an event before sending it. A built-in type (`lead.captured.v1`, `order.completed.v1`,
 * …) needs no schema and types `data` as its payload; for your own types pass the declaration (the
 * body of `GET /api/events/schema/{name}`, or just its `fields`). Compiled validators are cached
 * per built-in name and per schema object, so validating in a loop does not recompile.
 *
 * Ajv compiles validators to functions: on a runtime that forbids code generation from strings
 * (Cloudflare Workers) the package loads, but validateEvent throws an EvalError.
 */
export function validateEvent<N extends EventName> (name: N, payload: unknown): ValidateEventResult<EventPayload<N>>
export function validateEvent<T = Record<string, unknown>> (name: string, payload: unknown, schema?: EventSchema): ValidateEventResult<T>
export function validateEvent (name: string, payload: unknown, schema?: EventSchema): ValidateEventResult<unknown> {
  return validateWithServerCode(name, payload, schema)
}
