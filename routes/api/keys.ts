// /api/keys: create, list and revoke API keys (admin, so the operator), each within the caller's
// env (docs/tenancy.md). Secrets leave Loop only in the 201.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { createKey as createKeyOp, listKeys as listKeysOp, revokeKey as revokeKeyOp } from '../../generated/operations.ts'
import { createKey, listKeys, revokeKey } from '../../lib/keys/key-service.ts'

const keys: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.route({
    ...createKeyOp,
    handler: async (request, reply) => {
      const key = await createKey(request.em, request.body, request.caller)
      return reply.code(201).send(key)
    }
  })

  fastify.route({
    ...listKeysOp,
    handler: async (request) => {
      const { limit, iterator, ...filters } = request.query
      return await listKeys(request.em, request.caller.env, filters, { limit, iterator })
    }
  })

  fastify.route({
    ...revokeKeyOp,
    handler: async (request, reply) => {
      await revokeKey(request.em, request.params.id, request.caller.env, fastify.keyCache)
      return await reply.code(204).send(null)
    }
  })
}

export default keys
