// /mcp driven by the official MCP client over Streamable HTTP, against a listening Loop.
import t from 'tap'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { authHeaders, build, envelope, type TestContext } from '../helper.ts'

const app = await build(t, {}, undefined)
await app.listen({ port: 0, host: '127.0.0.1' })
const address = app.server.address()
if (address === null || typeof address === 'string') throw new Error('not listening on TCP')
const mcpUrl = new URL(`http://127.0.0.1:${address.port}/mcp`)

async function connect (t: TestContext, headers: Record<string, string>): Promise<Client> {
  const client = new Client({ name: 'loop-test', version: '0.0.0' })
  await client.connect(new StreamableHTTPClientTransport(mcpUrl, { requestInit: { headers } }))
  t.teardown(async () => { await client.close() })
  return client
}

interface ToolOutcome { isError: boolean, body: Record<string, unknown> }

async function call (client: Client, name: string, args: Record<string, unknown>): Promise<ToolOutcome> {
  const result = await client.callTool({ name, arguments: args })
  const content = result.content as { type: string, text: string }[]
  return { isError: result.isError === true, body: JSON.parse(content[0]?.text ?? 'null') as Record<string, unknown> }
}

const agentKey = await authHeaders(app, ['schemas:write', 'events:write', 'events:read', 'issues:read', 'issues:write', 'signals:read', 'webhooks:manage'])

t.test('tools/list names all nine tools with their generated input schemas', async (t) => {
  const client = await connect(t, agentKey)
  const { tools } = await client.listTools()
  t.same(tools.map((tool) => tool.name).sort(), [
    'brands.create', 'events.declare', 'events.schema', 'events.send', 'issues.claim',
    'issues.list', 'issues.update', 'signals.list', 'webhooks.create'
  ])
  const claim = tools.find((tool) => tool.name === 'issues.claim')
  t.match(claim?.inputSchema, { type: 'object', required: ['agent'] })
})

t.test('declare an event type, send an event of it, and read its schema back', async (t) => {
  const client = await connect(t, agentKey)
  const declared = await call(client, 'events.declare', {
    name: 'mcp.tested.v1',
    fields: { eventId: { type: 'uuid', required: true }, email: { type: 'email', required: true } }
  })
  t.equal(declared.isError, false, JSON.stringify(declared.body))
  t.match(declared.body, { ok: true, created: true, schema: { name: 'mcp.tested.v1' } })

  const sent = await call(client, 'events.send', { event: 'mcp.tested.v1', payload: { eventId: '550e8400-e29b-41d4-a716-446655440000', email: 'a@example.com' } })
  t.equal(sent.isError, false, JSON.stringify(sent.body))
  t.match(sent.body, { ok: true, event: 'mcp.tested.v1', eventId: String })
  const stored = await app.inject({ method: 'GET', url: `/api/events/${String(sent.body.eventId)}`, headers: agentKey })
  t.equal(stored.statusCode, 200, stored.body)

  const schema = await call(client, 'events.schema', { name: 'mcp.tested.v1' })
  t.match(schema.body, { name: 'mcp.tested.v1', fields: { email: { type: 'email', required: true } }, jsonSchema: { type: 'object' } })

  const invalid = await call(client, 'events.send', { event: 'mcp.tested.v1', payload: { eventId: 'nope', email: 'not an email' } })
  t.equal(invalid.isError, true)
  t.match(invalid.body, { code: 'VALIDATION_ERROR', issues: [{ path: 'eventId' }, { path: 'email', code: 'invalid_string' }] })
})

t.test('events.send honours an idempotencyKey like the REST header', async (t) => {
  const client = await connect(t, agentKey)
  await call(client, 'events.declare', { name: 'mcp.idempotent.v1', fields: { eventId: { type: 'string', required: true } } })
  const args = { event: 'mcp.idempotent.v1', payload: { eventId: 'order-1' }, idempotencyKey: 'order-1' }
  const first = await call(client, 'events.send', args)
  t.equal(first.isError, false, JSON.stringify(first.body))
  t.notOk('idempotentReplayed' in first.body)
  const again = await call(client, 'events.send', args)
  t.same(again.body, { ...first.body, idempotentReplayed: true }, 'the first result, marked as replayed')
  const reused = await call(client, 'events.send', { ...args, payload: { eventId: 'order-2' } })
  t.equal(reused.isError, true)
  t.match(reused.body, { code: 'IDEMPOTENCY_KEY_REUSED' })
  const empty = await call(client, 'events.send', { ...args, idempotencyKey: '' })
  t.match(empty.body, { code: 'VALIDATION_ERROR', issues: [{ path: 'idempotencyKey' }] })
})

t.test('an issue made over REST is claimed and moved to done through the tools', async (t) => {
  const created = await app.inject({ method: 'POST', url: '/api/issues', headers: agentKey, payload: { title: 'Fix the MCP test', type: 'bug', priority: 1 } })
  t.equal(created.statusCode, 201, created.body)
  const issueId = created.json().issue.id as string
  const client = await connect(t, agentKey)

  // A single status is coerced to a list, as GET /api/issues?status=todo is.
  const listed = await call(client, 'issues.list', { status: 'todo' })
  t.match(listed.body, { ok: true, issues: [{ id: issueId }] })

  const claimed = await call(client, 'issues.claim', { agent: 'mcp-agent' })
  t.equal(claimed.isError, false, JSON.stringify(claimed.body))
  t.match(claimed.body, { ok: true, issue: { id: issueId, status: 'in_progress', claimedBy: 'mcp-agent' } })

  const updated = await call(client, 'issues.update', { id: issueId, changes: { status: 'done' } })
  t.match(updated.body, { ok: true, issue: { id: issueId, status: 'done' } })
  const read = await app.inject({ method: 'GET', url: `/api/issues/${issueId}`, headers: agentKey })
  t.equal(read.json().issue.status, 'done')

  const nothing = await call(client, 'issues.claim', { agent: 'mcp-agent' })
  t.same(nothing.body, { ok: true, issue: null })

  const wrongTransition = await call(client, 'issues.update', { id: issueId, changes: { status: 'in_progress' } })
  t.match(wrongTransition, { isError: true, body: { code: 'CONFLICT' } })
})

t.test('a key without the scope gets a FORBIDDEN tool error, and the session keeps working', async (t) => {
  const client = await connect(t, await authHeaders(app, ['issues:read']))
  const denied = await call(client, 'issues.claim', { agent: 'reader' })
  t.match(denied, { isError: true, body: { code: 'FORBIDDEN', message: 'This key lacks the issues:write scope' } })
  const brand = await call(client, 'brands.create', { name: 'Nope' })
  t.match(brand, { isError: true, body: { code: 'FORBIDDEN' } })
  const listed = await call(client, 'issues.list', {})
  t.equal(listed.isError, false)
  // events.schema is public, like GET /api/events/schemas/{name}.
  const schema = await call(client, 'events.schema', { name: 'lead.captured.v1' })
  t.match(schema, { isError: false, body: { name: 'lead.captured.v1' } })
})

t.test('admin creates a brand through brands.create', async (t) => {
  const client = await connect(t, await authHeaders(app, ['admin']))
  const created = await call(client, 'brands.create', { name: 'MCP brand' })
  t.match(created.body, { ok: true, brand: { name: 'MCP brand' }, key: { secret: /^lk_live_/ } })
})

t.test('invalid arguments give a VALIDATION_ERROR tool error listing every issue', async (t) => {
  const client = await connect(t, agentKey)
  const result = await call(client, 'issues.update', { id: 'not-a-uuid', changes: { status: 'sideways' }, extra: 1 })
  t.equal(result.isError, true)
  t.match(result.body, { code: 'VALIDATION_ERROR', message: String })
  const issues = result.body.issues as { path: string, code: string }[]
  t.same(issues.map((issue) => `${issue.path}:${issue.code}`).sort(), ['changes.status:invalid_enum_value', 'extra:unrecognized_keys', 'id:invalid_string'])
  const unknown = await call(client, 'issues.delete', {})
  t.match(unknown, { isError: true, body: { code: 'NOT_FOUND' } })
})

t.test('without a valid key /mcp answers HTTP 401 in the SPEC envelope', async (t) => {
  const initialize = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '0' } } }
  const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }
  const missing = await fetch(mcpUrl, { method: 'POST', headers, body: JSON.stringify(initialize) })
  t.equal(missing.status, 401)
  t.match(await missing.json(), envelope('UNAUTHORIZED'))
  const invalid = await fetch(mcpUrl, { method: 'POST', headers: { ...headers, authorization: 'Bearer lk_live_00000000000000000000000000000000' }, body: JSON.stringify(initialize) })
  t.equal(invalid.status, 401)
  t.match(await invalid.json(), envelope('UNAUTHORIZED'))
  await t.rejects(connect(t, {}))
})

t.test('authenticated responses carry the key\'s rate-limit headers; GET and DELETE are 405', async (t) => {
  const headers = { ...agentKey, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '0' } } })
  const response = await fetch(mcpUrl, { method: 'POST', headers, body })
  t.equal(response.status, 200)
  t.equal(response.headers.get('x-ratelimit-limit'), '100')
  t.ok(response.headers.get('x-ratelimit-remaining'))
  t.match(await response.json(), { jsonrpc: '2.0', id: 1, result: { serverInfo: { name: 'loop' } } })
  for (const method of ['GET', 'DELETE']) {
    const refused = await app.inject({ method: method as 'GET', url: '/mcp', headers: agentKey })
    t.equal(refused.statusCode, 405, method)
    t.match(refused.json(), envelope('METHOD_NOT_ALLOWED'))
  }
})

const rpcHeaders = (key: Record<string, string>) => ({ ...key, 'content-type': 'application/json', accept: 'application/json, text/event-stream' })
const toolsList = (id: number) => ({ jsonrpc: '2.0', id, method: 'tools/list' })
const postRpc = async (key: Record<string, string>, body: unknown) =>
  await fetch(mcpUrl, { method: 'POST', headers: rpcHeaders(key), body: typeof body === 'string' ? body : JSON.stringify(body) })

t.test('each JSON-RPC call in a batch costs one token: 100 calls leave 99 fewer than one call', async (t) => {
  const one = await postRpc(await authHeaders(app, ['events:read']), toolsList(1))
  t.equal(one.status, 200)
  t.equal(one.headers.get('x-ratelimit-remaining'), '199', 'a fresh standard bucket (burst 200) less one call')
  const key = await authHeaders(app, ['events:read'])
  const batch = Array.from({ length: 100 }, (_, i) => toolsList(i + 1))
  const hundred = await postRpc(key, batch)
  t.equal(hundred.status, 200)
  t.equal(hundred.headers.get('x-ratelimit-remaining'), '100', 'a fresh bucket less 100 calls')
  const answers = await hundred.json() as { id: number, result?: { tools: unknown[] } }[]
  t.equal(answers.length, 100)
  t.ok(answers.every((a) => Array.isArray(a.result?.tools)), 'every call answered')

  // About 100 tokens are left, plus what each request's few milliseconds refill (100/s): the
  // second batch fits, the third finds only that refill and is refused as a whole.
  const statuses: number[] = []
  let refused: Response | undefined
  while (refused === undefined && statuses.length < 5) {
    const res = await postRpc(key, batch)
    statuses.push(res.status)
    if (res.status === 429) refused = res
    else await res.arrayBuffer()
  }
  t.same(statuses.slice(0, 1), [200], 'the second batch of 100 fits in what was left')
  t.ok(refused !== undefined, `a batch bigger than what is left is refused (statuses ${statuses.join(', ')})`)
  if (refused === undefined) return
  t.match(await refused.json(), envelope('RATE_LIMITED'))
  t.ok(Number(refused.headers.get('retry-after')) >= 1, `Retry-After ${String(refused.headers.get('retry-after'))}`)
  const left = Number(refused.headers.get('x-ratelimit-remaining'))
  t.ok(left < 99, `X-RateLimit-Remaining ${left}: fewer tokens than the batch needs`)
})

t.test('a batch of more than 100 messages is 400 in the SPEC envelope, before any token is spent on it', async (t) => {
  const key = await authHeaders(app, ['events:read'])
  const res = await postRpc(key, Array.from({ length: 101 }, (_, i) => toolsList(i + 1)))
  t.equal(res.status, 400)
  t.match(await res.json(), envelope('BAD_REQUEST'))
  t.equal(res.headers.get('x-ratelimit-remaining'), '199', 'only the request itself was counted')
})

t.test('a JSON-RPC body nested deeper than LOOP_JSON_MAX_DEPTH is 400 in the envelope', async (t) => {
  // tools/list with `params._meta.x` holding the rest: root, params and _meta are three levels.
  const nested = (depth: number) => `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"x":${'{"a":'.repeat(depth - 3)}1${'}'.repeat(depth - 3)}}}}`
  for (const depth of [65, 20_000]) {
    const res = await postRpc(agentKey, nested(depth))
    t.equal(res.status, 400, `${depth} levels`)
    t.match(await res.json(), envelope('BAD_REQUEST'))
  }
  const fits = await postRpc(agentKey, nested(64))
  t.equal(fits.status, 200, '64 levels')
})
