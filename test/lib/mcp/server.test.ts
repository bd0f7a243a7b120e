// callTool without HTTP: an unknown tool is a protocol error; then scope check, validation, the
// tool, and every failure of those a tool error.
import t from 'tap'
import { Type } from '@sinclair/typebox'
import type { EntityManager } from '@mikro-orm/postgresql'
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js'
import { loadContract } from '../../../lib/contract/openapi.ts'
import { callTool, compileTools, type CallContext } from '../../../lib/mcp/server.ts'
import type { EventTypeRegistry } from '../../../lib/events/registry.ts'
import type { McpTool } from '../../../lib/mcp/tools.ts'
import type { Scope } from '../../../lib/keys/api-key.ts'

const failing: McpTool = {
  name: 'test_fail',
  title: 'Fail',
  description: 'throws something unexpected',
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  inputSchema: Type.Object({ n: Type.Integer() }, { additionalProperties: false }),
  operationId: 'claimIssue',
  documented: () => ({ properties: { n: { description: 'A number.' } } }),
  coerce: false,
  scopes: [['issues:write']],
  run: async () => { throw new Error('relation "issue" does not exist at SELECT * FROM issue') }
}
const tools = compileTools([failing], await loadContract())

function context (scopes: Scope[], logged: unknown[] = []): CallContext {
  return {
    caller: { keyId: 'k', env: 'live', scopes, tier: 'standard', brandId: null },
    eventTypes: {} as EventTypeRegistry,
    storeEvent: async () => { throw new Error('no event is stored here') },
    webhookPolicy: { allowPrivateUrls: false },
    forkEm: () => ({}) as EntityManager,
    logError: (error) => { logged.push(error) }
  }
}

const body = (result: { content: unknown[] }) => JSON.parse((result.content[0] as { text: string }).text) as Record<string, unknown>

t.test('an unexpected error is INTERNAL_ERROR without internals, and is logged', async (t) => {
  const logged: unknown[] = []
  const result = await callTool(tools, 'test_fail', { n: 1 }, context(['issues:write'], logged))
  t.equal(result.isError, true)
  t.same(body(result), { code: 'INTERNAL_ERROR', message: 'Internal server error' })
  t.equal(logged.length, 1)
})

t.test('the scope is checked before the arguments', async (t) => {
  const result = await callTool(tools, 'test_fail', { n: 'x' }, context(['issues:read']))
  t.same(body(result), { code: 'FORBIDDEN', message: 'This key lacks the issues:write scope' })
})

t.test('admin holds every scope; invalid arguments list every issue', async (t) => {
  const result = await callTool(tools, 'test_fail', { n: 'x', m: 1 }, context(['admin']))
  t.match(body(result), { code: 'VALIDATION_ERROR', issues: [{ path: 'm', code: 'unrecognized_keys' }, { path: 'n', code: 'invalid_type' }] })
})

t.test('missing arguments are an empty object, so required fields are reported', async (t) => {
  const result = await callTool(tools, 'test_fail', undefined, context(['admin']))
  t.match(body(result), { code: 'VALIDATION_ERROR', issues: [{ path: 'n', code: 'required' }] })
})

t.test('an unknown tool throws McpError -32602, which the SDK sends as a JSON-RPC error', async (t) => {
  await t.rejects(callTool(tools, 'test.fail', {}, context(['admin'])), new McpError(ErrorCode.InvalidParams, 'Unknown tool: test.fail. tools/list names the tools this server has.'))
})

t.test('the listed definition: JSON Schema described by the tool\'s documentation, title and hints', async (t) => {
  const definition = tools.get('test_fail')?.definition
  t.same(definition, {
    name: 'test_fail',
    title: 'Fail',
    description: 'throws something unexpected',
    inputSchema: { type: 'object', additionalProperties: false, required: ['n'], properties: { n: { type: 'integer', description: 'A number.' } } },
    annotations: { title: 'Fail', readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false }
  })
})
