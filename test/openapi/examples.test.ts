// `/docs` shows every operation with examples (issue 8), and an example is only worth showing if
// it is true: every JSON request body, every JSON 2xx response, every path and header parameter and
// every shared error response carries one, and each validates against its schema (Ajv, as the routes do).
// Query parameters and Idempotency-Key carry none (parameterProblems says why).
import t from 'tap'
import { derefIn, loadContract, type JsonSchema } from '../../lib/contract/openapi.ts'
import { createAjv } from '../../lib/validation/ajv.ts'

const methods = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options']
const ajv = createAjv({ useDefaults: false })

type Deref = (node: JsonSchema) => JsonSchema
const isObject = (value: unknown): value is JsonSchema => value !== null && typeof value === 'object' && !Array.isArray(value)

/** The schema with every local `$ref` inlined, so Ajv needs no document to resolve against. */
function inline (schema: JsonSchema, deref: Deref, depth = 0): JsonSchema {
  if (depth > 64) throw new Error('schema nests too deep (a $ref cycle?)')
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk)
    if (!isObject(node)) return node
    const resolved = typeof node.$ref === 'string' ? inline(deref(node), deref, depth + 1) : node
    return Object.fromEntries(Object.entries(resolved).map(([key, value]) => [key, walk(value)]))
  }
  return walk(schema) as JsonSchema
}

/** `example`, or every `examples.<name>.value` (OpenAPI Example Objects), of a media type or parameter. */
function examplesOf (holder: JsonSchema, deref: Deref): [string, unknown][] {
  const out: [string, unknown][] = []
  if ('example' in holder) out.push(['example', holder.example])
  if (isObject(holder.examples)) {
    for (const [name, example] of Object.entries(holder.examples)) {
      const resolved = isObject(example) ? deref(example) : {}
      if ('value' in resolved) out.push([`examples.${name}`, resolved.value])
    }
  }
  return out
}

/** Every failure of one place that must show examples: none at all, or one its schema refuses. */
function checkExamples (where: string, holder: JsonSchema, deref: Deref): string[] {
  const examples = examplesOf(holder, deref)
  if (examples.length === 0) return [`${where} has no example`]
  if (!isObject(holder.schema)) return [`${where} has no schema to check its examples against`]
  const validate = ajv.compile(inline(holder.schema, deref))
  const problems: string[] = []
  for (const [name, value] of examples) {
    if (!validate(value)) {
      const errors = (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? e.keyword}`).join('; ')
      problems.push(`${where} ${name} does not match its schema: ${errors}`)
    }
  }
  return problems
}

/**
 * Path and header parameters show an example. Query parameters and Idempotency-Key must not:
 * "Try it out" sends an example as if typed, so a filter example would change what a list returns,
 * and a fixed Idempotency-Key would turn every try after the first into a replay.
 */
function parameterProblems (where: string, parameter: JsonSchema, deref: Deref): string[] {
  if (parameter.in !== 'query' && parameter.name !== 'Idempotency-Key') return checkExamples(where, parameter, deref)
  return examplesOf(parameter, deref).length === 0 ? [] : [`${where} has an example, which Try it out would send`]
}

const jsonOf = (node: unknown, deref: Deref): JsonSchema | undefined => {
  if (!isObject(node)) return undefined
  const content = deref(node).content
  return isObject(content) && isObject(content['application/json']) ? content['application/json'] : undefined
}

/** Walks the whole document; an empty list means every example is present and true. */
function exampleProblems (document: JsonSchema, deref: Deref): string[] {
  const problems: string[] = []
  const operationsIn = (section: unknown) => Object.entries(isObject(section) ? section : {}).flatMap(([path, item]) =>
    methods.filter((m) => isObject(item) && isObject(item[m])).map((m) => ({ path, item: item as JsonSchema, method: m, op: (item as JsonSchema)[m] as JsonSchema })))
  for (const { path, item, method, op } of [...operationsIn(document.paths), ...operationsIn(document.webhooks)]) {
    const label = `${method.toUpperCase()} ${path}`
    const parameters = [...(item.parameters as unknown[] ?? []), ...(op.parameters as unknown[] ?? [])].filter(isObject).map(deref)
    for (const parameter of parameters) problems.push(...parameterProblems(`${label} ${String(parameter.in)} parameter ${String(parameter.name)}`, parameter, deref))
    const body = jsonOf(op.requestBody, deref)
    if (body !== undefined) problems.push(...checkExamples(`${label} request body`, body, deref))
    for (const [status, response] of Object.entries(isObject(op.responses) ? op.responses : {})) {
      const json = jsonOf(response, deref)
      if (/^2\d\d$/.test(status) && json !== undefined) problems.push(...checkExamples(`${label} ${status} response`, json, deref))
    }
  }
  const components = isObject(document.components) ? document.components : {}
  for (const [name, parameter] of Object.entries(isObject(components.parameters) ? components.parameters : {})) {
    if (isObject(parameter)) problems.push(...parameterProblems(`components.parameters.${name}`, parameter, deref))
  }
  for (const [name, response] of Object.entries(isObject(components.responses) ? components.responses : {})) {
    const json = jsonOf(response, deref)
    if (json !== undefined) problems.push(...checkExamples(`components.responses.${name}`, json, deref))
  }
  // Schema-level examples are optional, but a wrong one would show in /docs just the same.
  for (const [name, schema] of Object.entries(isObject(components.schemas) ? components.schemas : {})) {
    if (isObject(schema) && 'example' in schema) problems.push(...checkExamples(`components.schemas.${name}`, { schema, example: schema.example }, deref))
  }
  return problems
}

const { document, deref } = await loadContract()

t.test('every operation shows examples, and every example matches its schema', async (t) => {
  const problems = exampleProblems(document, deref)
  t.same(problems, [], problems.join('\n'))
})

t.test('the check fails for an operation without examples, a query parameter with one, and an example its schema refuses', async (t) => {
  const copy = structuredClone(document)
  const paths = copy.paths as Record<string, JsonSchema>
  paths['/api/things'] = {
    post: {
      operationId: 'createThing',
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }, { name: 'status', in: 'query', schema: { type: 'string' }, example: 'todo' }],
      requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/CreateIssueRequest' } } } },
      responses: { 201: { description: 'Made', content: { 'application/json': { schema: { $ref: '#/components/schemas/Issue' } } } } }
    }
  }
  const issues = (paths['/api/issues'] as JsonSchema).post as JsonSchema
  const media = ((issues.requestBody as JsonSchema).content as Record<string, JsonSchema>)['application/json'] as JsonSchema
  media.example = { title: '', priority: 9 }
  const problems = exampleProblems(copy, derefIn(copy))
  t.same(problems.filter((p) => p.startsWith('POST /api/things')), [
    'POST /api/things path parameter id has no example',
    'POST /api/things query parameter status has an example, which Try it out would send',
    'POST /api/things request body has no example',
    'POST /api/things 201 response has no example'
  ])
  t.match(problems.find((p) => p.startsWith('POST /api/issues request body')), /example does not match its schema: \/title must NOT have fewer than 1 characters; \/priority must be <= 4/)
})
