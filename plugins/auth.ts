// Bearer API keys (SPEC section 6). A route asks for a key by declaring OpenAPI security
// (`security: [{ bearer: ['issues:read'] }]`, copied into its schema by `npm run generate`); only
// those routes get the guard: authenticate (401, or 429 after a burst of failures from one IP),
// rate-limit per key (429), check scopes (403), in that order so every authenticated response
// carries the X-RateLimit-* headers.
import fp from 'fastify-plugin'
import type { FastifyInstance, onRequestHookHandler } from 'fastify'
import { bearerToken, type Scope } from '../lib/keys/api-key.ts'
import { authenticateKey, ensureAdminKey, touchKey, type AuthenticatedKey } from '../lib/keys/key-service.ts'
import { assertScopes, bearerRequirement } from '../lib/keys/route-security.ts'

declare module 'fastify' {
  interface FastifyRequest {
    /** The key that authenticated this request; set on every route declaring bearer security, null elsewhere. */
    apiKey: AuthenticatedKey | null
  }
}

/** lastUsedAt is kept to the minute: one write per key per minute, not one per request. */
const TOUCH_EVERY_MS = 60_000

async function bootstrapAdminKey (fastify: FastifyInstance, secret: string): Promise<void> {
  const { id, revoked } = await ensureAdminKey(fastify.orm.em.fork(), secret)
  if (revoked) fastify.log.warn({ keyId: id }, 'LOOP_ADMIN_KEY was revoked through the API; it stays revoked')
  else fastify.log.info({ keyId: id }, 'admin key from LOOP_ADMIN_KEY is ready')
}

async function authPlugin (fastify: FastifyInstance): Promise<void> {
  fastify.decorateRequest('apiKey', null)
  if (fastify.config.adminKey !== undefined) await bootstrapAdminKey(fastify, fastify.config.adminKey)

  // Recording use never delays a response. `lastTouch` only saves writes within this process;
  // the conditional UPDATE keeps instances to one write per minute between them.
  const lastTouch = new Map<string, number>()
  const inFlight = new Set<Promise<void>>()
  const recordUse = (key: AuthenticatedKey, now: number) => {
    const last = Math.max(key.lastUsedAt?.getTime() ?? 0, lastTouch.get(key.id) ?? 0)
    if (now - last < TOUCH_EVERY_MS) return
    lastTouch.set(key.id, now)
    const write = touchKey(fastify.orm.em.fork(), key.id, new Date(now), TOUCH_EVERY_MS)
      .catch((error: unknown) => fastify.log.warn({ err: error, keyId: key.id }, 'could not record key use'))
      .finally(() => inFlight.delete(write))
    inFlight.add(write)
  }
  fastify.addHook('onClose', async () => { await Promise.all(inFlight) })

  const guard = (alternatives: Scope[][]): onRequestHookHandler => async (request, reply) => {
    // Failed guesses are limited per IP (429); a valid key goes straight through.
    const key = await fastify.limitAuthFailures(request, async () => await authenticateKey(request.em, bearerToken(request.headers.authorization)))
    request.apiKey = key
    recordUse(key, Date.now())
    await fastify.limitApiKey(request, reply)
    assertScopes(key.scopes, alternatives)
  }

  fastify.addHook('onRoute', (route) => {
    const alternatives = bearerRequirement((route.schema as { security?: unknown } | undefined)?.security)
    if (alternatives === null) return
    // First of the route's own hooks: nothing route-specific runs for an unauthenticated caller.
    route.onRequest = [guard(alternatives), ...(route.onRequest === undefined ? [] : [route.onRequest].flat())]
  })
}

export default fp(authPlugin, { name: 'loop-auth', dependencies: ['loop-config', 'loop-errors', 'loop-database', 'loop-rate-limit'], fastify: '5.x' })
