// Schema discovery (docs/events.md#schema-discovery): no key needed to read what a built-in event must look like;
// a brand's own declarations are shown to that brand's keys (and the operator's) only.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { getEventSchema, listEventSchemas } from '../../../generated/operations.ts'
import { notFound } from '../../../lib/errors.ts'
import { schemaView } from '../../../lib/events/declare.ts'

const eventSchemas: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.route({
    ...listEventSchemas,
    handler: async (request) => {
      const page = await fastify.eventTypes.list(request.em, request.optionalCaller, request.query)
      return { ...page, data: page.data.map(schemaView) }
    }
  })

  fastify.route({
    ...getEventSchema,
    handler: async (request) => {
      const caller = request.optionalCaller
      const type = await fastify.eventTypes.get(request.em, caller?.brandId ?? null, request.params.name)
      // Without a key only the built-in types are public.
      if (type === null || (caller === null && !type.builtIn)) throw notFound(`Event type ${request.params.name} is not declared`)
      return schemaView(type)
    }
  })
}

export default eventSchemas
