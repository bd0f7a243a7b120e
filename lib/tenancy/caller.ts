// Who is calling and what they own (docs/tenancy.md). Every service that reads or changes a
// tenant's rows takes a Caller and puts its owner into the query itself (`ownedBy` for the ORM,
// `ownerSql` for hand-written SQL), as svix's `secure_find_by_id(app_id, id)` does: a row of
// another brand or env is simply not found (404), never "forbidden", so ids cannot be probed.
import type { KeyEnv, KeyTier, Scope } from '../keys/api-key.ts'

/** The authenticated API key as the services need it (plugins/auth.ts makes it). */
export interface Caller {
  keyId: string
  /** null: a brandless key, the operator, who sees every brand (within its env). */
  brandId: string | null
  env: KeyEnv
  scopes: readonly Scope[]
  tier: KeyTier
}

/** Whose a row is: a brand (or null, the operator) and an env. */
export interface Owner {
  brandId: string | null
  env: KeyEnv
}

/** Provider signals (GitHub, Sentry, PostHog) and their issues: the operator's, live. */
export const providerOwner: Owner = { brandId: null, env: 'live' }

export const isOperator = (caller: Pick<Caller, 'brandId'>): boolean => caller.brandId === null

/** What the caller's writes are owned by. */
export const ownerOf = (caller: Pick<Caller, 'brandId' | 'env'>): Owner => ({ brandId: caller.brandId, env: caller.env })

/**
 * The ORM filter every read or write of a tenant's rows carries (entities name the columns
 * `brandId` and `env`): the caller's env always, and its brand unless it is the operator.
 */
export function ownedBy (caller: Pick<Caller, 'brandId' | 'env'>): { env: KeyEnv, brandId?: string } {
  return caller.brandId === null ? { env: caller.env } : { env: caller.env, brandId: caller.brandId }
}

/**
 * `ownedBy` for hand-written SQL (lib/db/sql.ts): a condition on `<alias>.env` and
 * `<alias>.brand_id` with its bound parameters, to AND into a `where`.
 */
export function ownerSql (caller: Pick<Caller, 'brandId' | 'env'>, alias?: string): { sql: string, params: unknown[] } {
  const column = (name: string) => (alias === undefined ? name : `${alias}.${name}`)
  return caller.brandId === null
    ? { sql: `${column('env')} = ?`, params: [caller.env] }
    : { sql: `${column('env')} = ? and ${column('brand_id')} = ?`, params: [caller.env, caller.brandId] }
}
