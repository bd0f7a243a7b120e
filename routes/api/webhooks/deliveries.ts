// An endpoint's deliveries: the log, one delivery with its body, a manual retry, and a test message
// through the normal queue.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { getWebhookDelivery, listWebhookDeliveries, retryWebhookDelivery, testWebhook } from '../../../generated/operations.ts'
import { getDelivery, listDeliveries, retryDelivery, sendTestMessage } from '../../../lib/outbound/delivery-log.ts'

const deliveries: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.route({
    ...listWebhookDeliveries,
    handler: async (request) => {
      const { limit, iterator, ...filters } = request.query
      return await listDeliveries(request.em, request.params.id, request.caller, filters, { limit, iterator })
    }
  })

  fastify.route({
    ...getWebhookDelivery,
    handler: async (request) => await getDelivery(request.em, request.params.id, request.params.deliveryId, request.caller)
  })

  fastify.route({
    ...retryWebhookDelivery,
    handler: async (request, reply) => reply.code(202).send(await retryDelivery(request.em, request.params.id, request.params.deliveryId, request.caller))
  })

  fastify.route({
    ...testWebhook,
    handler: async (request, reply) => reply.code(202).send(await sendTestMessage(request.em, request.params.id, request.caller))
  })
}

export default deliveries
