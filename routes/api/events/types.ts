// events.declare over REST: POST /api/events/types (scope schemas:write).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { declareEventType as declareEventTypeOp } from '../../../generated/operations.ts'
import { declareEventType } from '../../../lib/events/declare.ts'
import { unauthorized } from '../../../lib/errors.ts'

const eventTypes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.route({
    ...declareEventTypeOp,
    handler: async (request, reply) => {
      const key = request.apiKey
      if (key === null) throw unauthorized('Missing API key')
      const declared = await declareEventType(request.em, fastify.eventTypes, request.body, { keyId: key.id, brandId: key.brandId, env: key.env })
      return reply.code(declared.created ? 201 : 200).send(declared)
    }
  })
}

export default eventTypes
