// Reads openapi/loop.yaml, the single source of truth, for the generator, the docs plugin and the
// MCP tools' descriptions: parsed once per process (the YAML takes a few hundred milliseconds) and
// frozen, since every app a process builds shares the one document.
import { readFile } from 'node:fs/promises'
import { parse } from 'yaml'

export type JsonSchema = Record<string, unknown>

export interface Contract {
  document: JsonSchema
  /** Resolves a local `$ref` (`#/components/...`) to its target, repeatedly; other nodes pass through. */
  deref: (node: JsonSchema) => JsonSchema
}

export interface ContractOperation {
  operationId: string
  method: string
  path: string
  tags: string[]
  summary?: string
  security?: unknown
  parameters: { name: string, in: string, required?: boolean, schema: JsonSchema }[]
  body: JsonSchema | null
  /** Status code → JSON body schema (null for a response without content). */
  responses: [number, JsonSchema | null][]
}

export const contractUrl = new URL('../../openapi/loop.yaml', import.meta.url)

let loaded: Promise<Contract> | undefined

export async function loadContract (): Promise<Contract> {
  loaded ??= readFile(contractUrl, 'utf8').then((text) => {
    const document = deepFreeze(parse(text) as JsonSchema)
    return { document, deref: derefIn(document) }
  })
  return await loaded
}

function deepFreeze<T> (node: T): T {
  if (node !== null && typeof node === 'object' && !Object.isFrozen(node)) {
    Object.freeze(node)
    for (const value of Object.values(node)) deepFreeze(value)
  }
  return node
}

/** `deref` over any document shaped like the contract (e.g. a test's doctored copy). */
export function derefIn (document: JsonSchema): Contract['deref'] {
  return (node) => {
    let current = node
    for (let hops = 0; typeof current.$ref === 'string'; hops++) {
      const ref = current.$ref
      if (!ref.startsWith('#/') || hops > 32) throw new Error(`unsupported $ref ${ref}`)
      const target = ref.slice(2).split('/').reduce<unknown>((at, key) => (at as JsonSchema | undefined)?.[key.replace(/~1/g, '/').replace(/~0/g, '~')], document)
      if (target === undefined) throw new Error(`dangling $ref ${ref}`)
      const { $ref: _ref, ...siblings } = current
      current = { ...(target as JsonSchema), ...siblings }
    }
    return current
  }
}

const methods = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options']

export function operationsOf (document: JsonSchema, deref: (node: JsonSchema) => JsonSchema): ContractOperation[] {
  const out: ContractOperation[] = []
  const paths = (document.paths ?? {}) as Record<string, JsonSchema>
  for (const [path, item] of Object.entries(paths)) {
    const shared = (item.parameters ?? []) as JsonSchema[]
    for (const method of methods) {
      const op = item[method] as JsonSchema | undefined
      if (op === undefined) continue
      if (typeof op.operationId !== 'string') throw new Error(`${method.toUpperCase()} ${path} has no operationId`)
      const parameters = [...shared, ...((op.parameters ?? []) as JsonSchema[])].map((p) => deref(p)) as ContractOperation['parameters']
      const requestBody = op.requestBody === undefined ? null : deref(op.requestBody as JsonSchema)
      const bodyContent = (requestBody?.content as Record<string, JsonSchema> | undefined)?.['application/json']
      const responses: [number, JsonSchema | null][] = []
      for (const [status, response] of Object.entries((op.responses ?? {}) as Record<string, JsonSchema>)) {
        if (!/^\d{3}$/.test(status)) continue
        const resolved = deref(response)
        const json = (resolved.content as Record<string, JsonSchema> | undefined)?.['application/json']
        responses.push([Number(status), (json?.schema as JsonSchema | undefined) ?? null])
      }
      out.push({
        operationId: op.operationId,
        method,
        path,
        tags: (op.tags ?? []) as string[],
        ...(typeof op.summary === 'string' ? { summary: op.summary } : {}),
        ...(op.security !== undefined ? { security: op.security } : {}),
        parameters,
        body: (bodyContent?.schema as JsonSchema | undefined) ?? null,
        responses
      })
    }
  }
  return out
}

// Keywords that document rather than validate; Ajv in strict mode would also reject `example`.
const docOnly = new Set(['example', 'examples', 'description', 'summary', 'title', 'externalDocs', 'deprecated', 'xml'])

/** `schema` with every `$ref` resolved and the documentation keywords dropped: what Ajv (and Fastify) validate against. */
export function validationSchema (schema: JsonSchema, deref: (s: JsonSchema) => JsonSchema): JsonSchema {
  return stripped(schema, deref, false)
}

const componentRef = /^#\/components\/schemas\/([^/]+)$/

/**
 * Like validationSchema, but a `$ref` to a component schema stays a reference, `{ $ref: 'Name#' }`:
 * the form Fastify (and Ajv) resolve against schemas registered under `$id: 'Name'`, so each
 * component is described and compiled once however many operations use it.
 */
export function referencingSchema (schema: JsonSchema, deref: (s: JsonSchema) => JsonSchema): JsonSchema {
  return stripped(schema, deref, true)
}

/**
 * `schema` standing alone: every `{ $ref: 'Name#' }` replaced by a copy of the component it names
 * (without its `$id`), for readers that have no registry (an MCP client reading `tools/list`).
 */
export function inlineComponents (schema: JsonSchema, components: ReadonlyMap<string, JsonSchema>): JsonSchema {
  const walk = (node: unknown, isPropertyMap = false): unknown => {
    if (Array.isArray(node)) return node.map((n) => walk(n))
    if (node === null || typeof node !== 'object') return node
    let current = node as JsonSchema
    const name = !isPropertyMap && typeof current.$ref === 'string' ? /^([^#/]+)#$/.exec(current.$ref)?.[1] : undefined
    if (name !== undefined) {
      const target = components.get(name)
      if (target === undefined) throw new Error(`dangling $ref ${String(current.$ref)}`)
      const { $id: _id, ...body } = target
      const { $ref: _ref, ...siblings } = current
      current = { ...body, ...siblings }
      return walk(current)
    }
    return Object.fromEntries(Object.entries(current).map(([key, value]) =>
      [key, walk(value, !isPropertyMap && (key === 'properties' || key === 'patternProperties' || key === '$defs'))]))
  }
  return walk(schema) as JsonSchema
}

function stripped (schema: JsonSchema, deref: (s: JsonSchema) => JsonSchema, keepComponentRefs: boolean): JsonSchema {
  const walk = (node: unknown, isPropertyMap = false): unknown => {
    if (Array.isArray(node)) return node.map((n) => walk(n))
    if (node === null || typeof node !== 'object') return node
    let resolved = node as JsonSchema
    if (!isPropertyMap) {
      const name = keepComponentRefs && typeof resolved.$ref === 'string' ? componentRef.exec(resolved.$ref)?.[1] : undefined
      // A kept reference keeps its validating siblings too (a `default` the property adds).
      resolved = name === undefined ? deref(resolved) : { ...resolved, $ref: `${name}#` }
    }
    const out: JsonSchema = {}
    for (const [key, value] of Object.entries(resolved)) {
      if (!isPropertyMap && docOnly.has(key)) continue
      // `properties` maps names to schemas: its keys are field names, never keywords to drop.
      out[key] = walk(value, !isPropertyMap && (key === 'properties' || key === 'patternProperties' || key === '$defs'))
    }
    return out
  }
  return walk(schema) as JsonSchema
}

/**
 * Every component schema of `document` in the referencing form, each with `$id` set to its name:
 * what `{ $ref: 'Name#' }` resolves to once they are added to a Fastify instance or an Ajv.
 */
export function componentSchemas (document: JsonSchema, deref: (s: JsonSchema) => JsonSchema): JsonSchema[] {
  const schemas = ((document.components as JsonSchema | undefined)?.schemas ?? {}) as Record<string, JsonSchema>
  return Object.entries(schemas).map(([name, schema]) => ({ $id: name, ...referencingSchema(schema, deref) }))
}

/** `/api/issues/{id}` → `/api/issues/:id` */
export function toFastifyPath (path: string): string {
  return path.replace(/\{([^}]+)\}/g, ':$1')
}
