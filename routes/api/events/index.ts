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
      const result = await sendEvent(request.em, fastify.eventTypes, request.body, request.caller, request.headers['idempotency-key'])
      if (result.replayed) reply.header('idempotent-replayed', 'true')
      // The body is already JSON text, sent as is (Fastify does not re-serialize strings), so a
      // replay is byte-for-byte the first response; the cast only tells the type provider so.
      return reply.code(200).type('application/json; charset=utf-8').send(result.body as unknown as EventAccepted)
    }
  })

  fastify.route({
    ...listEventsOp,
    handler: async (request) => await listEvents(request.em, request.caller, request.query)
  })

  fastify.route({
    ...getEventOp,
    handler: async (request) => await getEvent(request.em, request.caller, request.params.id)
  })
}

export default events
