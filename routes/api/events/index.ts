// Events in and out: POST /api/events (events:write), GET /api/events and /api/events/{id}
// (events:read), each within the caller's own brand and env (docs/tenancy.md).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { getEvent as getEventOp, listEvents as listEventsOp, sendEvent as sendEventOp } from '../../../generated/operations.ts'
import { sendEvent, type EventAccepted } from '../../../lib/events/send-event.ts'
import { getEvent, listEvents } from '../../../lib/events/queries.ts'

const events: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.route({
    ...sendEventOp,
    handler: async (request, reply) => {
      const body = await sendEvent(fastify.ingest.storeEvent, request.em, fastify.eventTypes, request.body, request.caller, request.idempotency)
      // The batch recorded the Idempotency-Key's answer with the event: nothing left for plugins/idempotency.ts to do.
      request.idempotency = null
      // Already JSON text, sent as is (Fastify does not serialize strings again), so it is exactly
      // what was recorded for replay; the cast only tells the type provider so.
      return await reply.code(200).type('application/json; charset=utf-8').send(body as unknown as EventAccepted)
    }
  })

  fastify.route({
    ...listEventsOp,
    handler: async (request) => {
      const { limit, iterator, ...filters } = request.query
      return await listEvents(request.em, request.caller, filters, { limit, iterator })
    }
  })

  fastify.route({
    ...getEventOp,
    handler: async (request) => await getEvent(request.em, request.caller, request.params.id)
  })
}

export default events
