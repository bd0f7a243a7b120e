// events.declare over REST: POST /api/events/types (scope schemas:write).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { declareEventType } from '../../../generated/operations.ts'
import type { FieldSpecs } from '../../../lib/events/field-schema.ts'

const eventTypes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.route({
    ...declareEventType,
    handler: async (request, reply) => {
      const { created, type } = await fastify.eventTypes.declare(request.em, request.body.name, request.body.fields as FieldSpecs)
      return reply.code(created ? 201 : 200).send({
        ok: true,
        created,
        schema: { name: type.name, builtIn: type.builtIn, fields: type.fields, jsonSchema: type.jsonSchema }
      })
    }
  })
}

export default eventTypes
