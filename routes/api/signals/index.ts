// GET /api/signals and /api/signals/{id}: what providers sent, for people and agents (scope
// signals:read, declared in openapi/loop.yaml). The webhook receivers live beside this file.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import * as ops from '../../../generated/operations.ts'
import { getSignal } from '../../../lib/signals/get-signal.ts'
import { listSignals } from '../../../lib/signals/list-signals.ts'
import { toSignalResource } from '../../../lib/signals/signal-resource.ts'

const signals: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.route({
    ...ops.listSignals,
    handler: async (request) => {
      const { limit, iterator, ...filters } = request.query
      return await listSignals(request.em, request.caller, filters, { limit, iterator })
    }
  })

  fastify.route({
    ...ops.getSignal,
    handler: async (request) => {
      const { signal, issueId } = await getSignal(request.em, request.caller, request.params.id)
      return toSignalResource(signal, issueId, { payload: true })
    }
  })
}

export default signals
