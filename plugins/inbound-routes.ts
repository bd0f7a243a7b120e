// `fastify.inboundRoutes`: the cache of declared inbound routes, kept fresh on every instance by
// LISTEN loop_inbound_routes (declarations NOTIFY in their transaction). If the listening
// connection drops, the cache is cleared and the connection re-made, so no change is missed.
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import pg from 'pg'
import { InboundRouteCache, inboundRoutesChannel } from '../lib/inbound/route-cache.ts'

declare module 'fastify' {
  interface FastifyInstance {
    inboundRoutes: InboundRouteCache
  }
}

async function inboundRoutesPlugin (fastify: FastifyInstance): Promise<void> {
  const cache = new InboundRouteCache()
  let client: pg.Client | null = null
  let closing = false
  let retry: NodeJS.Timeout | undefined

  const listen = async (): Promise<void> => {
    const next = new pg.Client({ connectionString: fastify.databaseUrl })
    next.on('notification', (message) => {
      if (message.channel === inboundRoutesChannel && message.payload !== undefined) cache.invalidate(message.payload)
    })
    next.on('error', (err) => {
      fastify.log.warn({ err }, 'inbound route listener lost its connection; reconnecting')
      cache.clear()
      void next.end().catch(() => {})
      if (client === next) client = null
      if (!closing) retry = setTimeout(() => { void listen().catch(() => {}) }, 1000)
    })
    await next.connect()
    await next.query(`listen ${inboundRoutesChannel}`)
    // Anything declared while no connection listened may be cached stale; start afresh.
    cache.clear()
    client = next
  }

  await listen()
  fastify.decorate('inboundRoutes', cache)
  fastify.addHook('onClose', async () => {
    closing = true
    clearTimeout(retry)
    await client?.end().catch(() => {})
  })
}

export default fp(inboundRoutesPlugin, { name: 'loop-inbound-routes', dependencies: ['loop-database'], fastify: '5.x' })
