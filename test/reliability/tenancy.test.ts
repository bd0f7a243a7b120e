// The tenancy wall (docs/tenancy.md), tried as tenants would: two brands, each with a live, a
// test and a dev key, and the operator with a live and a test key, every key holding every scope
// its kind may hold. Each tenant makes one of everything through the API; then every tenant tries
// every route and every MCP tool on every other tenant's things. Where the actor may not see the
// owner (another brand, or another env), a foreign id is 404, a foreign list is empty, and a
// takeover attempt leaves the owner's route, secret and endpoint as they were. The operator sees
// every brand, within its own env; a brand's portal link is that brand, in the env it was made in.
// The last test checks every contract operation was driven.
import t from 'tap'
import { createHmac, randomUUID } from 'node:crypto'
import type { FastifyInstance, InjectOptions } from 'fastify'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { buildWithDetails, type TestContext } from '../helper.ts'
import { createBrand, createKey } from '../../lib/keys/key-service.ts'
import type { KeyEnv, Scope } from '../../lib/keys/api-key.ts'
import { raiseEndpointFailing } from '../../lib/outbound/alerts.ts'
import { loadContract, operationsOf } from '../../lib/contract/openapi.ts'
import { githubDelivery, dependabotAlert } from '../fixtures/provider-deliveries.ts'
import { sql } from '../../lib/db/sql.ts'

const used = new Set<string>()
const { app } = await buildWithDetails(t, { LOOP_ALLOW_PRIVATE_URLS: 'true' }, (instance: FastifyInstance) => {
  // Which contract operations this file drove (the generated route schemas carry the operationId).
  instance.addHook('onResponse', async (request) => {
    const id = (request.routeOptions.schema as { operationId?: string } | undefined)?.operationId
    if (id !== undefined) used.add(id)
  })
}, { deliveryWorker: false })
await app.listen({ port: 0, host: '127.0.0.1' })
const address = app.server.address()
if (address === null || typeof address === 'string') throw new Error('not listening on TCP')
const mcpUrl = new URL(`http://127.0.0.1:${address.port}/mcp`)

const brandScopes: Scope[] = ['events:write', 'events:read', 'schemas:write', 'webhooks:manage', 'issues:read', 'issues:write', 'signals:read']

interface Tenant {
  name: string
  brandId: string | null
  env: KeyEnv
  headers: Record<string, string>
  keyId: string
  // What it made:
  onlyType: string
  webhookPath: string
  secret: string
  eventId: string
  inboundEventId: string
  rejectionId: string
  issueId: string
  endpointId: string | null
  endpointUrl: string | null
  deliveryId: string | null
  signalId: string | null
}

const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` })
const { brand: brandA, key: aLive } = await createBrand(app.orm.em.fork(), { name: 'Brand A', key: { scopes: brandScopes } })
const { brand: brandB, key: bLive } = await createBrand(app.orm.em.fork(), { name: 'Brand B', key: { scopes: brandScopes } })
const keyOf = async (brandId: string | null, env: KeyEnv) =>
  await createKey(app.orm.em.fork(), { name: `${brandId ?? 'operator'} ${env}`, env, scopes: brandId === null ? ['admin'] : brandScopes, brandId })

const specs: { name: string, brandId: string | null, env: KeyEnv, key: { id: string, secret: string } }[] = [
  { name: 'A/live', brandId: brandA.id, env: 'live', key: aLive },
  { name: 'A/test', brandId: brandA.id, env: 'test', key: await keyOf(brandA.id, 'test') },
  { name: 'A/dev', brandId: brandA.id, env: 'dev', key: await keyOf(brandA.id, 'dev') },
  { name: 'B/live', brandId: brandB.id, env: 'live', key: bLive },
  { name: 'B/test', brandId: brandB.id, env: 'test', key: await keyOf(brandB.id, 'test') },
  { name: 'B/dev', brandId: brandB.id, env: 'dev', key: await keyOf(brandB.id, 'dev') },
  { name: 'operator/live', brandId: null, env: 'live', key: await keyOf(null, 'live') },
  { name: 'operator/test', brandId: null, env: 'test', key: await keyOf(null, 'test') }
]

const call = async (options: InjectOptions) => await app.inject(options)
const json = (response: { body: string }) => JSON.parse(response.body) as Record<string, unknown> & { data?: { id: string }[] }
const signed = (path: string, body: string, secret: string) => call({
  method: 'POST', url: path, headers: { 'content-type': 'application/json', 'x-loop-signature': createHmac('sha256', secret).update(body).digest('hex') }, payload: body
})

/** May `actor` see what `owner` owns? Same env, and the same brand unless the actor is the operator. */
const sees = (actor: Tenant, owner: Tenant) => actor.env === owner.env && (actor.brandId === null || actor.brandId === owner.brandId)
const slug = (tenant: { name: string }) => tenant.name.replace('/', '-').toLowerCase()

async function setUp (spec: typeof specs[number]): Promise<Tenant> {
  const headers = bearer(spec.key.secret)
  const s = slug(spec)
  const expect = (res: { statusCode: number, body: string }, status: number, what: string) => {
    if (res.statusCode !== status) throw new Error(`${spec.name} ${what}: ${res.statusCode} ${res.body}`)
    return json(res)
  }
  // Every brand declares its own `tenancy.quiz.v1`, with fields of its own; the operator too.
  const quizFields = spec.brandId === brandA.id ? { eventId: { type: 'uuid', required: true }, score: { type: 'integer', required: true } }
    : spec.brandId === brandB.id ? { eventId: { type: 'uuid', required: true }, grade: { type: 'string', required: true } }
      : { eventId: { type: 'uuid', required: true }, note: { type: 'string', required: true } }
  const quiz = (eventId: string) => spec.brandId === brandA.id ? { eventId, score: 7 } : spec.brandId === brandB.id ? { eventId, grade: 'A' } : { eventId, note: 'ops' }
  const declared = await call({ method: 'POST', url: '/api/events/types', headers, payload: { name: 'tenancy.quiz.v1', fields: quizFields } })
  if (declared.statusCode !== 201 && declared.statusCode !== 200) throw new Error(`${spec.name} declare: ${declared.statusCode} ${declared.body}`)
  const onlyType = `tenancy.${s.replace('-', '_')}.v1`
  expect(await call({ method: 'POST', url: '/api/events/types', headers, payload: { name: onlyType, fields: { eventId: { type: 'string', required: true } } } }), 201, 'declare own type')
  const webhookPath = `/webhooks/tenancy/${s}`
  const secret = `secret-of-${s}`
  expect(await call({ method: 'POST', url: '/api/events/types', headers, payload: { name: onlyType, source: 'custom', webhookPath, secret, transform: { eventId: '$.id' } } }), 201, 'declare route')

  const event = expect(await call({ method: 'POST', url: '/api/events', headers, payload: { event: 'tenancy.quiz.v1', payload: quiz(randomUUID()) } }), 200, 'send event')
  const inbound = expect(await signed(webhookPath, JSON.stringify({ id: `in-${s}` }), secret), 200, 'inbound')
  expect(await signed(webhookPath, JSON.stringify({ nope: true }), secret), 422, 'inbound rejection')
  const rejections = expect(await call({ method: 'GET', url: '/api/events/rejections', headers }), 200, 'rejections')
  const rejection = rejections.data?.[0]
  if (rejection === undefined) throw new Error(`${spec.name}: no rejection kept`)
  const issue = expect(await call({ method: 'POST', url: '/api/issues', headers, payload: { title: `Work of ${spec.name}`, type: 'task' } }), 201, 'issue') as { id: string }

  let endpointId: string | null = null
  let endpointUrl: string | null = null
  let deliveryId: string | null = null
  let signalId: string | null = null
  if (spec.env === 'dev') {
    // dev is never delivered: no endpoint can exist, for any key.
    expect(await call({ method: 'POST', url: '/api/webhooks', headers, payload: { url: 'http://127.0.0.1:9/dev', events: ['*'] } }), 422, 'dev endpoint')
  } else {
    endpointUrl = `http://127.0.0.1:9/${s}`
    const endpoint = expect(await call({ method: 'POST', url: '/api/webhooks', headers, payload: { url: endpointUrl, events: ['*'] } }), 201, 'endpoint')
    endpointId = endpoint.id as string
    const test = expect(await call({ method: 'POST', url: `/api/webhooks/${endpointId}/test`, headers }), 202, 'test message')
    // The answer is the delivery itself, as the endpoint's log will list it.
    if (typeof test.id !== 'string' || typeof test.messageId !== 'string' || test.eventType !== 'webhook.test' || !Array.isArray(test.attempts)) throw new Error(`${spec.name} test message: not a delivery: ${JSON.stringify(test)}`)
    deliveryId = test.id as string
    // The endpoint's alert: a `loop` signal and its issue, owned by the endpoint's brand and env.
    const id = endpointId
    await app.orm.em.fork().transactional(async (tx) => {
      await raiseEndpointFailing(tx as never, id, { deliveryId: test.id as string, eventType: 'webhook.test', attempts: 5, statusCode: 500, error: null })
    })
    const signals = expect(await call({ method: 'GET', url: '/api/signals?source=loop', headers }), 200, 'signals') as { data: { id: string, sourceId: string }[] }
    signalId = signals.data.find((signal) => signal.sourceId === id)?.id ?? null
    if (signalId === null) throw new Error(`${spec.name}: its endpoint's alert is not among its signals`)
  }
  return {
    name: spec.name, brandId: spec.brandId, env: spec.env, headers, keyId: spec.key.id, onlyType, webhookPath, secret,
    eventId: event.id as string, inboundEventId: inbound.id as string, rejectionId: rejection.id,
    issueId: issue.id, endpointId, endpointUrl, deliveryId, signalId
  }
}

const tenants: Tenant[] = []
for (const spec of specs) tenants.push(await setUp(spec))
const operatorLive = tenants.find((x) => x.name === 'operator/live') as Tenant
// A provider signal: the operator's, live.
const github = await call(githubDelivery('dependabot_alert', dependabotAlert()))
if (github.statusCode !== 201) throw new Error(`github signal: ${github.statusCode} ${github.body}`)
const providerSignal = json(github) as { signalId: string, issueId: string }

const pairs = tenants.flatMap((actor) => tenants.filter((owner) => owner !== actor).map((owner) => [actor, owner] as const))
const walled = pairs.filter(([actor, owner]) => !sees(actor, owner))
const ids = (res: { body: string }, key = 'data') => ((json(res)[key] ?? []) as { id: string }[]).map((row) => row.id)
const listAll = async (actor: Tenant, url: string, key = 'data') => ids(await call({ method: 'GET', url, headers: actor.headers }), key)

t.test('every tenant reads its own things back', async (t) => {
  for (const tenant of tenants) {
    t.equal((await call({ method: 'GET', url: `/api/events/${tenant.eventId}`, headers: tenant.headers })).statusCode, 200, `${tenant.name} event`)
    t.equal((await call({ method: 'GET', url: `/api/issues/${tenant.issueId}`, headers: tenant.headers })).statusCode, 200, `${tenant.name} issue`)
    if (tenant.endpointId !== null) t.equal((await call({ method: 'GET', url: `/api/webhooks/${tenant.endpointId}`, headers: tenant.headers })).statusCode, 200, `${tenant.name} endpoint`)
    if (tenant.signalId !== null) t.equal((await call({ method: 'GET', url: `/api/signals/${tenant.signalId}`, headers: tenant.headers })).statusCode, 200, `${tenant.name} signal`)
  }
})

t.test('events and rejections: a foreign id is 404 and a foreign list is empty', async (t) => {
  for (const [actor, owner] of walled) {
    const who = `${actor.name} → ${owner.name}`
    t.equal((await call({ method: 'GET', url: `/api/events/${owner.eventId}`, headers: actor.headers })).statusCode, 404, `${who}: GET event`)
    t.equal((await call({ method: 'GET', url: `/api/events/${owner.inboundEventId}`, headers: actor.headers })).statusCode, 404, `${who}: GET inbound event`)
    const replay = await call({ method: 'POST', url: `/api/events/rejections/${owner.rejectionId}/replay`, headers: actor.headers })
    t.equal(replay.statusCode, 404, `${who}: replay rejection`)
    t.match(json(replay), { ok: false, error: { code: 'NOT_FOUND' } })
  }
  for (const actor of tenants) {
    const events = await listAll(actor, '/api/events?limit=200')
    const rejections = await listAll(actor, '/api/events/rejections?limit=200')
    for (const owner of tenants) {
      const expected = actor === owner || sees(actor, owner)
      t.equal(events.includes(owner.eventId) && events.includes(owner.inboundEventId), expected, `${actor.name} lists ${owner.name}'s events: ${expected}`)
      t.equal(rejections.includes(owner.rejectionId), expected, `${actor.name} lists ${owner.name}'s rejections: ${expected}`)
    }
  }
})

t.test('searching events finds only what the key may see: by payload text and by eventId', async (t) => {
  for (const actor of tenants) {
    // Every tenant's inbound event has the payload {eventId: 'in-<tenant>'}.
    const found = await listAll(actor, '/api/events?limit=200&q=%22in-')
    for (const owner of tenants) {
      const expected = actor === owner || sees(actor, owner)
      t.equal(found.includes(owner.inboundEventId), expected, `${actor.name} finds ${owner.name}'s event by text: ${expected}`)
      const byId = await listAll(actor, `/api/events?limit=200&eventId=in-${slug(owner)}`)
      t.same(byId, expected ? [owner.inboundEventId] : [], `${actor.name} finds ${owner.name}'s event by eventId: ${expected}`)
    }
  }
})

t.test('the overview counts only what the key may see', async (t) => {
  for (const actor of tenants) {
    const overview = json(await call({ method: 'GET', url: '/api/stats/overview?window=1d', headers: actor.headers })) as { buckets: { events: number }[], queue: { pending: number } }
    const events = await listAll(actor, '/api/events?limit=200')
    t.equal(overview.buckets.reduce((n, b) => n + b.events, 0), events.length, `${actor.name}: the events it lists, and no other`)
    let pending = 0
    for (const owner of tenants) {
      if (owner.endpointId === null || !(actor === owner || sees(actor, owner))) continue
      pending += (await listAll(owner, `/api/webhooks/${owner.endpointId}/deliveries?limit=200`)).length
    }
    t.equal(overview.queue.pending, pending, `${actor.name}: the pending deliveries of the endpoints it sees (no worker runs here)`)
  }
})

t.test('a test key reads and changes no live row (the env wall), even of its own brand', async (t) => {
  const aLiveT = tenants.find((x) => x.name === 'A/live') as Tenant
  const aTestT = tenants.find((x) => x.name === 'A/test') as Tenant
  const patch = await call({ method: 'PATCH', url: `/api/webhooks/${aLiveT.endpointId ?? ''}`, headers: aTestT.headers, payload: { url: 'http://127.0.0.1:9/stolen' } })
  t.equal(patch.statusCode, 404)
  const rotate = await call({ method: 'POST', url: `/api/webhooks/${aLiveT.endpointId ?? ''}/rotate-secret`, headers: aTestT.headers })
  t.equal(rotate.statusCode, 404)
  t.notOk('secret' in json(rotate), 'no secret leaves for a wall-crossing rotation')
  const live = json(await call({ method: 'GET', url: `/api/webhooks/${aLiveT.endpointId ?? ''}`, headers: aLiveT.headers }))
  t.equal(live.url, aLiveT.endpointUrl, 'the live endpoint still delivers where its owner said')
  const registered = await call({ method: 'POST', url: '/api/webhooks', headers: aTestT.headers, payload: { url: 'http://127.0.0.1:9/x', events: ['*'], env: 'live' } })
  t.equal(registered.statusCode, 422, 'nor can it register a live endpoint')
})

t.test('webhook endpoints and deliveries: every operation on a foreign endpoint is 404 and changes nothing', async (t) => {
  const secretOf = async (id: string) => (await sql<{ secret: string }>(app.orm.em.fork(), 'select secret from webhook_endpoint where id = ?', [id]))[0]?.secret
  const before = new Map<string, string | undefined>()
  for (const tenant of tenants) if (tenant.endpointId !== null) before.set(tenant.endpointId, await secretOf(tenant.endpointId))
  for (const [actor, owner] of walled) {
    if (owner.endpointId === null || owner.deliveryId === null) continue
    const who = `${actor.name} → ${owner.name}`
    const base = `/api/webhooks/${owner.endpointId}`
    const attempts: [InjectOptions['method'], string, unknown][] = [
      ['GET', base, undefined],
      ['PATCH', base, { url: 'http://127.0.0.1:9/evil', events: ['*'] }],
      ['POST', `${base}/rotate-secret`, undefined],
      ['POST', `${base}/test`, undefined],
      ['GET', `${base}/deliveries`, undefined],
      ['GET', `${base}/deliveries/${owner.deliveryId}`, undefined],
      ['GET', `${base}/stats`, undefined],
      ['POST', `${base}/deliveries/${owner.deliveryId}/retry`, undefined],
      ['POST', `${base}/recover`, { since: new Date(Date.now() - 86_400_000).toISOString() }],
      ['POST', '/api/webhooks/recover', { since: new Date(Date.now() - 86_400_000).toISOString(), endpointIds: [owner.endpointId] }],
      ['DELETE', base, undefined]
    ]
    for (const [method, url, payload] of attempts) {
      const res = await call({ method, url, headers: actor.headers, ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }) })
      t.equal(res.statusCode, 404, `${who}: ${method ?? ''} ${url.replace(owner.endpointId, '{id}')}`)
    }
  }
  for (const owner of tenants) {
    if (owner.endpointId === null) continue
    const mine = json(await call({ method: 'GET', url: `/api/webhooks/${owner.endpointId}`, headers: owner.headers }))
    t.equal(mine.url, owner.endpointUrl, `${owner.name}'s endpoint is unchanged`)
    t.equal(await secretOf(owner.endpointId), before.get(owner.endpointId), `${owner.name}'s secret is unchanged`)
    const log = (json(await call({ method: 'GET', url: `/api/webhooks/${owner.endpointId}/deliveries?limit=200`, headers: owner.headers })).data ?? []) as unknown as { id: string, eventType: string, attemptCount: number }[]
    const tests = log.filter((delivery) => delivery.eventType === 'webhook.test')
    t.same(tests.map((d) => [d.id, d.attemptCount]), [[owner.deliveryId, 0]], `${owner.name}'s log holds its own test message, untouched, and no foreign one`)
  }
  for (const actor of tenants) {
    const listed = await listAll(actor, '/api/webhooks?limit=200')
    for (const owner of tenants) {
      if (owner.endpointId === null) continue
      t.equal(listed.includes(owner.endpointId), actor === owner || sees(actor, owner), `${actor.name} lists ${owner.name}'s endpoint`)
    }
  }
})

t.test('a portal link is its brand in the env it was made in: foreign endpoints are 404, lists hold its brand\'s rows only', async (t) => {
  const operatorTest = tenants.find((x) => x.name === 'operator/test') as Tenant
  const linkOf = async (maker: Tenant, brandId: string) => {
    const res = await call({ method: 'POST', url: `/api/brands/${brandId}/portal`, headers: maker.headers, payload: {} })
    if (res.statusCode !== 201) throw new Error(`portal link: ${res.statusCode} ${res.body}`)
    return bearer(new URL(json(res).url as string).hash.slice(1))
  }
  const portals = [
    { name: 'portal A/live', brandId: brandA.id, env: 'live' as KeyEnv, headers: await linkOf(operatorLive, brandA.id) },
    { name: 'portal B/test', brandId: brandB.id, env: 'test' as KeyEnv, headers: await linkOf(operatorTest, brandB.id) }
  ]
  for (const portal of portals) {
    const actor = { ...portal } as unknown as Tenant
    for (const owner of tenants.filter((x) => !sees(actor, x))) {
      t.equal((await call({ method: 'GET', url: `/api/events/${owner.eventId}`, headers: portal.headers })).statusCode, 404, `${portal.name} → ${owner.name}: GET event`)
      if (owner.endpointId === null || owner.deliveryId === null) continue
      const base = `/api/webhooks/${owner.endpointId}`
      const since = new Date(Date.now() - 86_400_000).toISOString()
      const attempts: [InjectOptions['method'], string, Record<string, unknown> | undefined][] = [
        ['GET', base, undefined],
        ['PATCH', base, { url: 'http://127.0.0.1:9/evil' }],
        ['POST', `${base}/rotate-secret`, undefined],
        ['POST', `${base}/test`, undefined],
        ['GET', `${base}/deliveries`, undefined],
        ['POST', `${base}/deliveries/${owner.deliveryId}/retry`, undefined],
        ['POST', `${base}/recover`, { since }],
        ['POST', '/api/webhooks/recover', { since, endpointIds: [owner.endpointId] }],
        ['DELETE', base, undefined]
      ]
      for (const [method, url, payload] of attempts) {
        const res = await call({ method, url, headers: portal.headers, ...(payload === undefined ? {} : { payload }) })
        t.equal(res.statusCode, 404, `${portal.name} → ${owner.name}: ${method ?? ''} ${url.replace(owner.endpointId, '{id}')}`)
      }
    }
    const endpoints = await listAll(actor, '/api/webhooks?limit=200')
    const events = await listAll(actor, '/api/events?limit=200')
    const rejections = await listAll(actor, '/api/events/rejections?limit=200')
    for (const owner of tenants) {
      const own = sees(actor, owner)
      if (owner.endpointId !== null) t.equal(endpoints.includes(owner.endpointId), own, `${portal.name} lists ${owner.name}'s endpoint: ${own}`)
      t.equal(events.includes(owner.eventId), own, `${portal.name} lists ${owner.name}'s event: ${own}`)
      t.equal(rejections.includes(owner.rejectionId), own, `${portal.name} lists ${owner.name}'s rejection: ${own}`)
    }
    for (const [method, url] of [['GET', '/api/keys'], ['GET', '/api/brands'], ['GET', '/api/issues'], ['GET', '/api/signals']] as const) {
      t.equal((await call({ method, url, headers: portal.headers })).statusCode, 403, `${portal.name}: ${method} ${url} is not the portal's`)
    }
  }
  for (const owner of tenants) {
    if (owner.endpointId === null) continue
    t.equal(json(await call({ method: 'GET', url: `/api/webhooks/${owner.endpointId}`, headers: owner.headers })).url, owner.endpointUrl, `${owner.name}'s endpoint is unchanged`)
  }
  // Ending links is the env's too: the test operator ending brand A's ends none of A's live links.
  const [portalA] = portals
  t.equal((await call({ method: 'DELETE', url: `/api/brands/${brandA.id}/portal`, headers: operatorTest.headers })).statusCode, 204)
  t.equal((await call({ method: 'GET', url: '/api/webhooks', headers: portalA?.headers ?? {} })).statusCode, 200, 'portal A/live still opens after operator/test ended brand A\'s links')
  t.equal((await call({ method: 'DELETE', url: `/api/brands/${brandA.id}/portal`, headers: operatorLive.headers })).statusCode, 204)
  t.equal((await call({ method: 'GET', url: '/api/webhooks', headers: portalA?.headers ?? {} })).statusCode, 401, 'and is refused once operator/live ended them')
  t.equal((await call({ method: 'GET', url: '/api/webhooks', headers: portals[1]?.headers ?? {} })).statusCode, 200, 'portal B/test is untouched')
})

t.test('issues and signals: a foreign id is 404, a foreign list is empty, an edit changes nothing', async (t) => {
  for (const [actor, owner] of walled) {
    const who = `${actor.name} → ${owner.name}`
    t.equal((await call({ method: 'GET', url: `/api/issues/${owner.issueId}`, headers: actor.headers })).statusCode, 404, `${who}: GET issue`)
    t.equal((await call({ method: 'PATCH', url: `/api/issues/${owner.issueId}`, headers: actor.headers, payload: { status: 'canceled', title: 'hijacked' } })).statusCode, 404, `${who}: PATCH issue`)
    if (owner.signalId !== null) t.equal((await call({ method: 'GET', url: `/api/signals/${owner.signalId}`, headers: actor.headers })).statusCode, 404, `${who}: GET signal`)
  }
  for (const owner of tenants) {
    const issue = json(await call({ method: 'GET', url: `/api/issues/${owner.issueId}`, headers: owner.headers })) as { title: string, status: string, brandId: string | null, env: string }
    t.match(issue, { title: `Work of ${owner.name}`, status: 'todo', brandId: owner.brandId, env: owner.env }, `${owner.name}'s issue is unchanged`)
  }
  for (const actor of tenants) {
    const issues = await listAll(actor, '/api/issues?limit=200')
    const signals = await listAll(actor, '/api/signals?limit=200')
    for (const owner of tenants) {
      const expected = actor === owner || sees(actor, owner)
      t.equal(issues.includes(owner.issueId), expected, `${actor.name} lists ${owner.name}'s issue: ${expected}`)
      if (owner.signalId !== null) t.equal(signals.includes(owner.signalId), expected, `${actor.name} lists ${owner.name}'s alert: ${expected}`)
    }
    // Provider signals and their issues are the operator's live rows.
    const isOperatorLive = actor === operatorLive
    t.equal(signals.includes(providerSignal.signalId), isOperatorLive, `${actor.name} sees the GitHub signal: ${isOperatorLive}`)
    t.equal(issues.includes(providerSignal.issueId), isOperatorLive, `${actor.name} sees the GitHub signal's issue: ${isOperatorLive}`)
  }
})

t.test('declared event types are per brand; built-ins are shared; discovery without a key shows built-ins only', async (t) => {
  for (const actor of tenants) {
    const own = json(await call({ method: 'GET', url: '/api/events/schema/tenancy.quiz.v1', headers: actor.headers })) as { brandId: string | null, fields: Record<string, unknown> }
    t.equal(own.brandId, actor.brandId, `${actor.name} reads its own brand's tenancy.quiz.v1`)
    const builtin = await call({ method: 'GET', url: '/api/events/schema/lead.captured.v1', headers: actor.headers })
    t.equal(builtin.statusCode, 200, `${actor.name} reads a built-in type`)
    const listed = json(await call({ method: 'GET', url: '/api/events/schemas', headers: actor.headers })).data as unknown as { name: string, brandId: string | null }[]
    for (const owner of tenants) {
      const visible = actor.brandId === null || owner.brandId === actor.brandId
      const found = await call({ method: 'GET', url: `/api/events/schema/${owner.onlyType}`, headers: actor.headers })
      // The operator resolves names in its own (brandless) namespace; it lists every brand's types.
      const readable = owner.brandId === actor.brandId
      t.equal(found.statusCode, readable ? 200 : 404, `${actor.name} reads ${owner.name}'s type: ${readable}`)
      t.equal(listed.some((type) => type.name === owner.onlyType), visible, `${actor.name} lists ${owner.name}'s type: ${visible}`)
      if (!readable) {
        const sent = await call({ method: 'POST', url: '/api/events', headers: actor.headers, payload: { event: owner.onlyType, payload: { eventId: 'x' } } })
        t.equal(sent.statusCode, 422, `${actor.name} cannot send ${owner.name}'s type`)
        t.match(json(sent), { error: { message: /is not a declared event type/ } })
      }
    }
  }
  const anonymous = json(await call({ method: 'GET', url: '/api/events/schemas' })).data as unknown as { builtIn: boolean }[]
  t.ok(anonymous.length > 0 && anonymous.every((type) => type.builtIn), 'without a key: the built-in types alone')
  t.equal((await call({ method: 'GET', url: '/api/events/schema/tenancy.quiz.v1' })).statusCode, 404, 'a declared type needs its brand\'s key')
  t.equal((await call({ method: 'GET', url: '/api/events/schema/lead.captured.v1' })).statusCode, 200)
  t.equal((await call({ method: 'GET', url: '/api/events/schemas', headers: bearer('lk_live_' + 'x'.repeat(40)) })).statusCode, 401, 'a key that is sent is checked')
})

t.test('nobody takes over another tenant\'s inbound route: 409, and the owner\'s route and secret stay', async (t) => {
  for (const [actor, owner] of pairs) {
    const who = `${actor.name} → ${owner.name}`
    const takeover = await call({
      method: 'POST', url: '/api/events/types', headers: actor.headers,
      payload: { name: actor.onlyType, source: 'custom', webhookPath: owner.webhookPath, secret: 'attacker', transform: { eventId: '$.forged' } }
    })
    t.equal(takeover.statusCode, 409, `${who}: re-declaring the path`)
    for (const clue of [owner.brandId, owner.keyId]) {
      if (clue !== null) t.notOk(takeover.body.includes(clue), `${who}: the 409 says nothing of the owner (${clue})`)
    }
    const sameType = await call({ method: 'POST', url: '/api/events/types', headers: actor.headers, payload: { name: owner.onlyType, source: 'custom', webhookPath: owner.webhookPath, secret: 'attacker' } })
    t.ok([409, 422].includes(sameType.statusCode), `${who}: even naming the owner's type (${sameType.statusCode})`)
  }
  for (const owner of tenants) {
    const forged = await signed(owner.webhookPath, JSON.stringify({ id: 'forged', forged: 'x' }), 'attacker')
    t.equal(forged.statusCode, 401, `${owner.name}: the attacker's secret does not verify`)
    const real = await signed(owner.webhookPath, JSON.stringify({ id: `again-${slug(owner)}` }), owner.secret)
    t.equal(real.statusCode, 200, `${owner.name}: its own sender still gets through`)
    const stored = json(await call({ method: 'GET', url: `/api/events/${json(real).id as string}`, headers: owner.headers }))
    t.match(stored, { event: owner.onlyType, brandId: owner.brandId, env: owner.env, payload: { eventId: `again-${slug(owner)}` } }, `${owner.name}: with its own transform, as its own event`)
  }
})

t.test('keys: admin is the operator\'s alone, and an admin key manages keys of its own env only', async (t) => {
  const aLiveT = tenants.find((x) => x.name === 'A/live') as Tenant
  const operatorTest = tenants.find((x) => x.name === 'operator/test') as Tenant
  for (const brand of tenants.filter((x) => x.brandId !== null)) {
    t.equal((await call({ method: 'GET', url: '/api/keys', headers: brand.headers })).statusCode, 403, `${brand.name} cannot list keys`)
    t.equal((await call({ method: 'GET', url: '/api/brands', headers: brand.headers })).statusCode, 403, `${brand.name} cannot list brands`)
  }
  const brandAdmin = await call({ method: 'POST', url: '/api/keys', headers: operatorLive.headers, payload: { name: 'brand admin', scopes: ['admin'], brandId: brandA.id } })
  t.equal(brandAdmin.statusCode, 422, 'a brand key with admin is refused')
  const brandWithAdmin = await call({ method: 'POST', url: '/api/brands', headers: operatorLive.headers, payload: { name: 'C', key: { scopes: ['admin'] } } })
  t.equal(brandWithAdmin.statusCode, 422, 'so is a new brand whose first key would hold admin')
  const liveKeys = await listAll(operatorLive, '/api/keys?limit=250')
  const testKeys = await listAll(operatorTest, '/api/keys?limit=250')
  t.ok(liveKeys.includes(aLiveT.keyId) && !testKeys.includes(aLiveT.keyId), 'the test admin key does not see live keys')
  t.equal((await call({ method: 'DELETE', url: `/api/keys/${aLiveT.keyId}`, headers: operatorTest.headers })).statusCode, 404, 'nor revoke one')
  const minted = await call({ method: 'POST', url: '/api/keys', headers: operatorTest.headers, payload: { name: 'escalate', env: 'live', scopes: ['admin'] } })
  t.equal(minted.statusCode, 422, 'nor mint one')
  const brands = json(await call({ method: 'GET', url: '/api/brands', headers: operatorTest.headers })) as { data: { id: string, activeKeys: number }[] }
  t.equal(brands.data.find((b) => b.id === brandA.id)?.activeKeys, 1, 'brand A has one active test key (its live and dev keys are not counted)')
  const created = await call({ method: 'POST', url: '/api/brands', headers: operatorTest.headers, payload: { name: 'Sandbox brand' } })
  t.equal(created.statusCode, 201)
  t.equal((json(created).key as { env: string }).env, 'test', 'a brand made with a test admin key gets a test key')
})

async function mcp (t: TestContext, tenant: Tenant) {
  const client = new Client({ name: 'tenancy-test', version: '0.0.0' })
  await client.connect(new StreamableHTTPClientTransport(mcpUrl, { requestInit: { headers: tenant.headers } }))
  t.teardown(async () => { await client.close() })
  return async (name: string, args: Record<string, unknown>) => {
    const result = await client.callTool({ name, arguments: args })
    const content = result.content as { text: string }[]
    // Structured content, or an error's JSON text; "No issue to claim" is a sentence, and null here.
    const body = result.structuredContent ?? (result.isError === true ? JSON.parse(content[0]?.text ?? 'null') as unknown : null)
    return { isError: result.isError === true, body: body as Record<string, unknown> & { data?: { id: string }[], code?: string } }
  }
}

t.test('every MCP tool keeps to the same walls', async (t) => {
  for (const actor of tenants) {
    const tool = await mcp(t, actor)
    const issues = (await tool('issues_list', { limit: 200 })).body.data?.map((i) => i.id) ?? []
    const signals = (await tool('signals_list', { limit: 200 })).body.data?.map((s) => s.id) ?? []
    for (const owner of tenants.filter((x) => x !== actor)) {
      const who = `${actor.name} → ${owner.name}`
      t.equal(issues.includes(owner.issueId), sees(actor, owner), `${who}: issues_list`)
      if (owner.signalId !== null) t.equal(signals.includes(owner.signalId), sees(actor, owner), `${who}: signals_list`)
      if (sees(actor, owner)) continue
      t.match(await tool('issues_update', { id: owner.issueId, changes: { title: 'hijacked' } }), { isError: true, body: { code: 'NOT_FOUND' } }, `${who}: issues_update`)
      if (owner.brandId !== actor.brandId) {
        t.match(await tool('events_schema', { name: owner.onlyType }), { isError: true, body: { code: 'NOT_FOUND' } }, `${who}: events_schema`)
        t.match(await tool('events_send', { event: owner.onlyType, payload: { eventId: 'x' } }), { isError: true, body: { code: 'VALIDATION_ERROR' } }, `${who}: events_send`)
      }
      t.match(await tool('events_declare', { name: actor.onlyType, source: 'custom', webhookPath: owner.webhookPath, secret: 'attacker' }), { isError: true, body: { code: 'CONFLICT' } }, `${who}: events_declare`)
      if (owner.env !== actor.env && owner.env !== 'dev') {
        t.match(await tool('webhooks_create', { url: 'http://127.0.0.1:9/x', events: ['*'], env: owner.env }), { isError: true, body: { code: 'VALIDATION_ERROR' } }, `${who}: webhooks_create in another env`)
      }
    }
    const brands = await tool('brands_create', { name: `via MCP by ${actor.name}` })
    if (actor.brandId !== null) t.match(brands, { isError: true, body: { code: 'FORBIDDEN' } }, `${actor.name}: brands_create`)
    else t.match(brands, { isError: false, body: { key: { env: actor.env } } }, `${actor.name}: brands_create makes a key of its own env`)
  }
})

t.test('claiming: each agent only ever gets issues its key may see, over REST and MCP', async (t) => {
  const visibleIssues = (actor: Tenant) => new Set([
    ...tenants.filter((owner) => owner === actor || sees(actor, owner)).map((owner) => owner.issueId)
  ])
  for (const actor of tenants) {
    const claimed: string[] = []
    const tool = await mcp(t, actor)
    for (let i = 0; i < 40; i++) {
      const res = await call({ method: 'POST', url: '/api/issues/claim', headers: actor.headers, payload: { agent: `agent-${slug(actor)}` } })
      if (res.statusCode === 204) break
      claimed.push(json(res).id as string)
      const viaMcp = await tool('issues_claim', { agent: `mcp-${slug(actor)}` })
      const issue = viaMcp.body as { id: string } | null
      if (issue !== null) claimed.push(issue.id)
    }
    const allowed = visibleIssues(actor)
    const own = await listAll(actor, '/api/issues?limit=200')
    for (const id of claimed) t.ok(allowed.has(id) || own.includes(id), `${actor.name} claimed only what it may see (${id})`)
    for (const owner of tenants.filter((x) => !sees(actor, x) && x !== actor)) t.notOk(claimed.includes(owner.issueId), `${actor.name} never claimed ${owner.name}'s issue`)
  }
})

t.test('the operator sees every brand of its env: the wall is the env, not the brand', async (t) => {
  for (const owner of tenants.filter((x) => x.env === 'live' && x !== operatorLive)) {
    t.equal((await call({ method: 'GET', url: `/api/events/${owner.eventId}`, headers: operatorLive.headers })).statusCode, 200, `operator reads ${owner.name}'s event`)
    if (owner.endpointId !== null) {
      const res = await call({ method: 'PATCH', url: `/api/webhooks/${owner.endpointId}`, headers: operatorLive.headers, payload: { description: 'checked by ops' } })
      t.equal(res.statusCode, 200, `operator changes ${owner.name}'s endpoint`)
    }
  }
  for (const owner of tenants.filter((x) => x.env !== 'live')) {
    t.equal((await call({ method: 'GET', url: `/api/events/${owner.eventId}`, headers: operatorLive.headers })).statusCode, 404, `operator/live does not read ${owner.name}'s event`)
  }
})

t.test('every contract operation that reads or writes tenant rows was driven here', async (t) => {
  const { document, deref } = await loadContract()
  // Not tenant data: probes, the operator's metrics (counts over every tenant, no rows), and the provider receivers (signed by the provider, operator-owned;
  // the GitHub one made this file's provider signal). `receiveLoopEvent` is Loop's outbound call;
  // GET and DELETE /mcp only ever answer 405.
  const outside = new Set(['getHealth', 'getReady', 'getMetrics', 'receiveSentrySignal', 'receivePosthogSignal', 'receiveLoopEvent', 'openMcpStream', 'endMcpSession'])
  const missing = operationsOf(document, deref).map((op) => op.operationId).filter((id) => !outside.has(id) && !used.has(id))
  t.same(missing, [], 'operations this test never called')
})
