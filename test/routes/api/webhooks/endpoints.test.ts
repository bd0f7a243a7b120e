import t from 'tap'
import { authHeaders, buildWithDetails, envelope } from '../../../helper.ts'

// Private destinations refused, as in production; no worker: nothing here is ever delivered.
const { app } = await buildWithDetails(t, {}, undefined, { deliveryWorker: false })
const manager = await authHeaders(app, ['webhooks:manage', 'events:read', 'issues:read'])
const publicUrl = 'http://93.184.215.14/webhooks/loop' // a literal public address: no DNS, no traffic at registration

const create = (payload: Record<string, unknown>, headers = manager) => app.inject({ method: 'POST', url: '/api/webhooks', headers, payload })
const get = (path: string, headers = manager) => app.inject({ method: 'GET', url: path, headers })
const issuesOf = (body: { error: { issues?: { path: string, code: string }[] } }) => (body.error.issues ?? []).map((i) => `${i.code}@${i.path}`)

t.test('registering returns the endpoint and its secret, once', async (t) => {
  const res = await create({ url: publicUrl, events: ['lead.captured.v1', 'order.*'], description: 'CRM sync' })
  t.equal(res.statusCode, 201, res.body)
  const created = res.json()
  t.match(created, { id: /^[0-9a-f-]{36}$/, url: publicUrl, events: ['lead.captured.v1', 'order.*'], env: 'live', description: 'CRM sync', status: 'active', previousSecretExpiresAt: null, createdAt: String, updatedAt: String })
  t.match(created.secret, /^whsec_[A-Za-z0-9+/]{43}=$/)
  t.equal(Buffer.from(created.secret.slice(6), 'base64').length, 32)

  const one = await get(`/api/webhooks/${created.id}`)
  t.equal(one.statusCode, 200)
  t.notOk('secret' in one.json(), 'GET never shows the secret')
  t.notOk(one.body.includes(created.secret))
  const list = await get('/api/webhooks')
  t.ok(list.json().data.some((e: { id: string }) => e.id === created.id))
  t.notOk(list.body.includes(created.secret), 'nor does the list')
  const patched = await app.inject({ method: 'PATCH', url: `/api/webhooks/${created.id}`, headers: manager, payload: { description: 'renamed' } })
  t.notOk(patched.body.includes(created.secret), 'nor does PATCH')
})

t.test('env defaults to the key\'s; a test key registers test endpoints only; dev endpoints are refused', async (t) => {
  const testKey = await authHeaders(app, ['webhooks:manage', 'events:read'], { env: 'test' })
  const sandbox = await create({ url: publicUrl, events: ['*'] }, testKey)
  t.equal(sandbox.statusCode, 201)
  t.equal(sandbox.json().env, 'test')
  const live = await create({ url: publicUrl, events: ['*'], env: 'live' }, testKey)
  t.equal(live.statusCode, 422)
  t.same(issuesOf(live.json()), ['invalid_enum_value@env'])
  const devKey = await authHeaders(app, ['webhooks:manage', 'events:read'], { env: 'dev' })
  const dev = await create({ url: publicUrl, events: ['*'] }, devKey)
  t.equal(dev.statusCode, 422)
  t.match(dev.json(), envelope('VALIDATION_ERROR'))
  t.same(issuesOf(dev.json()), ['invalid_enum_value@env'])
  const explicitDev = await create({ url: publicUrl, events: ['*'], env: 'dev' })
  t.equal(explicitDev.statusCode, 422)
})

const refusedUrls: [string, string][] = [
  ['http://127.0.0.1:3000/hook', '127.0.0.1 is a loopback address'],
  ['http://[::1]/hook', '::1 is a loopback address'],
  ['http://10.1.2.3/hook', '10.1.2.3 is a private address'],
  ['http://169.254.169.254/latest/meta-data/', '169.254.169.254 is a cloud metadata address'],
  ['http://[fd00:ec2::254]/latest', 'fd00:ec2::254 is a cloud metadata address'],
  ['http://100.64.0.1/hook', '100.64.0.1 is a carrier-grade NAT address'],
  ['http://localhost:3000/hook', 'is a loopback address'], // resolved from the hosts file
  ['ftp://93.184.215.14/hook', 'must use http or https'],
  ['https://user:secret@93.184.215.14/hook', 'must not contain credentials']
]
for (const [url, message] of refusedUrls) {
  t.test(`registering ${url} is 422 on path url`, async (t) => {
    const res = await create({ url, events: ['*'] })
    t.equal(res.statusCode, 422)
    t.match(res.json(), envelope('VALIDATION_ERROR'))
    t.equal(res.json().error.issues.length, 1)
    t.match(res.json().error.issues[0], { path: 'url', code: 'invalid_string', message: new RegExp(message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) })
  })
}

t.test('patterns: malformed ones fail the schema; ones the key can never receive are refused', async (t) => {
  const malformed = await create({ url: publicUrl, events: ['Order.*', 'order.**', ''] })
  t.equal(malformed.statusCode, 422)
  t.same(issuesOf(malformed.json()).sort(), ['invalid_string@events.0', 'invalid_string@events.1', 'invalid_string@events.2'].sort())
  const noScope = await create({ url: publicUrl, events: ['lead.captured.v1', 'signal.created', 'webhook.failing'] })
  t.equal(noScope.statusCode, 422)
  t.same(issuesOf(noScope.json()), ['custom@events.1'], 'no signals:read: signal.created can never arrive')
  const empty = await create({ url: publicUrl, events: [] })
  t.equal(empty.statusCode, 422)
})

t.test('change, disable, delete', async (t) => {
  const { id } = (await create({ url: publicUrl, events: ['lead.captured.v1'] })).json()
  const patch = (payload: Record<string, unknown>) => app.inject({ method: 'PATCH', url: `/api/webhooks/${id}`, headers: manager, payload })
  const changed = await patch({ events: ['*'], description: null, status: 'disabled' })
  t.equal(changed.statusCode, 200)
  t.match(changed.json(), { id, events: ['*'], description: null, status: 'disabled' })
  t.equal((await patch({ url: 'http://192.168.0.10/hook' })).statusCode, 422, 'a new URL is checked as at registration')
  t.equal((await patch({})).statusCode, 422, 'an empty change is refused')
  t.equal((await patch({ status: 'failing' })).statusCode, 422, 'failing is Loop\'s to set')
  t.equal((await patch({ status: 'active' })).json().status, 'active')
  const deleted = await app.inject({ method: 'DELETE', url: `/api/webhooks/${id}`, headers: manager })
  t.equal(deleted.statusCode, 204)
  t.equal(deleted.body, '')
  t.equal((await get(`/api/webhooks/${id}`)).statusCode, 404)
  t.equal((await get(`/api/webhooks/${id}/deliveries`)).statusCode, 404)
  t.equal((await app.inject({ method: 'DELETE', url: `/api/webhooks/${id}`, headers: manager })).statusCode, 404)
})

t.test('rotating returns a new secret once and shows when the old one stops signing', async (t) => {
  const created = (await create({ url: publicUrl, events: ['*'] })).json()
  const rotated = await app.inject({ method: 'POST', url: `/api/webhooks/${created.id}/rotate-secret`, headers: manager })
  t.equal(rotated.statusCode, 200)
  t.match(rotated.json().secret, /^whsec_/)
  t.not(rotated.json().secret, created.secret)
  const until = Date.parse(rotated.json().previousSecretExpiresAt)
  t.ok(until > Date.now() + 23.9 * 3600_000 && until <= Date.now() + 24 * 3600_000 + 5000, 'about 24 hours')
  const after = (await get(`/api/webhooks/${created.id}`)).json()
  t.equal(after.previousSecretExpiresAt, rotated.json().previousSecretExpiresAt)
  t.notOk('secret' in after)
})

t.test('the list pages newest first with an iterator', async (t) => {
  const key = await authHeaders(app, ['webhooks:manage'])
  const ids: string[] = []
  for (let i = 0; i < 3; i++) ids.push((await create({ url: publicUrl, events: ['webhook.*'] }, key)).json().id)
  const first = (await get('/api/webhooks?limit=2', key)).json()
  t.same(first.data.map((e: { id: string }) => e.id), [ids[2], ids[1]])
  t.type(first.iterator, 'string')
  t.equal(first.done, false)
  const second = (await get(`/api/webhooks?limit=2&iterator=${first.iterator}`, key)).json()
  t.same(second.data.map((e: { id: string }) => e.id), [ids[0]])
  t.equal(second.iterator, null)
  t.equal(second.done, true)
  const back = (await get(`/api/webhooks?limit=2&iterator=${second.prevIterator}`, key)).json()
  t.same(back.data.map((e: { id: string }) => e.id), [ids[2], ids[1]], 'prevIterator pages back')
  const nonsense = await get('/api/webhooks?iterator=nonsense', key)
  t.equal(nonsense.statusCode, 422)
  t.match(nonsense.json(), { error: { code: 'VALIDATION_ERROR', issues: [{ path: 'iterator' }] } })
  const schemas = (await app.inject({ method: 'GET', url: '/api/events/schemas?limit=1' })).json()
  const foreign = await get(`/api/webhooks?iterator=${schemas.iterator as string}`, key)
  t.equal(foreign.statusCode, 422, "the schemas list's iterator is not the webhooks list's")
  t.match(foreign.json(), { error: { code: 'VALIDATION_ERROR', issues: [{ path: 'iterator' }] } })
  t.equal((await get('/api/webhooks?limit=250', key)).statusCode, 200)
  t.equal((await get('/api/webhooks?limit=251', key)).statusCode, 422, 'at most 250 a page')
})

t.test("another brand's endpoint does not exist for a key; an admin key sees every brand's", async (t) => {
  const mine = (await create({ url: publicUrl, events: ['*'] })).json()
  const other = await authHeaders(app, ['webhooks:manage'])
  for (const [method, url] of [['GET', `/api/webhooks/${mine.id}`], ['PATCH', `/api/webhooks/${mine.id}`], ['DELETE', `/api/webhooks/${mine.id}`],
    ['POST', `/api/webhooks/${mine.id}/rotate-secret`], ['POST', `/api/webhooks/${mine.id}/test`], ['GET', `/api/webhooks/${mine.id}/deliveries`]] as const) {
    const res = await app.inject({ method, url, headers: other, ...(method === 'PATCH' ? { payload: { description: 'x' } } : {}) })
    t.equal(res.statusCode, 404, `${method} ${url}`)
  }
  t.notOk((await get('/api/webhooks?limit=200', other)).json().data.some((e: { id: string }) => e.id === mine.id))
  const admin = await authHeaders(app, ['admin'])
  t.equal((await get(`/api/webhooks/${mine.id}`, admin)).statusCode, 200)
})

t.test('webhooks:manage is required; no key is 401', async (t) => {
  const reader = await authHeaders(app, ['events:read'])
  const forbidden = await create({ url: publicUrl, events: ['*'] }, reader)
  t.equal(forbidden.statusCode, 403)
  t.match(forbidden.json(), envelope('FORBIDDEN'))
  const anonymous = await app.inject({ method: 'GET', url: '/api/webhooks' })
  t.equal(anonymous.statusCode, 401)
  t.match(anonymous.json(), envelope('UNAUTHORIZED'))
})

t.test('timeoutMs is 15 s unless set, from 1000 to 30000 ms, and PATCH changes it', async (t) => {
  const plain = await create({ url: publicUrl, events: ['*'] })
  t.equal(plain.json().timeoutMs, 15_000, 'the default')
  const quick = await create({ url: publicUrl, events: ['*'], timeoutMs: 1000 })
  t.equal(quick.statusCode, 201)
  t.equal(quick.json().timeoutMs, 1000)
  const id = quick.json().id
  const patched = await app.inject({ method: 'PATCH', url: `/api/webhooks/${id}`, headers: manager, payload: { timeoutMs: 30_000 } })
  t.equal(patched.statusCode, 200)
  t.equal(patched.json().timeoutMs, 30_000)
  t.equal((await get(`/api/webhooks/${id}`)).json().timeoutMs, 30_000, 'stored')
  for (const timeoutMs of [999, 30_001, 0, 1500.5, '5000']) {
    const refused = await create({ url: publicUrl, events: ['*'], timeoutMs })
    t.equal(refused.statusCode, 422, `${JSON.stringify(timeoutMs)} refused`)
    t.match(refused.json(), envelope('VALIDATION_ERROR'))
    t.match(issuesOf(refused.json()), [/@timeoutMs$/])
    const refusedPatch = await app.inject({ method: 'PATCH', url: `/api/webhooks/${id}`, headers: manager, payload: { timeoutMs } })
    t.equal(refusedPatch.statusCode, 422, `${JSON.stringify(timeoutMs)} refused by PATCH`)
  }
  t.equal((await get(`/api/webhooks/${id}`)).json().timeoutMs, 30_000, 'unchanged by the refused ones')
})

t.test('custom headers: stored, shown by name only, changed by name; values never in a response', async (t) => {
  const apiKey = 'k_live_never_shown_7f3a'
  const res = await create({ url: publicUrl, events: ['*'], headers: { 'X-Api-Key': apiKey, 'X-Tenant': 'acme-tenant-value' } })
  t.equal(res.statusCode, 201, res.body)
  t.same(res.json().headerNames, ['X-Api-Key', 'X-Tenant'])
  t.notOk(res.body.includes(apiKey), 'the value is not in the creation response')
  const id = res.json().id
  t.same((await create({ url: publicUrl, events: ['*'] })).json().headerNames, [], 'none unless given')

  const patched = await app.inject({ method: 'PATCH', url: `/api/webhooks/${id}`, headers: manager, payload: { headers: { 'x-tenant': null, Authorization: 'Bearer receiver-token-value' } } })
  t.equal(patched.statusCode, 200, patched.body)
  t.same(patched.json().headerNames, ['Authorization', 'X-Api-Key'], 'X-Tenant removed (named in another case), Authorization added, X-Api-Key kept')
  for (const body of [patched.body, (await get(`/api/webhooks/${id}`)).body, (await get('/api/webhooks')).body]) {
    for (const value of [apiKey, 'acme-tenant-value', 'receiver-token-value']) t.notOk(body.includes(value), 'no value in any response')
  }
  const stored = await app.orm.em.fork().getConnection().execute('select headers from webhook_endpoint where id = ?', [id])
  t.same(stored[0]?.headers, { 'X-Api-Key': apiKey, Authorization: 'Bearer receiver-token-value' }, 'the values are kept for sending')
})

const refusedHeaders: [string, Record<string, unknown>, string][] = [
  ["Loop's own X-Loop-*", { 'X-Loop-Signature': 'forged' }, 'headers.X-Loop-Signature'],
  ['a Standard Webhooks header', { 'webhook-id': 'forged' }, 'headers.webhook-id'],
  ['content-type', { 'Content-Type': 'text/plain' }, 'headers.Content-Type'],
  ['user-agent', { 'User-Agent': 'me' }, 'headers.User-Agent'],
  ['host', { Host: 'internal.example' }, 'headers.Host'],
  ['transfer-encoding', { 'Transfer-Encoding': 'chunked' }, 'headers.Transfer-Encoding'],
  ['proxy-*', { 'Proxy-Authorization': 'Basic x' }, 'headers.Proxy-Authorization'],
  ['content-length', { 'content-length': '0' }, 'headers.content-length'],
  ['an invalid name', { 'X Api Key': 'v' }, 'headers.X Api Key'],
  ['a name twice', { 'X-Api-Key': 'a', 'x-api-key': 'b' }, 'headers.x-api-key']
]
for (const [what, headers, path] of refusedHeaders) {
  t.test(`a custom header refused: ${what}, with 422 naming it, at registration and by PATCH`, async (t) => {
    const res = await create({ url: publicUrl, events: ['*'], headers })
    t.equal(res.statusCode, 422)
    t.match(res.json(), envelope('VALIDATION_ERROR'))
    t.same(res.json().error.issues.map((i: { path: string }) => i.path), [path])
    t.match(res.json().error.message, path)
    const id = (await create({ url: publicUrl, events: ['*'] })).json().id
    const patched = await app.inject({ method: 'PATCH', url: `/api/webhooks/${id}`, headers: manager, payload: { headers } })
    t.equal(patched.statusCode, 422)
    t.same(patched.json().error.issues.map((i: { path: string }) => i.path), [path])
  })
}

t.test('a header value with a line break, or empty, or too long, or too many headers, is refused by the schema', async (t) => {
  for (const headers of [{ 'X-Api-Key': 'a\r\nX-Injected: 1' }, { 'X-Api-Key': '' }, { 'X-Api-Key': 'v'.repeat(1001) }, { 'X-Api-Key': 7 }, Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`X-H${i}`, 'v']))]) {
    const res = await create({ url: publicUrl, events: ['*'], headers })
    t.equal(res.statusCode, 422, JSON.stringify(Object.keys(headers)))
    t.match(res.json(), envelope('VALIDATION_ERROR'))
    t.notOk(res.body.includes('X-Injected'), 'the value is not echoed')
  }
})
