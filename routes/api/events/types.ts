// events.declare over REST: POST /api/events/types (scope schemas:write), for the caller's brand.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { declareEventType as declareEventTypeOp } from '../../../generated/operations.ts'
import { declareEventType } from '../../../lib/events/declare.ts'

const eventTypes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.route({
    ...declareEventTypeOp,
    handler: async (request, reply) => {
      const { created, declared } = await declareEventType(request.em, fastify.eventTypes, request.body, request.caller)
      return reply.code(created ? 201 : 200).send(declared)
    }
  })
}

export default eventTypes
