// GET /api/stats/overview: ingest and delivery health of what the key owns, for the console's
// overview charts. Scopes webhooks:manage and events:read, declared in the contract.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { getStatsOverview } from '../../../generated/operations.ts'
import { statsOverview } from '../../../lib/stats/delivery-health.ts'

const overview: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.route({
    ...getStatsOverview,
    handler: async (request) => await statsOverview(request.em, request.caller, request.query.window ?? '1h')
  })
}

export default overview
