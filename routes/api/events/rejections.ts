// Rejected inbound deliveries of the caller's own routes: GET /api/events/rejections
// (events:read), replay (events:write).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { listEventRejections, replayEventRejection } from '../../../generated/operations.ts'
import { listRejections } from '../../../lib/inbound/rejections.ts'
import { replayRejection } from '../../../lib/inbound/receive.ts'

const rejections: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.route({
    ...listEventRejections,
    handler: async (request) => {
      const { limit, iterator, ...filters } = request.query
      return await listRejections(request.em, request.caller, filters, { limit, iterator })
    }
  })

  fastify.route({
    ...replayEventRejection,
    handler: async (request) => await replayRejection(fastify.ingest.storeEvent, request.em, fastify.eventTypes, request.caller, request.params.id)
  })
}

export default rejections
