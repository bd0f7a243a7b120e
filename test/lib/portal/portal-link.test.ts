// Which routes a portal token opens, and what a token looks like: pure rules, no HTTP.
import t from 'tap'
import { isPortalToken, portalOpens, portalScopes } from '../../../lib/portal/portal-link.ts'
import { parseApiKey } from '../../../lib/keys/api-key.ts'

const opens: [string, boolean][] = [
  ['/api/webhooks', true],
  ['/api/webhooks/:id', true],
  ['/api/webhooks/:id/deliveries/:deliveryId/retry', true],
  ['/api/webhooks/recover', true],
  ['/api/events', true],
  ['/api/events/:id', true],
  ['/api/events/schemas', true],
  ['/api/events/rejections/:id/replay', true],
  ['/api/webhooksx', false],
  ['/api/eventsource', false],
  ['/api/brands', false],
  ['/api/brands/:id/portal', false],
  ['/api/keys', false],
  ['/api/issues', false],
  ['/api/signals', false],
  ['/mcp', false],
  ['/webhooks/:path', false]
]
for (const [url, expected] of opens) t.equal(portalOpens(url), expected, `${url}: ${expected}`)

t.test('a portal token is never an API key, and the other way round', async (t) => {
  t.ok(isPortalToken(`lp_${'a'.repeat(40)}`))
  t.equal(parseApiKey(`lp_${'a'.repeat(40)}`), null)
  t.notOk(isPortalToken(`lk_live_${'a'.repeat(40)}`))
})

t.test('the portal\'s scopes read events and manage webhooks, nothing more', async (t) => {
  t.same([...portalScopes].sort(), ['events:read', 'webhooks:manage'])
  t.ok(Object.isFrozen(portalScopes))
})
