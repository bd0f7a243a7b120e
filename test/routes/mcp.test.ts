// /mcp driven by the official MCP client over Streamable HTTP, against a listening Loop.
import t from 'tap'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { ErrorCode } from '@modelcontextprotocol/sdk/types.js'
import { authHeaders, build, envelope, type TestContext } from '../helper.ts'
import { dependabotAlert, githubDelivery } from '../fixtures/provider-deliveries.ts'

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

const rpcHeaders = (key: Record<string, string>) => ({ ...key, 'content-type': 'application/json', accept: 'application/json, text/event-stream' })
const toolsList = (id: number) => ({ jsonrpc: '2.0', id, method: 'tools/list' })
const postRpc = async (key: Record<string, string>, body: unknown) =>
  await fetch(mcpUrl, { method: 'POST', headers: rpcHeaders(key), body: typeof body === 'string' ? body : JSON.stringify(body) })

interface ToolOutcome { isError: boolean, text: string, body: Record<string, unknown> }

/** A tool's answer: its structured content, or for an error (or a sentence) its text parsed when it is JSON. */
async function call (client: Client, name: string, args: Record<string, unknown>): Promise<ToolOutcome> {
  const result = await client.callTool({ name, arguments: args })
  const text = (result.content as { type: string, text: string }[])[0]?.text ?? ''
  const structured = result.structuredContent as Record<string, unknown> | undefined
  if (structured !== undefined && JSON.stringify(JSON.parse(text)) !== JSON.stringify(structured)) throw new Error(`${name}: the text is not the structured content`)
  return { isError: result.isError === true, text, body: structured ?? (result.isError === true ? JSON.parse(text) as Record<string, unknown> : {}) }
}

const agentKey = await authHeaders(app, ['schemas:write', 'events:write', 'events:read', 'issues:read', 'issues:write', 'signals:read', 'webhooks:manage'])

const toolNames = ['brands_create', 'events_declare', 'events_schema', 'events_send', 'issues_claim', 'issues_list', 'issues_update', 'signals_list', 'webhooks_create']

/** Every property of an object schema, at any depth, with its path. */
function propertiesOf (schema: Record<string, unknown>, path: string): [string, Record<string, unknown>][] {
  const found: [string, Record<string, unknown>][] = []
  for (const [name, property] of Object.entries((schema.properties ?? {}) as Record<string, Record<string, unknown>>)) {
    found.push([`${path}.${name}`, property], ...propertiesOf(property, `${path}.${name}`))
  }
  for (const key of ['items', 'additionalProperties']) {
    const child = schema[key]
    if (child !== null && typeof child === 'object') found.push(...propertiesOf(child as Record<string, unknown>, `${path}.${key}`))
  }
  return found
}

t.test('tools/list: names every client accepts, every argument described, titles and annotations', async (t) => {
  const client = await connect(t, agentKey)
  const { tools } = await client.listTools()
  t.same(tools.map((tool) => tool.name).sort(), toolNames)
  for (const tool of tools) {
    t.match(tool.name, /^[a-z][a-z0-9_]{0,39}$/, `${tool.name}: snake_case`)
    t.match(tool.name, /^[a-zA-Z0-9_-]{1,64}$/, `${tool.name}: accepted by the Anthropic and OpenAI tool APIs`)
    t.ok(typeof tool.title === 'string' && tool.title.length > 0, `${tool.name}: a title`)
    t.ok(typeof tool.description === 'string' && tool.description.length > 0, `${tool.name}: a description`)
    const hints = ['readOnlyHint', 'destructiveHint', 'idempotentHint', 'openWorldHint'] as const
    for (const hint of hints) t.type(tool.annotations?.[hint], 'boolean', `${tool.name}: ${hint}`)
    t.equal(tool.inputSchema.type, 'object')
    const properties = propertiesOf(tool.inputSchema, tool.name)
    t.ok(properties.length > 0, `${tool.name}: takes arguments`)
    for (const [path, property] of properties) {
      t.ok(typeof property.description === 'string' && property.description.length > 0, `${path} has a description`)
    }
  }
  const readOnly = tools.filter((tool) => tool.annotations?.readOnlyHint === true).map((tool) => tool.name).sort()
  t.same(readOnly, ['events_schema', 'issues_list', 'signals_list'], 'only the reads are read-only')
  const byName = new Map(tools.map((tool) => [tool.name, tool]))
  t.match(byName.get('issues_claim'), { inputSchema: { type: 'object', required: ['agent'], properties: { agent: { description: /recorded as `claimedBy`/ } } } })
  t.match(byName.get('issues_update'), { annotations: { destructiveHint: true, idempotentHint: true }, inputSchema: { properties: { id: { description: String }, changes: { properties: { status: { enum: Array } } } } } })
  t.match(byName.get('events_send'), { inputSchema: { properties: { idempotencyKey: { description: /eventId/ } } } })
  t.match(byName.get('issues_list'), { inputSchema: { properties: { iterator: { description: String }, limit: { maximum: Number } } } })
})

t.test('the server advertises tools and nothing it cannot do', async (t) => {
  const client = await connect(t, agentKey)
  t.same(client.getServerCapabilities(), { tools: {} }, 'no listChanged: a stateless server never sends it')
  t.match(client.getServerVersion(), { name: 'loop', version: String })
})

t.test('an unknown tool is the JSON-RPC error -32602, and the session keeps working', async (t) => {
  const client = await connect(t, agentKey)
  for (const name of ['issues.claim', 'issues_delete']) {
    await t.rejects(client.callTool({ name, arguments: {} }), { code: ErrorCode.InvalidParams, message: new RegExp(`Unknown tool: ${name.replace('.', '\\.')}`) }, name)
  }
  const raw = await postRpc(agentKey, { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'events.send', arguments: {} } })
  t.equal(raw.status, 200)
  const answer = await raw.json() as Record<string, unknown>
  t.match(answer, { jsonrpc: '2.0', id: 7, error: { code: -32602, message: /Unknown tool: events\.send/ } })
  t.notOk('result' in answer, 'an error, not a tool result')
  t.equal((await call(client, 'issues_list', {})).isError, false)
})

t.test('declare an event type, send an event of it, and read its schema back', async (t) => {
  const client = await connect(t, agentKey)
  const declared = await call(client, 'events_declare', {
    name: 'mcp.tested.v1',
    fields: { eventId: { type: 'uuid', required: true }, email: { type: 'email', required: true } }
  })
  t.equal(declared.isError, false, declared.text)
  t.match(declared.body, { name: 'mcp.tested.v1', builtIn: false })

  const eventId = '550e8400-e29b-41d4-a716-446655440000'
  const sent = await call(client, 'events_send', { event: 'mcp.tested.v1', payload: { eventId, email: 'a@example.com' } })
  t.equal(sent.isError, false, sent.text)
  t.match(sent.body, { ok: true, id: String, eventId, event: 'mcp.tested.v1', receivedAt: String })
  t.not(sent.body.id, eventId, '`id` is Loop\'s, `eventId` the payload\'s')
  const stored = await app.inject({ method: 'GET', url: `/api/events/${String(sent.body.id)}`, headers: agentKey })
  t.equal(stored.statusCode, 200, stored.body)
  const again = await call(client, 'events_send', { event: 'mcp.tested.v1', payload: { eventId, email: 'a@example.com' } })
  t.match(again.body, { ok: true, id: sent.body.id, eventId, duplicate: true }, 'the same eventId is the stored event')

  const schema = await call(client, 'events_schema', { name: 'mcp.tested.v1' })
  t.match(schema.body, { name: 'mcp.tested.v1', fields: { email: { type: 'email', required: true } }, jsonSchema: { type: 'object' } })

  const invalid = await call(client, 'events_send', { event: 'mcp.tested.v1', payload: { eventId: 'nope', email: 'not an email' } })
  t.equal(invalid.isError, true)
  t.match(invalid.body, { code: 'VALIDATION_ERROR', issues: [{ path: 'eventId' }, { path: 'email', code: 'invalid_string' }] })
})

t.test('events_send honours an idempotencyKey like the REST header', async (t) => {
  const client = await connect(t, agentKey)
  await call(client, 'events_declare', { name: 'mcp.idempotent.v1', fields: { eventId: { type: 'string', required: true } } })
  const args = { event: 'mcp.idempotent.v1', payload: { eventId: 'order-1' }, idempotencyKey: 'order-1' }
  const first = await call(client, 'events_send', args)
  t.equal(first.isError, false, first.text)
  t.notOk('idempotentReplayed' in first.body)
  const again = await call(client, 'events_send', args)
  t.same(again.body, { ...first.body, idempotentReplayed: true }, 'the first result, marked as replayed')
  const reused = await call(client, 'events_send', { ...args, payload: { eventId: 'order-2' } })
  t.equal(reused.isError, true)
  t.match(reused.body, { code: 'IDEMPOTENCY_KEY_REUSED' })
  const empty = await call(client, 'events_send', { ...args, idempotencyKey: '' })
  t.match(empty.body, { code: 'VALIDATION_ERROR', issues: [{ path: 'idempotencyKey' }] })
})

t.test('issues made over REST are listed page by page, claimed and moved to done through the tools', async (t) => {
  const key = await authHeaders(app, ['issues:read', 'issues:write'])
  for (const [title, priority] of [['Fix the MCP test', 1], ['Tidy the MCP docs', 3]] as const) {
    const created = await app.inject({ method: 'POST', url: '/api/issues', headers: key, payload: { title, type: 'bug', priority } })
    t.equal(created.statusCode, 201, created.body)
  }
  const client = await connect(t, key)

  // A single status is coerced to a list, as GET /api/issues?status=todo is.
  const first = await call(client, 'issues_list', { status: 'todo', limit: 1 })
  t.match(first.body, { data: [{ title: 'Fix the MCP test', status: 'todo' }], iterator: String, prevIterator: null, done: false })
  t.equal((first.body.data as unknown[]).length, 1)
  const second = await call(client, 'issues_list', { status: 'todo', limit: 1, iterator: first.body.iterator })
  t.match(second.body, { data: [{ title: 'Tidy the MCP docs' }], done: true, iterator: null })
  const foreign = await call(client, 'issues_list', { iterator: 'not-an-iterator' })
  t.match(foreign, { isError: true, body: { code: 'VALIDATION_ERROR' } })
  const issueId = (first.body.data as { id: string }[])[0]?.id

  const claimed = await call(client, 'issues_claim', { agent: 'mcp-agent' })
  t.equal(claimed.isError, false, claimed.text)
  t.match(claimed.body, { id: issueId, status: 'in_progress', claimedBy: 'mcp-agent' }, 'the issue itself, the most urgent first')
  t.notOk('ok' in claimed.body || 'issue' in claimed.body, 'bare, not wrapped')

  const updated = await call(client, 'issues_update', { id: issueId, changes: { status: 'done' } })
  t.match(updated.body, { id: issueId, status: 'done' })
  const done = await call(client, 'issues_list', { status: 'done' })
  t.match(done.body, { data: [{ id: issueId, status: 'done' }], done: true })

  await call(client, 'issues_claim', { agent: 'mcp-agent' })
  const nothing = await call(client, 'issues_claim', { agent: 'mcp-agent' })
  t.equal(nothing.isError, false)
  t.match(nothing.text, /^No issue to claim/)
  t.same(nothing.body, {}, 'no structured content: there is no issue')

  const wrongTransition = await call(client, 'issues_update', { id: issueId, changes: { status: 'in_progress' } })
  t.match(wrongTransition, { isError: true, body: { code: 'CONFLICT' } })
})

t.test('signals_list pages through the operator\'s provider signals', async (t) => {
  for (const number of [101, 102, 103]) {
    const alert = dependabotAlert()
    const received = await app.inject(githubDelivery('dependabot_alert', { ...alert, alert: { ...alert.alert, number } }))
    t.equal(received.statusCode, 201, `alert ${number} is a new signal`)
  }
  const client = await connect(t, await authHeaders(app, ['signals:read', 'admin']))
  const seen: string[] = []
  let page = await call(client, 'signals_list', { source: 'github', limit: 2 })
  t.match(page.body, { data: [{ source: 'github' }, { source: 'github' }], iterator: String, prevIterator: null, done: false })
  seen.push(...(page.body.data as { id: string }[]).map((s) => s.id))
  page = await call(client, 'signals_list', { source: 'github', limit: 2, iterator: page.body.iterator })
  t.match(page.body, { data: [{ source: 'github' }], iterator: null, done: true })
  seen.push(...(page.body.data as { id: string }[]).map((s) => s.id))
  t.equal(new Set(seen).size, 3, 'each signal once')
})

t.test('a key without the scope gets a FORBIDDEN tool error, and the session keeps working', async (t) => {
  const client = await connect(t, await authHeaders(app, ['issues:read']))
  const denied = await call(client, 'issues_claim', { agent: 'reader' })
  t.match(denied, { isError: true, body: { code: 'FORBIDDEN', message: 'This key lacks the issues:write scope' } })
  const brand = await call(client, 'brands_create', { name: 'Nope' })
  t.match(brand, { isError: true, body: { code: 'FORBIDDEN' } })
  const listed = await call(client, 'issues_list', {})
  t.match(listed, { isError: false, body: { data: [], done: true } })
  // events_schema is public, like GET /api/events/schema/{name}.
  const schema = await call(client, 'events_schema', { name: 'lead.captured.v1' })
  t.match(schema, { isError: false, body: { name: 'lead.captured.v1' } })
})

t.test('admin creates a brand through brands_create', async (t) => {
  const client = await connect(t, await authHeaders(app, ['admin']))
  const created = await call(client, 'brands_create', { name: 'MCP brand' })
  t.match(created.body, { brand: { name: 'MCP brand' }, key: { secret: /^lk_live_/ } })
  t.notOk('ok' in created.body, 'what POST /api/brands answers: {brand, key}')
})

t.test('webhooks_create registers an endpoint and shows its secret once', async (t) => {
  const client = await connect(t, agentKey)
  // A literal public address: no DNS and no traffic at registration; no mcp.tested.v1 is sent after this.
  const url = 'http://93.184.215.14/webhooks/loop'
  const endpoint = await call(client, 'webhooks_create', { url, events: ['mcp.tested.v1'] })
  t.equal(endpoint.isError, false, endpoint.text)
  t.match(endpoint.body, { id: String, url, events: ['mcp.tested.v1'], secret: String })
  const listed = await app.inject({ method: 'GET', url: `/api/webhooks/${String(endpoint.body.id)}`, headers: agentKey })
  t.equal(listed.statusCode, 200, listed.body)
  t.notOk('secret' in listed.json(), 'the secret is not shown again')
})

t.test('invalid arguments give a VALIDATION_ERROR tool error listing every issue', async (t) => {
  const client = await connect(t, agentKey)
  const result = await call(client, 'issues_update', { id: 'not-a-uuid', changes: { status: 'sideways' }, extra: 1 })
  t.equal(result.isError, true)
  t.match(result.body, { code: 'VALIDATION_ERROR', message: String })
  const issues = result.body.issues as { path: string, code: string }[]
  t.same(issues.map((issue) => `${issue.path}:${issue.code}`).sort(), ['changes.status:invalid_enum_value', 'extra:unrecognized_keys', 'id:invalid_string'])
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
  const initialized = await response.json() as { result: { capabilities: unknown } }
  t.match(initialized, { jsonrpc: '2.0', id: 1, result: { serverInfo: { name: 'loop' } } })
  t.same(initialized.result.capabilities, { tools: {} }, 'tools, and no listChanged')
  for (const method of ['GET', 'DELETE']) {
    const refused = await app.inject({ method: method as 'GET', url: '/mcp', headers: agentKey })
    t.equal(refused.statusCode, 405, method)
    t.match(refused.json(), envelope('METHOD_NOT_ALLOWED'))
  }
})

t.test('each JSON-RPC call in a batch costs one token: 100 calls leave 99 fewer than one call', async (t) => {
  const one = await postRpc(await authHeaders(app, ['events:read']), toolsList(1))
  t.equal(one.status, 200)
  t.equal(one.headers.get('x-ratelimit-remaining'), '199', 'a fresh standard bucket (burst 200) less one call')
  const key = await authHeaders(app, ['events:read'])
  const batch = Array.from({ length: 100 }, (_, i) => toolsList(i + 1))
  const started = Date.now()
  const hundred = await postRpc(key, batch)
  t.equal(hundred.status, 200)
  // The bucket refills 100/s while the batch runs: one token per 10 ms of the request may be back.
  const remaining = Number(hundred.headers.get('x-ratelimit-remaining'))
  t.ok(remaining >= 100 && remaining <= 100 + Math.ceil((Date.now() - started) / 10), `a fresh bucket less 100 calls (${remaining} left)`)
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
