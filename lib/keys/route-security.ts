// Reads the scopes a route needs from its OpenAPI `security` (copied into the route schema by
// `npm run generate`), so the contract is the one place a scope is declared.
import { forbidden } from '../errors.ts'
import { grantsScopes, isScope, type Scope } from './api-key.ts'

export interface RouteSecurity {
  /** Scope alternatives: any one suffices, and each lists the scopes it needs (all of them). */
  alternatives: Scope[][]
  /**
   * OpenAPI's empty requirement `{}` among the alternatives: the route also answers without a key
   * (public schema discovery). A key that is presented is still checked, and says who is asking.
   */
  anonymous: boolean
}

/**
 * The contract's schemes for the provider receivers (`components/securitySchemes`): a signature
 * or shared secret that each receiver's own hook verifies over the request (routes/api/signals/,
 * routes/webhooks/), never an API key. They are named here so that a misspelt scheme still fails
 * the start instead of passing for one of them.
 */
export const receiverSchemes: ReadonlySet<string> = new Set([
  'githubSignature', 'sentrySignature', 'posthogSecret',
  'shopifySignature', 'typeformSignature', 'calendlySignature', 'standardWebhooksSignature', 'loopSignature'
])

/**
 * OpenAPI semantics: the array lists alternatives (any one suffices) and each alternative lists
 * the scopes it needs (all of them); `{}` is "no key needed". Returns null for a route that never
 * takes a key (no `security`, `[]`, only `{}`, or only receiver schemes, which the route verifies
 * itself). Throws at start-up on anything Loop cannot enforce, so a typo in the contract never
 * leaves a route open.
 */
export function bearerRequirement (security: unknown): RouteSecurity | null {
  if (security === undefined || security === null) return null
  if (!Array.isArray(security)) throw new Error('security must be an array of requirements')
  let anonymous = false
  let verifiedByRoute = false
  const alternatives: Scope[][] = []
  for (const requirement of security as unknown[]) {
    const schemes = requirement !== null && typeof requirement === 'object' && !Array.isArray(requirement) ? Object.keys(requirement) : null
    if (schemes !== null && schemes.length === 0) {
      anonymous = true
      continue
    }
    if (schemes !== null && schemes.every((scheme) => receiverSchemes.has(scheme))) {
      verifiedByRoute = true
      continue
    }
    if (schemes === null || schemes.length !== 1 || schemes[0] !== 'bearer') {
      throw new Error(`unsupported security requirement ${JSON.stringify(requirement)}: use { bearer: [scopes] }, {} or a receiver scheme (${[...receiverSchemes].join(', ')})`)
    }
    const needed: unknown = (requirement as { bearer: unknown }).bearer
    if (!Array.isArray(needed)) throw new Error('bearer scopes must be an array')
    for (const scope of needed) {
      if (typeof scope !== 'string' || !isScope(scope)) throw new Error(`unknown scope ${JSON.stringify(scope)}`)
    }
    alternatives.push(needed as Scope[])
  }
  // "A key, or else a provider's signature" is not something one guard can enforce.
  if (verifiedByRoute && alternatives.length > 0) throw new Error('a route takes a bearer key or a receiver signature, not either')
  if (alternatives.length === 0) return null
  return { alternatives, anonymous }
}

/** 403 unless `held` satisfies one of the alternatives `bearerRequirement` returned (REST routes and MCP tools alike). */
export function assertScopes (held: readonly Scope[], alternatives: Scope[][]): void {
  if (alternatives.some((needed) => grantsScopes(held, needed))) return
  const missing = alternatives[0]?.find((scope) => !held.includes(scope)) ?? 'required'
  throw forbidden(`This key lacks the ${missing} scope`)
}
