// Which endpoint receives which message (docs/webhooks.md#endpoints): its event patterns must match the type,
// and the scopes of the key that registered it must allow reading that type.

/** Loop's own message types. Declared event types always end in `.v<N>`, so the two never collide. */
export const systemMessageTypes = ['signal.created', 'issue.created', 'issue.updated', 'webhook.failing', 'webhook.disabled', 'webhook.recovered', 'webhook.test'] as const
export type SystemMessageType = typeof systemMessageTypes[number]

export type ReadScope = 'events:read' | 'signals:read' | 'issues:read' | 'webhooks:manage'

const versioned = /\.v[1-9][0-9]*$/

/** The scope a subscriber needs to receive `type`: events need events:read, signal.* signals:read, and so on. */
export function scopeForType (type: string): ReadScope {
  if (versioned.test(type)) return 'events:read'
  if (type.startsWith('signal.')) return 'signals:read'
  if (type.startsWith('issue.')) return 'issues:read'
  if (type.startsWith('webhook.')) return 'webhooks:manage'
  return 'events:read'
}

/** `*` matches everything, `order.*` every type under `order.`, anything else only itself. */
export function matchesPattern (pattern: string, type: string): boolean {
  if (pattern === '*') return true
  if (pattern.endsWith('.*')) return type.startsWith(pattern.slice(0, -1))
  return pattern === type
}

export const allowsScope = (scopes: readonly string[], scope: string) => scopes.includes('admin') || scopes.includes(scope)

export interface Subscription { events: readonly string[], scopes: readonly string[] }

export function subscribes (subscription: Subscription, type: string): boolean {
  return subscription.events.some((pattern) => matchesPattern(pattern, type)) && allowsScope(subscription.scopes, scopeForType(type))
}

/**
 * Whether `pattern` can ever deliver anything under `scopes`: `*` always can (it means "all I may
 * read"); `issue.*` needs issues:read, unless events:read lets it match declared `issue.….v1` types.
 */
export function patternReachable (pattern: string, scopes: readonly string[]): boolean {
  if (pattern === '*') return true
  if (systemMessageTypes.some((type) => matchesPattern(pattern, type) && allowsScope(scopes, scopeForType(type)))) return true
  const couldBeDeclared = pattern.endsWith('.*') || versioned.test(pattern)
  return couldBeDeclared && allowsScope(scopes, 'events:read')
}
