// Public schema discovery (SPEC section 7): no key needed to read what an event must look like.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { getEventSchema, listEventSchemas } from '../../../generated/operations.ts'
import { notFound } from '../../../lib/errors.ts'
import { schemaView } from '../../../lib/events/declare.ts'

const view = schemaView

const eventSchemas: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.route({
    ...listEventSchemas,
    handler: async (request) => ({ data: (await fastify.eventTypes.list(request.em)).map(view) })
  })

  fastify.route({
    ...getEventSchema,
    handler: async (request) => {
      const type = await fastify.eventTypes.get(request.em, request.params.name)
      if (type === null) throw notFound(`Event type ${request.params.name} is not declared`)
      return view(type)
    }
  })
}

export default eventSchemas
