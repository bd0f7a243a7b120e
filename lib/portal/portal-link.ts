// Brand portal links (docs/api.md#portal-links): `POST /api/brands/{id}/portal` makes a token
// `lp_<random base62>` that opens the console at /admin/portal for one brand, in the admin's env,
// until it expires. The token is not an API key (it never parses as one) and is stored only as
// its SHA-256 hash, found by that hash like a key. Presented as a Bearer credential, it becomes
// the brand's caller (request.caller) with the scopes of its console views, so every tenancy
// wall applies unchanged; plugins/auth.ts also confines it to the portal's routes.
import { randomUUID } from 'node:crypto'
import type { EntityManager } from '@mikro-orm/postgresql'
import { Brand, PortalToken } from '../db/entities/index.ts'
import { sql } from '../db/sql.ts'
import { notFound, unauthorized } from '../errors.ts'
import { hashApiKey, randomBase62, type KeyEnv, type Scope } from '../keys/api-key.ts'
import type { AuthenticatedKey } from '../keys/key-service.ts'

/** An hour: long enough for a support session, short enough that a leaked link soon dies. */
export const DEFAULT_PORTAL_SECONDS = 3600

/** What the portal's views need: the brand's endpoints and deliveries, its event types and events. */
export const portalScopes: readonly Scope[] = Object.freeze(['webhooks:manage', 'events:read'])

/** The routes a portal token opens (by URL prefix); every other route refuses it with 403. */
const portalRoutePrefixes = ['/api/webhooks', '/api/events']

const tokenPattern = /^lp_[A-Za-z0-9]{40}$/
const PORTAL_PREFIX = 'lp_'

/** Shaped like a portal token? (Then it is checked as one, never as an API key.) */
export const isPortalToken = (presented: string): boolean => presented.startsWith(PORTAL_PREFIX)

/** Does a portal token open the route at `url` (the route's declared path)? */
export const portalOpens = (url: string): boolean =>
  portalRoutePrefixes.some((prefix) => url === prefix || url.startsWith(`${prefix}/`))

export interface PortalLink {
  id: string
  /** The token, shown once in the link and kept nowhere. */
  token: string
  expiresAt: Date
}

/** A new link for brand `brandId` in `env`, working for `seconds`; 404 when no brand has this id. */
export async function createPortalLink (em: EntityManager, brandId: string, env: KeyEnv, seconds: number = DEFAULT_PORTAL_SECONDS, now: Date = new Date()): Promise<PortalLink> {
  return await em.transactional(async (tx) => {
    if (await tx.findOne(Brand, brandId) === null) throw notFound(`Brand ${brandId} not found`)
    const token = `${PORTAL_PREFIX}${randomBase62(40)}`
    const row = tx.create(PortalToken, {
      id: randomUUID(),
      brand: brandId,
      env,
      tokenHash: hashApiKey(token),
      expiresAt: new Date(now.getTime() + seconds * 1000),
      createdAt: now
    })
    return { id: row.id, token, expiresAt: row.expiresAt }
  })
}

/**
 * Ends every working link of brand `brandId` in `env` now (their expiry becomes now, so each is
 * then refused as an expired link); how many; 404 when no brand has this id. One statement, the
 * env in its where: an operator of one env cannot end another env's links.
 */
export async function revokePortalLinks (em: EntityManager, brandId: string, env: KeyEnv): Promise<number> {
  const [row] = await sql<{ found: boolean, revoked: number }>(em,
    `with ended as (
       update portal_token set expires_at = now()
        where brand_id = ? and env = ? and expires_at > now()
       returning 1
     )
     select exists (select 1 from brand where id = ?) as found, (select count(*)::int from ended) as revoked`,
    [brandId, env, brandId]
  )
  if (row?.found !== true) throw notFound(`Brand ${brandId} not found`)
  return row.revoked
}

/** The caller a portal token stands for: its brand, env and portal scopes, named after its link. */
export interface PortalCaller extends AuthenticatedKey {
  portal: true
  expiresAt: Date
}

const invalidChallenge = { 'www-authenticate': 'Bearer realm="loop", error="invalid_token"' }

/**
 * The caller of a presented portal token, or a 401: unknown (or malformed) and expired links are
 * told apart, so the console can say which. The token is found by its hash, never compared.
 */
export async function authenticatePortalToken (em: EntityManager, presented: string, now: Date = new Date()): Promise<PortalCaller> {
  const row = tokenPattern.test(presented) ? await em.findOne(PortalToken, { tokenHash: hashApiKey(presented) }) : null
  if (row === null) throw unauthorized('Invalid portal link', invalidChallenge)
  if (row.expiresAt.getTime() <= now.getTime()) {
    throw unauthorized(`This portal link expired at ${row.expiresAt.toISOString()}; ask for a new one`, invalidChallenge)
  }
  return {
    portal: true,
    keyId: row.id,
    name: 'portal link',
    prefix: presented.slice(0, 7),
    brandId: row.brand,
    env: row.env,
    scopes: portalScopes,
    tier: 'standard',
    lastUsedAt: null,
    expiresAt: row.expiresAt
  }
}

/** An expired link is kept this long, so that a late visitor is told it expired rather than that it never existed. */
export const EXPIRED_LINK_KEPT_DAYS = 7

/** Deletes up to `limit` links expired more than EXPIRED_LINK_KEPT_DAYS ago, oldest first (lib/retention). */
export async function purgeExpiredPortalLinks (em: EntityManager, limit: number): Promise<number> {
  const [row] = await sql<{ purged: number }>(em,
    `with expired as (
       select id from portal_token where expires_at < now() - ? * interval '1 day'
        order by expires_at limit ? for update skip locked
     ), purged as (
       delete from portal_token p using expired e where p.id = e.id returning 1
     )
     select count(*)::int as purged from purged`,
    [EXPIRED_LINK_KEPT_DAYS, limit]
  )
  return row?.purged ?? 0
}

export const isPortalCaller = (caller: AuthenticatedKey): caller is PortalCaller => (caller as Partial<PortalCaller>).portal === true
