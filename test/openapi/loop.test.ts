// The contract declares who may call what: the auth plugin enforces scopes from these
// declarations, so they are pinned here per operation.
import t from 'tap'
import { loadContract, operationsOf } from '../../lib/contract/openapi.ts'

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
  ['retryWebhookDelivery', '/api/webhooks/{id}/deliveries/{deliveryId}/retry', 'post', 'webhooks:manage']
]

for (const [operationId, path, method, scope] of scopes) {
  t.test(`${operationId} needs a bearer key with ${scope} and documents 401, 403 and 429`, async (t) => {
    t.same(operations.get(operationId)?.security, [{ bearer: [scope] }])
    const responses = raw(path, method)?.responses ?? {}
    t.equal(responses['401']?.$ref, '#/components/responses/Unauthorized')
    t.equal(responses['403']?.$ref, '#/components/responses/Forbidden')
    t.equal(responses['429']?.$ref, '#/components/responses/RateLimited')
  })
}

for (const operationId of ['receiveGithubSignal', 'receiveSentrySignal', 'receivePosthogSignal']) {
  t.test(`${operationId} takes no API key: the provider's signature authenticates it`, async (t) => {
    t.ok(operations.has(operationId))
    t.equal(operations.get(operationId)?.security, undefined)
  })
}
