// GET /api/webhooks/{id}/stats: one endpoint's success rate, latency and attempts histogram, for
// the console's endpoint charts. Scope webhooks:manage, declared in the contract.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { getWebhookStats } from '../../../generated/operations.ts'
import { webhookStats } from '../../../lib/stats/delivery-health.ts'

const stats: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.route({
    ...getWebhookStats,
    handler: async (request) => await webhookStats(request.em, request.caller, request.params.id, request.query.window ?? '1h')
  })
}

export default stats
