// The contract's words on a tool's arguments. `generated/` keeps only what validates (descriptions
// are dropped there), so the descriptions `tools/list` shows are read from openapi/loop.yaml itself
// and laid over the tool's validating schema: an argument is described exactly where the REST
// operation it mirrors describes it, and cannot drift from it.
import { operationsOf, type Contract, type JsonSchema } from '../contract/openapi.ts'

/** One operation as the contract documents it, in the shapes `generated/operations.ts` gives its parts. */
export interface OperationDocs {
  /** Path parameters as an object schema: one property per parameter, carrying its description. */
  params: JsonSchema
  querystring: JsonSchema
  /** Header parameters, named in lower case as the generated schema (and Node) names them. */
  headers: JsonSchema
  body: JsonSchema
}

export type ContractDocs = (operationId: string) => OperationDocs

export function contractDocs (contract: Contract): ContractDocs {
  const operations = new Map(operationsOf(contract.document, contract.deref).map((op) => [op.operationId, op]))
  return (operationId) => {
    const op = operations.get(operationId)
    if (op === undefined) throw new Error(`the contract has no operation ${operationId}`)
    const part = (location: string): JsonSchema => ({
      type: 'object',
      properties: Object.fromEntries(op.parameters.filter((p) => p.in === location).map((p) => {
        const schema = contract.deref(p.schema)
        const description = (p as { description?: unknown }).description ?? schema.description
        return [location === 'header' ? p.name.toLowerCase() : p.name, { ...schema, ...(description === undefined ? {} : { description }) }]
      }))
    })
    return { params: part('path'), querystring: part('query'), headers: part('header'), body: op.body === null ? {} : contract.deref(op.body) }
  }
}

const isObject = (node: unknown): node is JsonSchema => node !== null && typeof node === 'object' && !Array.isArray(node)

/**
 * A copy of `schema` with the `description` (and JSON Schema `examples`) of the node at the same
 * place in `documented`, walking properties, items, additionalProperties and the combinators.
 * Where the contract says nothing, what `schema` carries is kept.
 */
export function withDescriptions (schema: JsonSchema, documented: JsonSchema, deref: Contract['deref']): JsonSchema {
  const doc = deref(documented)
  const out: JsonSchema = { ...schema }
  if (typeof doc.description === 'string') out.description = doc.description
  if (Array.isArray(doc.examples) && out.examples === undefined) out.examples = doc.examples
  const docProperties = isObject(doc.properties) ? doc.properties : {}
  if (isObject(schema.properties)) {
    out.properties = Object.fromEntries(Object.entries(schema.properties).map(([name, property]) => {
      const documentedProperty = docProperties[name]
      return [name, isObject(property) && isObject(documentedProperty) ? withDescriptions(property, documentedProperty, deref) : property]
    }))
  }
  for (const key of ['items', 'additionalProperties'] as const) {
    const child = schema[key]
    const docChild = doc[key]
    if (isObject(child) && isObject(docChild)) out[key] = withDescriptions(child, docChild, deref)
  }
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
    const children = schema[key]
    const docChildren = doc[key]
    if (Array.isArray(children) && Array.isArray(docChildren)) {
      out[key] = children.map((child: unknown, i) => isObject(child) && isObject(docChildren[i]) ? withDescriptions(child, docChildren[i], deref) : child)
    }
  }
  return out
}
