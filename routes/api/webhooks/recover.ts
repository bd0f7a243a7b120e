// Recovering a window: /api/webhooks/{id}/recover for one endpoint, /api/webhooks/recover for
// several (the console's Recover button). Scope webhooks:manage, declared in the contract.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { recoverWebhook, recoverWebhooks } from '../../../generated/operations.ts'
import { recoverEndpoint, recoverEndpoints } from '../../../lib/outbound/recovery.ts'

const recover: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.route({
    ...recoverWebhook,
    handler: async (request, reply) => reply.code(202).send(await recoverEndpoint(request.em, request.params.id, request.body, request.caller))
  })

  fastify.route({
    ...recoverWebhooks,
    handler: async (request, reply) => reply.code(202).send(await recoverEndpoints(request.em, request.body, request.caller))
  })
}

export default recover
