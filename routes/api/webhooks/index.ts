// Webhook endpoints: /api/webhooks (register, list), /api/webhooks/{id} (read, change, delete),
// /api/webhooks/{id}/rotate-secret. Scope webhooks:manage, declared in the contract.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { createWebhook, deleteWebhook, getWebhook, listWebhooks, rotateWebhookSecret, updateWebhook } from '../../../generated/operations.ts'
import { createEndpoint, deleteEndpoint, getEndpoint, listEndpoints, rotateSecret, updateEndpoint } from '../../../lib/outbound/endpoints.ts'

const webhooks: FastifyPluginAsyncTypebox = async (fastify) => {
  const policy = { allowPrivateUrls: fastify.config.allowPrivateUrls }

  fastify.route({
    ...createWebhook,
    handler: async (request, reply) => reply.code(201).send(await createEndpoint(request.em, request.body, request.caller, policy))
  })

  fastify.route({
    ...listWebhooks,
    handler: async (request) => await listEndpoints(request.em, request.caller, request.query)
  })

  fastify.route({
    ...getWebhook,
    handler: async (request) => await getEndpoint(request.em, request.params.id, request.caller)
  })

  fastify.route({
    ...updateWebhook,
    handler: async (request) => await updateEndpoint(request.em, request.params.id, request.body, request.caller, policy)
  })

  fastify.route({
    ...deleteWebhook,
    handler: async (request, reply) => {
      await deleteEndpoint(request.em, request.params.id, request.caller)
      return reply.code(204).send(null)
    }
  })

  fastify.route({
    ...rotateWebhookSecret,
    handler: async (request) => await rotateSecret(request.em, request.params.id, request.caller)
  })
}

export default webhooks
