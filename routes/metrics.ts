// GET /metrics (docs/operations.md#metrics): this instance's metrics in Prometheus' text format,
// from its own registry and the process's (lib/metrics/loop-metrics.ts). The contract asks for an
// admin key; with LOOP_METRICS_PUBLIC=true the route is added without that requirement, so no key
// is checked.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { getMetrics } from '../generated/operations.ts'

const metrics: FastifyPluginAsyncTypebox = async (fastify) => {
  const schema = fastify.config.metricsPublic ? { ...getMetrics.schema, security: [] } : getMetrics.schema
  fastify.route({
    ...getMetrics,
    schema,
    handler: async (_request, reply) => {
      const text = await fastify.metrics.exposition()
      // Text, not JSON: sent as it is, past the response serializer.
      return reply.type(fastify.metrics.contentType).send(text as never)
    }
  })
}

export default metrics
