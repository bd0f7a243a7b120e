// Loop's built-in event types, as declarations and as TypeScript types. The declarations are the
// server's own (lib/events/builtin-types.ts, what `GET /api/events/schema/{name}` serves); the
// payload types are computed from them, so a field added there is typed here with no second list.
import { builtinEventDeclarations } from '../../../lib/events/builtin-types.ts'
import { fieldsToJsonSchema, type FieldSpecs, type JsonSchema } from '../../../lib/events/field-schema.ts'

/** The declarations' own type (literal: field names, types, enum values). */
export type EventTypes = typeof builtinEventDeclarations

type DeepReadonly<T> = T extends object ? { readonly [K in keyof T]: DeepReadonly<T[K]> } : T

/**
 * Every built-in event type's declaration by name: `eventTypes['lead.captured.v1'].email` is
 * `{ type: 'email', required: true }`. Read-only: they are the validator's own.
 */
export const eventTypes: DeepReadonly<EventTypes> = builtinEventDeclarations

/** A built-in event type's name: `'lead.captured.v1' | 'order.completed.v1' | …`. */
export type EventName = keyof EventTypes & string

/** The TypeScript value of one declared field. */
export type FieldValue<S> =
  S extends { type: 'enum', values: ReadonlyArray<infer V> } ? V
    : S extends { type: 'object', fields: infer F } ? PayloadOf<F>
      : S extends { type: 'object' } ? Record<string, unknown>
        : S extends { type: 'array', items: infer I } ? Array<FieldValue<I>>
          : S extends { type: 'array' } ? unknown[]
            : S extends { type: 'number' | 'integer' } ? number
              : S extends { type: 'boolean' } ? boolean
                : string

type RequiredKeys<F> = { [K in keyof F]: F[K] extends { required: true } ? K : never }[keyof F]
type Simplify<T> = { [K in keyof T]: T[K] } & {}

/**
 * The payload a declaration accepts: required fields present, optional ones absent or null
 * (as the validator accepts them), no other keys.
 */
export type PayloadOf<F> = Simplify<
  { -readonly [K in RequiredKeys<F>]: FieldValue<F[K]> } &
  { -readonly [K in Exclude<keyof F, RequiredKeys<F>>]?: FieldValue<F[K]> | null }
>

/** A built-in event's payload: `EventPayload<'lead.captured.v1'>` is `{ eventId: string, …, personId?: string | null }`. */
export type EventPayload<N extends EventName> = PayloadOf<EventTypes[N]>

/** Every built-in event's payload by name. */
export type EventPayloads = { [N in EventName]: EventPayload<N> }

/**
 * The JSON Schema (2020-12) a declaration stands for, for tools that speak JSON Schema: a
 * built-in type's by name, or any declaration's fields.
 */
export function eventJsonSchema (nameOrFields: EventName | FieldSpecs): JsonSchema {
  if (typeof nameOrFields !== 'string') return fieldsToJsonSchema(nameOrFields)
  if (!Object.hasOwn(eventTypes, nameOrFields)) throw new TypeError(`eventJsonSchema: '${String(nameOrFields)}' is not a built-in event type`)
  return fieldsToJsonSchema(eventTypes[nameOrFields] as FieldSpecs)
}
