// `fastify.inboundRoutes`: the cache of declared inbound routes, kept fresh on every instance by
// LISTEN loop_inbound_routes (declarations NOTIFY in their transaction) on the shared listener
// (plugins/notifications.ts). If that connection drops, the cache is cleared and keeps nothing
// until it listens anew, so no change is missed; a read that overlaps an announcement is not kept.
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { InboundRouteCache, inboundRoutesChannel } from '../lib/inbound/route-cache.ts'

declare module 'fastify' {
  interface FastifyInstance {
    inboundRoutes: InboundRouteCache
  }
}

async function inboundRoutesPlugin (fastify: FastifyInstance): Promise<void> {
  const cache = new InboundRouteCache()
  await fastify.notifications.subscribe(inboundRoutesChannel, {
    message: (webhookPath) => cache.invalidate(webhookPath),
    lost: () => cache.suspend(),
    listening: () => cache.resume()
  })
  fastify.decorate('inboundRoutes', cache)
}

export default fp(inboundRoutesPlugin, { name: 'loop-inbound-routes', dependencies: ['loop-database', 'loop-notifications'], fastify: '5.x' })
