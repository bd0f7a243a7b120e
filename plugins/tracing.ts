// OpenTelemetry traces when OTEL_EXPORTER_OTLP_ENDPOINT is set (lib/tracing): `fastify.tracing`,
// null when it is not (and then no OpenTelemetry SDK is loaded). Registered first of the
// plugins: @fastify/otel wraps the hooks and routes added after it. Its onClose runs late (hooks
// close in reverse), once the ingest batches and delivery attempts have ended their spans.
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { startTracing, type Tracing } from '../lib/tracing/index.ts'

declare module 'fastify' {
  interface FastifyInstance {
    tracing: Tracing | null
  }
}

/** The probes and the scrape: frequent, and nothing to see in a trace. */
const untraced = new Set(['/health', '/ready', '/metrics'])

async function tracingPlugin (fastify: FastifyInstance): Promise<void> {
  const tracing = await startTracing(fastify.config.otlpEndpoint, { serviceName: 'loop', ignorePaths: untraced })
  fastify.decorate('tracing', tracing)
  if (tracing === null) return
  await fastify.register(tracing.fastifyPlugin)
  fastify.addHook('onClose', async () => { await tracing.shutdown() })
  // The collector's origin only: a user:password in the URL, or a token in its query, stays out of the log.
  fastify.log.info({ collector: new URL(fastify.config.otlpEndpoint ?? '').origin }, 'OpenTelemetry traces are exported')
}

export default fp(tracingPlugin, { name: 'loop-tracing', dependencies: ['loop-config'], fastify: '5.x' })
