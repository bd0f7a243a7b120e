// GET /api/signals and /api/signals/{id}: what providers sent, for people and agents (scope
// signals:read, declared in openapi/loop.yaml). The webhook receivers live beside this file.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import * as ops from '../../../generated/operations.ts'
import { getSignal } from '../../../lib/signals/get-signal.ts'
import { listSignals } from '../../../lib/signals/list-signals.ts'
import { toSignalResource } from '../../../lib/signals/signal-resource.ts'

const defaultLimit = 50

const signals: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.route({
    ...ops.listSignals,
    handler: async (request) => {
      const page = await listSignals(request.em, request.caller, { ...request.query, limit: request.query.limit ?? defaultLimit })
      return {
        ok: true as const,
        signals: page.signals.map(({ signal, issueId }) => toSignalResource(signal, issueId, { payload: false })),
        nextCursor: page.nextCursor
      }
    }
  })

  fastify.route({
    ...ops.getSignal,
    handler: async (request) => {
      const { signal, issueId } = await getSignal(request.em, request.caller, request.params.id)
      return { ok: true as const, signal: toSignalResource(signal, issueId, { payload: true }) }
    }
  })
}

export default signals
