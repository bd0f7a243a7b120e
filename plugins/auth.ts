// Bearer API keys (docs/api.md#authentication). A route asks for a key by declaring OpenAPI security
// (`security: [{ bearer: ['issues:read'] }]`, copied into its schema by `npm run generate`); only
// those routes get the guard: authenticate (401, or 429 after a burst of failures from one IP),
// rate-limit per key (429), check scopes (403), in that order so every authenticated response
// carries the X-RateLimit-* headers.
//
// The guard's result is the one caller context (docs/tenancy.md): handlers and MCP tools read
// `request.caller`, which throws 401 when no key authenticated the request, so a route that forgot
// to declare security fails closed instead of serving everything.
//
// Keys are cached by hash (`fastify.keyCache`, lib/keys/key-cache.ts), so a known key costs no
// query; key changes arrive by LISTEN loop_api_keys on the shared listener (plugins/notifications.ts)
// and nothing is kept while that connection is down.
//
// A brand's portal token (`lp_…`, lib/portal/portal-link.ts) is the other credential: it stands for
// its brand with the portal's scopes, on the portal's routes only (403 elsewhere), until it expires
// (401). It is read from the database on every request, so expiry needs no announcement; each
// link's use is logged (its id and brand, never the token) at most once a minute per instance.
import fp from 'fastify-plugin'
import { LRUCache } from 'lru-cache'
import type { FastifyInstance, FastifyRequest, onRequestHookHandler } from 'fastify'
import { bearerToken } from '../lib/keys/api-key.ts'
import { KeyCache, keyChangesChannel } from '../lib/keys/key-cache.ts'
import { authenticateKey, ensureAdminKey, missingKey, touchKey, type AuthenticatedKey } from '../lib/keys/key-service.ts'
import { assertScopes, bearerRequirement, type RouteSecurity } from '../lib/keys/route-security.ts'
import type { Caller } from '../lib/tenancy/caller.ts'
import { forbidden } from '../lib/errors.ts'
import { authenticatePortalToken, isPortalCaller, isPortalToken, portalOpens } from '../lib/portal/portal-link.ts'

declare module 'fastify' {
  interface FastifyInstance {
    /** This instance's keys by hash; a service that changes a key on this instance has it forget the key on commit. */
    keyCache: KeyCache
  }
  interface FastifyRequest {
    /** Who is asking: the key that authenticated this request. Reading it without one is a 401. */
    readonly caller: Caller
    /** The caller, or null on a route that also answers without a key (public schema discovery). */
    readonly optionalCaller: Caller | null
  }
}

const kCaller = Symbol('loop.caller')
type WithCaller = { [kCaller]: AuthenticatedKey | null }

/** lastUsedAt is kept to the minute: one write per key per minute, not one per request. */
const TOUCH_EVERY_MS = 60_000

async function bootstrapAdminKey (fastify: FastifyInstance, secret: string): Promise<void> {
  const { id, revoked } = await ensureAdminKey(fastify.orm.em.fork(), secret)
  if (revoked) fastify.log.warn({ keyId: id }, 'LOOP_ADMIN_KEY was revoked through the API; it stays revoked')
  else fastify.log.info({ keyId: id }, 'admin key from LOOP_ADMIN_KEY is ready')
}

async function authPlugin (fastify: FastifyInstance): Promise<void> {
  fastify.decorateRequest(kCaller, null)
  fastify.decorateRequest('caller', {
    getter () {
      const key = (this as unknown as WithCaller)[kCaller]
      if (key === null) throw missingKey()
      return key
    }
  })
  fastify.decorateRequest('optionalCaller', {
    getter () { return (this as unknown as WithCaller)[kCaller] }
  })
  if (fastify.config.adminKey !== undefined) await bootstrapAdminKey(fastify, fastify.config.adminKey)

  const keys = new KeyCache()
  await fastify.notifications.subscribe(keyChangesChannel, {
    message: (keyId) => keys.forget(keyId),
    lost: () => keys.suspend(),
    listening: () => keys.resume()
  })
  fastify.decorate('keyCache', keys)

  // Recording use never delays a response. `lastTouch` only saves writes within this process;
  // the conditional UPDATE keeps instances to one write per minute between them.
  const lastTouch = new Map<string, number>()
  const inFlight = new Set<Promise<void>>()
  const recordUse = (key: AuthenticatedKey, now: number) => {
    const last = Math.max(key.lastUsedAt?.getTime() ?? 0, lastTouch.get(key.keyId) ?? 0)
    if (now - last < TOUCH_EVERY_MS) return
    lastTouch.set(key.keyId, now)
    const write = touchKey(fastify.orm.em.fork(), key.keyId, new Date(now), TOUCH_EVERY_MS)
      .catch((error: unknown) => fastify.log.warn({ err: error, keyId: key.keyId }, 'could not record key use'))
      .finally(() => inFlight.delete(write))
    inFlight.add(write)
  }
  fastify.addHook('onClose', async () => { await Promise.all(inFlight) })

  const portalLogged = new LRUCache<string, true>({ max: 10_000, ttl: TOUCH_EVERY_MS })
  const logPortalUse = (request: FastifyRequest, link: AuthenticatedKey) => {
    if (portalLogged.has(link.keyId)) return
    portalLogged.set(link.keyId, true)
    request.log.info({ portalLinkId: link.keyId, brandId: link.brandId }, 'portal link used')
  }

  const guard = (security: RouteSecurity, portalRoute: boolean): onRequestHookHandler => async (request, reply) => {
    const presented = bearerToken(request.headers.authorization)
    // A route that also answers anonymously still checks a key that is presented (docs/api.md#authentication).
    if (presented === null && security.anonymous) return
    // Failed guesses are limited per IP (429); a valid key goes straight through.
    const key = await fastify.limitAuthFailures(request, async () => presented !== null && isPortalToken(presented)
      ? await authenticatePortalToken(request.em, presented)
      : await authenticateKey(request.em, presented, keys))
    ;(request as unknown as WithCaller)[kCaller] = key
    if (isPortalCaller(key)) logPortalUse(request, key)
    else recordUse(key, Date.now())
    await fastify.limitApiKey(request, reply)
    if (isPortalCaller(key) && !portalRoute) throw forbidden('A portal link opens only its brand\'s webhooks and events')
    assertScopes(key.scopes, security.alternatives)
  }

  fastify.addHook('onRoute', (route) => {
    const security = bearerRequirement((route.schema as { security?: unknown } | undefined)?.security)
    if (security === null) return
    // First of the route's own hooks: nothing route-specific runs for an unauthenticated caller.
    route.onRequest = [guard(security, portalOpens(route.url)), ...(route.onRequest === undefined ? [] : [route.onRequest].flat())]
  })
}

export default fp(authPlugin, { name: 'loop-auth', dependencies: ['loop-config', 'loop-errors', 'loop-database', 'loop-notifications', 'loop-rate-limit'], fastify: '5.x' })
