// Fastify's schema compilers for every route (its `schemaController.compilersFactory`), built from
// the schemas the app registered with addSchema: the contract's components (generated/schemas.ts),
// which the route schemas refer to as `{ $ref: 'Name#' }`. What they compile is kept per process:
// a route schema is a module constant of generated/operations.ts, so the second app a process
// builds (a test file builds many) finds every validator and serializer already compiled.
import type { Ajv } from 'ajv'
import type { FastifyServerOptions } from 'fastify'
import fastJsonStringify from 'fast-json-stringify'
import { createAjv } from './ajv.ts'

type Schema = Record<string, unknown>
type ExternalSchemas = Record<string, unknown>
type Serializer = (data: unknown) => string

interface Compiled {
  /** The registry these were built for, as text: Fastify hands each app its own copies. */
  registry: string
  /** Bodies are validated strictly: "1" is not a number. */
  body: Ajv
  /** Query strings, params and headers only carry text, so those are coerced to the declared types. */
  text: Ajv
  /** By response schema object. */
  serializers: WeakMap<object, Serializer>
}

let compiled: Compiled | undefined

function compiledFor (externalSchemas: ExternalSchemas): Compiled {
  const registry = JSON.stringify(externalSchemas)
  if (compiled?.registry !== registry) {
    const schemas = Object.values(externalSchemas) as Schema[]
    compiled = {
      registry,
      body: createAjv({ coerceTypes: false, schemas }),
      text: createAjv({ coerceTypes: 'array', schemas }),
      serializers: new WeakMap()
    }
  }
  return compiled
}

/**
 * The registered schemas `schema` reaches through `$ref`, directly or through one another.
 * fast-json-stringify walks and checks every external schema it is given on every compile, so
 * each serializer gets only those it uses (a handful) rather than all of them.
 */
function reachable (schema: unknown, externalSchemas: ExternalSchemas): ExternalSchemas {
  const found: ExternalSchemas = {}
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk)
    if (node === null || typeof node !== 'object') return
    const ref = (node as Schema).$ref
    if (typeof ref === 'string' && !ref.startsWith('#')) {
      const id = ref.split('#')[0] as string
      const target = externalSchemas[id]
      if (target !== undefined && !(id in found)) {
        found[id] = target
        walk(target)
      }
    }
    Object.values(node).forEach(walk)
  }
  walk(schema)
  return found
}

type CompilersFactory = NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>

export const routeCompilers: Required<CompilersFactory> = {
  buildValidator: (externalSchemas) => {
    const { body, text } = compiledFor(externalSchemas as ExternalSchemas)
    return ({ schema, httpPart }) => (httpPart === 'body' ? body : text).compile(schema)
  },
  buildSerializer: (externalSchemas, serializerOptions) => {
    const { serializers } = compiledFor(externalSchemas as ExternalSchemas)
    // Loop sets no serializer options; a caller that does gets serializers of its own.
    const cache = serializerOptions === undefined || Object.keys(serializerOptions).length === 0 ? serializers : new WeakMap<object, Serializer>()
    return ({ schema: given }) => {
      const schema = given as Schema
      let serialize = cache.get(schema)
      if (serialize === undefined) {
        serialize = fastJsonStringify(schema, { ...serializerOptions, schema: reachable(schema, externalSchemas as ExternalSchemas) as never }) as Serializer
        cache.set(schema, serialize)
      }
      return serialize
    }
  }
}
