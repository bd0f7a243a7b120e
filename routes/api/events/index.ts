// Events in and out: POST /api/events (events:write), GET /api/events and /api/events/{id} (events:read).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { getEvent as getEventOp, listEvents as listEventsOp, sendEvent as sendEventOp } from '../../../generated/operations.ts'
import { sendEvent, type EventAccepted } from '../../../lib/events/send-event.ts'
import { getEvent, listEvents } from '../../../lib/events/queries.ts'
import { unauthorized } from '../../../lib/errors.ts'

const events: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.route({
    ...sendEventOp,
    handler: async (request, reply) => {
      const key = request.apiKey
      if (key === null) throw unauthorized('Missing API key')
      const result = await sendEvent(request.em, fastify.eventTypes, request.body, { keyId: key.id, brandId: key.brandId, env: key.env }, request.headers['idempotency-key'])
      if (result.replayed) reply.header('idempotent-replayed', 'true')
      // The body is already JSON text, sent as is (Fastify does not re-serialize strings), so a
      // replay is byte-for-byte the first response; the cast only tells the type provider so.
      return reply.code(200).type('application/json; charset=utf-8').send(result.body as unknown as EventAccepted)
    }
  })

  fastify.route({
    ...listEventsOp,
    handler: async (request) => await listEvents(request.em, request.query, request.apiKey?.brandId ?? null)
  })

  fastify.route({
    ...getEventOp,
    handler: async (request) => await getEvent(request.em, request.params.id, request.apiKey?.brandId ?? null)
  })
}

export default events
