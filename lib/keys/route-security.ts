// Reads the scopes a route needs from its OpenAPI `security` (copied into the route schema by
// `npm run generate`), so the contract is the one place a scope is declared.
import { forbidden } from '../errors.ts'
import { grantsScopes, isScope, type Scope } from './api-key.ts'

/**
 * OpenAPI semantics: the array lists alternatives (any one suffices) and each alternative lists
 * the scopes it needs (all of them). Returns null for a public route (no `security`, or `[]`).
 * Throws at start-up on anything Loop cannot enforce, so a typo in the contract never leaves a
 * route open.
 */
export function bearerRequirement (security: unknown): Scope[][] | null {
  if (security === undefined || security === null) return null
  if (!Array.isArray(security)) throw new Error('security must be an array of requirements')
  if (security.length === 0) return null
  return security.map((requirement: unknown) => {
    const schemes = requirement !== null && typeof requirement === 'object' ? Object.keys(requirement) : []
    if (schemes.length !== 1 || schemes[0] !== 'bearer') {
      throw new Error(`unsupported security requirement ${JSON.stringify(requirement)}: use { bearer: [scopes] }`)
    }
    const needed: unknown = (requirement as { bearer: unknown }).bearer
    if (!Array.isArray(needed)) throw new Error('bearer scopes must be an array')
    for (const scope of needed) {
      if (typeof scope !== 'string' || !isScope(scope)) throw new Error(`unknown scope ${JSON.stringify(scope)}`)
    }
    return needed as Scope[]
  })
}

/** 403 unless `held` satisfies one of the alternatives `bearerRequirement` returned (REST routes and MCP tools alike). */
export function assertScopes (held: readonly Scope[], alternatives: Scope[][]): void {
  if (alternatives.some((needed) => grantsScopes(held, needed))) return
  const missing = alternatives[0]?.find((scope) => !held.includes(scope)) ?? 'required'
  throw forbidden(`This key lacks the ${missing} scope`)
}
