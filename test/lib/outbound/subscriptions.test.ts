import t from 'tap'
import { matchesPattern, patternReachable, scopeForType, subscribes } from '../../../lib/outbound/subscriptions.ts'

const patterns: [string, string, boolean][] = [
  ['*', 'lead.captured.v1', true],
  ['*', 'issue.created', true],
  ['lead.captured.v1', 'lead.captured.v1', true],
  ['lead.captured.v1', 'lead.captured.v2', false],
  ['order.*', 'order.completed.v1', true],
  ['order.*', 'order', false],
  ['order.*', 'orders.completed.v1', false],
  ['order.completed.*', 'order.completed.v1', true],
  ['order.completed.*', 'order.canceled.v1', false],
  ['issue.*', 'issue.updated', true],
  ['webhook.*', 'webhook.failing', true],
  ['lead_x.*', 'leadyx.a.v1', false]
]
for (const [pattern, type, expected] of patterns) {
  t.test(`${pattern} ${expected ? 'matches' : 'does not match'} ${type}`, async (t) => t.equal(matchesPattern(pattern, type), expected))
}

const scopes: [string, string][] = [
  ['lead.captured.v1', 'events:read'],
  ['order.completed.v1', 'events:read'],
  ['signal.created', 'signals:read'],
  ['issue.created', 'issues:read'],
  ['issue.updated', 'issues:read'],
  ['webhook.failing', 'webhooks:manage'],
  // a declared event type keeps events:read, whatever its first segment
  ['issue.escalated.v1', 'events:read'],
  ['signal.muted.v2', 'events:read']
]
for (const [type, scope] of scopes) {
  t.test(`${type} needs ${scope}`, async (t) => t.equal(scopeForType(type), scope))
}

const subscriptions: [string, string[], string[], string, boolean][] = [
  ['everything, read as allowed', ['*'], ['events:read', 'webhooks:manage'], 'lead.captured.v1', true],
  ['no issues:read, no issue events', ['*'], ['events:read', 'webhooks:manage'], 'issue.created', false],
  ['admin reads everything', ['*'], ['admin'], 'signal.created', true],
  ['webhooks:manage alone still hears webhook.failing', ['webhook.failing'], ['webhooks:manage'], 'webhook.failing', true],
  ['webhooks:manage alone hears no events', ['lead.captured.v1'], ['webhooks:manage'], 'lead.captured.v1', false],
  ['pattern must match too', ['order.*'], ['admin'], 'lead.captured.v1', false]
]
for (const [name, events, held, type, expected] of subscriptions) {
  t.test(`subscribes: ${name}`, async (t) => t.equal(subscribes({ events, scopes: held }, type), expected))
}

const reachable: [string, string[], boolean][] = [
  ['*', ['webhooks:manage'], true],
  ['issue.*', ['webhooks:manage'], false],
  ['issue.*', ['webhooks:manage', 'issues:read'], true],
  ['issue.*', ['webhooks:manage', 'events:read'], true], // declared issue.…v1 event types
  ['issue.created', ['webhooks:manage', 'events:read'], false],
  ['lead.captured.v1', ['webhooks:manage'], false],
  ['lead.captured.v1', ['webhooks:manage', 'events:read'], true],
  ['webhook.*', ['webhooks:manage'], true],
  ['signal.created', ['admin'], true]
]
for (const [pattern, held, expected] of reachable) {
  t.test(`${pattern} is ${expected ? '' : 'not '}reachable with ${held.join(', ')}`, async (t) => t.equal(patternReachable(pattern, held), expected))
}
