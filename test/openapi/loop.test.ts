// The contract declares who may call what: the auth plugin enforces scopes from these
// declarations, so they are pinned here per operation, and checked as a whole against SPEC
// section 6: every /api operation takes a key, except the provider signal endpoints and public
// schema discovery.
import t from 'tap'
import { loadContract, operationsOf } from '../../lib/contract/openapi.ts'
import { bearerRequirement, receiverSchemes } from '../../lib/keys/route-security.ts'

const { document, deref } = await loadContract()
const operations = new Map(operationsOf(document, deref).map((op) => [op.operationId, op]))
const raw = (path: string, method: string) => ((document.paths as Record<string, Record<string, { responses: Record<string, { $ref?: string }> }>>)[path]?.[method])

const scopes: [string, string, string, string][] = [
  ['listIssues', '/api/issues', 'get', 'issues:read'],
  ['getIssue', '/api/issues/{id}', 'get', 'issues:read'],
  ['createIssue', '/api/issues', 'post', 'issues:write'],
  ['updateIssue', '/api/issues/{id}', 'patch', 'issues:write'],
  ['claimIssue', '/api/issues/claim', 'post', 'issues:write'],
  ['listSignals', '/api/signals', 'get', 'signals:read'],
  ['getSignal', '/api/signals/{id}', 'get', 'signals:read'],
  ['createWebhook', '/api/webhooks', 'post', 'webhooks:manage'],
  ['listWebhooks', '/api/webhooks', 'get', 'webhooks:manage'],
  ['getWebhook', '/api/webhooks/{id}', 'get', 'webhooks:manage'],
  ['updateWebhook', '/api/webhooks/{id}', 'patch', 'webhooks:manage'],
  ['deleteWebhook', '/api/webhooks/{id}', 'delete', 'webhooks:manage'],
  ['rotateWebhookSecret', '/api/webhooks/{id}/rotate-secret', 'post', 'webhooks:manage'],
  ['testWebhook', '/api/webhooks/{id}/test', 'post', 'webhooks:manage'],
  ['listWebhookDeliveries', '/api/webhooks/{id}/deliveries', 'get', 'webhooks:manage'],
  ['getWebhookDelivery', '/api/webhooks/{id}/deliveries/{deliveryId}', 'get', 'webhooks:manage'],
  ['retryWebhookDelivery', '/api/webhooks/{id}/deliveries/{deliveryId}/retry', 'post', 'webhooks:manage'],
  ['getWebhookStats', '/api/webhooks/{id}/stats', 'get', 'webhooks:manage'],
  ['recoverWebhook', '/api/webhooks/{id}/recover', 'post', 'webhooks:manage'],
  ['recoverWebhooks', '/api/webhooks/recover', 'post', 'webhooks:manage'],
  ['createBrand', '/api/brands', 'post', 'admin'],
  ['createKey', '/api/keys', 'post', 'admin'],
  ['listKeys', '/api/keys', 'get', 'admin'],
  ['revokeKey', '/api/keys/{id}', 'delete', 'admin'],
  ['revokePortalLinks', '/api/brands/{id}/portal', 'delete', 'admin'],
  ['getMetrics', '/metrics', 'get', 'admin']
]

for (const [operationId, path, method, scope] of scopes) {
  t.test(`${operationId} needs a bearer key with ${scope} and documents 401, 403 and 429`, async (t) => {
    t.same(operations.get(operationId)?.security, [{ bearer: [scope] }])
    const responses = raw(path, method)?.responses ?? {}
    t.equal(responses['401']?.$ref, '#/components/responses/Unauthorized')
    t.match(responses['403']?.$ref, /^#\/components\/responses\/(Forbidden|AdminOnly)$/)
    t.equal(responses['429']?.$ref, '#/components/responses/RateLimited')
  })
}

t.test('getStatsOverview needs both webhooks:manage and events:read: it counts deliveries and events', async (t) => {
  t.same(operations.get('getStatsOverview')?.security, [{ bearer: ['webhooks:manage', 'events:read'] }])
  const responses = raw('/api/stats/overview', 'get')?.responses ?? {}
  t.equal(responses['401']?.$ref, '#/components/responses/Unauthorized')
  t.equal(responses['403']?.$ref, '#/components/responses/Forbidden')
  t.equal(responses['429']?.$ref, '#/components/responses/RateLimited')
})

const receivers: [string, string[]][] = [
  ['receiveGithubSignal', ['githubSignature']],
  ['receiveSentrySignal', ['sentrySignature']],
  ['receivePosthogSignal', ['posthogSecret']],
  ['receiveInboundWebhook', ['shopifySignature', 'typeformSignature', 'calendlySignature', 'standardWebhooksSignature', 'loopSignature']]
]
for (const [operationId, schemes] of receivers) {
  t.test(`${operationId} takes no API key: the provider's signature authenticates it`, async (t) => {
    t.ok(operations.has(operationId))
    t.same(operations.get(operationId)?.security, schemes.map((scheme) => ({ [scheme]: [] })))
    t.equal(bearerRequirement(operations.get(operationId)?.security), null, 'no bearer guard, limited per IP')
  })
}

t.test('the receivers\' schemes are the header schemes the contract declares, and no other', async (t) => {
  const declared = (document.components as { securitySchemes: Record<string, { type: string, in?: string, name?: string, description?: string }> }).securitySchemes
  const headerSchemes = Object.entries(declared).filter(([name]) => name !== 'bearer')
  t.same(headerSchemes.map(([name]) => name).sort(), [...receiverSchemes].sort())
  for (const [name, scheme] of headerSchemes) {
    t.equal(scheme.type, 'apiKey', `${name} is a header scheme`)
    t.equal(scheme.in, 'header', `${name} is read from a header`)
    t.ok(scheme.name !== undefined && (scheme.description ?? '').length > 40, `${name} names its header and describes how it is verified`)
  }
})

for (const [operationId] of receivers) {
  t.test(`${operationId} documents the per-IP 429 of unauthenticated webhook routes`, async (t) => {
    const op = operations.get(operationId)
    t.equal(raw(op?.path ?? '', op?.method ?? '')?.responses['429']?.$ref, '#/components/responses/RateLimited')
  })
}

const allOperations = [...operations.values()]
const isPublic = (method: string, path: string) =>
  (method === 'post' && /^\/api\/signals\/(github|sentry|posthog)$/.test(path)) || /^\/api\/events\/schemas?(\/|$)/.test(path)

t.test('every /api operation declares bearer security with known scopes, unless public by the SPEC', async (t) => {
  for (const op of allOperations.filter((o) => o.path.startsWith('/api/'))) {
    const label = `${op.method.toUpperCase()} ${op.path}`
    const requirement = bearerRequirement(op.security) // throws on an unknown scope
    if (isPublic(op.method, op.path)) t.ok(requirement === null || requirement.anonymous, `${label} is public`)
    else t.ok(requirement !== null && !requirement.anonymous && requirement.alternatives.length > 0, `${label} takes a key`)
  }
})

t.test('operations taking a key document 401 and 429, and 403 when they need a scope', async (t) => {
  for (const op of allOperations) {
    const requirement = bearerRequirement(op.security)
    if (requirement === null) continue
    const statuses = op.responses.map(([status]) => status)
    const needsScope = requirement.alternatives.every((scopes) => scopes.length > 0)
    for (const status of needsScope ? [401, 403, 429] : [401, 429]) t.ok(statuses.includes(status), `${op.method.toUpperCase()} ${op.path} documents ${status}`)
  }
})

t.test('POST /mcp takes any valid key: each MCP tool checks its own scope', async (t) => {
  const op = operations.get('mcp')
  t.equal(op?.path, '/mcp')
  t.same(op?.security, [{ bearer: [] }])
  t.same(bearerRequirement(op?.security), { alternatives: [[]], anonymous: false })
})
