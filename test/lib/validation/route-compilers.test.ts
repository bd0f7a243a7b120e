import t from 'tap'
import * as ops from '../../../generated/operations.ts'
import { componentSchemas } from '../../../generated/schemas.ts'
import { routeCompilers } from '../../../lib/validation/route-compilers.ts'

// What Fastify hands the factories: the schemas the app registered with addSchema, by $id, as
// copies of its own (each app clones what it registers).
type Registry = Parameters<typeof routeCompilers.buildValidator>[0]
const registry = (): Registry => Object.fromEntries(componentSchemas.map((schema) => [String(schema.$id), structuredClone(schema)]))

t.test('a body that is a $ref validates against the registered component, its defaults filled', async (t) => {
  const validate = routeCompilers.buildValidator(registry(), {})({ schema: ops.createIssue.schema.body, httpPart: 'body', method: 'POST', url: '/api/issues' })
  const body: Record<string, unknown> = { title: 'Checkout fails' }
  t.equal(validate(body), true)
  t.match(body, { title: 'Checkout fails', type: 'task', priority: 3, status: 'todo' }, 'the default beside the $ref to IssuePriority applies')
  t.equal(validate({ title: 'x', priority: 9 }), false)
  t.match(validate.errors, [{ instancePath: '/priority' }], 'the error points into the referenced schema')
  t.equal(validate({ title: 'x', priority: '2' }), false, 'bodies are not coerced')
})

t.test('a query string coerces text through the references it holds', async (t) => {
  const validate = routeCompilers.buildValidator(registry(), {})({ schema: ops.listIssues.schema.querystring, httpPart: 'querystring', method: 'GET', url: '/api/issues' })
  const query: Record<string, unknown> = { priority: '2', status: 'todo' }
  t.equal(validate(query), true)
  t.same(query, { priority: [2], status: ['todo'], limit: 50 })
  t.equal(validate({ status: 'sleeping' }), false, 'the referenced enum still refuses what it does not list')
})

t.test('a response that is a $ref serializes with the component, and nothing it does not declare', async (t) => {
  const serialize = routeCompilers.buildSerializer(registry(), undefined)({ schema: ops.getIssue.schema.response[404], method: 'GET', url: '/api/issues/:id', httpStatus: '404' })
  const text = serialize({ ok: false, error: { code: 'NOT_FOUND', message: 'Issue x not found', stack: 'at …' }, internal: true })
  t.same(JSON.parse(text), { ok: false, error: { code: 'NOT_FOUND', message: 'Issue x not found' } })
})

t.test('a second app with the same registry compiles nothing again; another registry starts afresh', async (t) => {
  const schema = ops.getIssue.schema.response[404]
  const serializerOf = (schemas: Registry) => routeCompilers.buildSerializer(schemas, undefined)({ schema, method: 'GET', url: '/api/issues/:id', httpStatus: '404' })
  const validatorOf = (schemas: Registry) => routeCompilers.buildValidator(schemas, {})({ schema: ops.createIssue.schema.body, httpPart: 'body', method: 'POST', url: '/api/issues' })
  t.equal(serializerOf(registry()), serializerOf(registry()), 'one serializer for both apps')
  t.equal(validatorOf(registry()), validatorOf(registry()), 'one validator for both apps')
  t.equal(ops.getIssue.schema.response[404], ops.listIssues.schema.response[401], 'every operation points at the one error envelope schema object')

  const other: Registry = { ...registry(), Extra: { $id: 'Extra', type: 'string' } }
  t.not(serializerOf(other), serializerOf(registry()))
  t.not(validatorOf(other), validatorOf(registry()))
})
