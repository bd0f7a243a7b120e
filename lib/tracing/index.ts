// OpenTelemetry traces (docs/operations.md#traces), only when OTEL_EXPORTER_OTLP_ENDPOINT is set:
// then lib/tracing/sdk.ts, and with it the SDK, is imported; unset, no SDK, exporter or
// instrumentation is loaded (only the no-op API, which prom-client uses) and every hook is absent (the callers skip an undefined observer), so tracing
// off costs nothing. Spans: each request (@fastify/otel), each group-commit batch, parented on
// its first request and linked to the others, and each delivery attempt, with its `webhook-id`,
// a child of the span that queued its delivery (the batch, or the request) however much later.
import { context, propagation } from '@opentelemetry/api'
import type { FastifyPluginCallback } from 'fastify'
import type { BatchObserver } from '../ingest/group-commit.ts'
import type { AttemptObserver } from '../outbound/attempt-observer.ts'

export interface Tracing {
  /** @fastify/otel's plugin: registered before any route or hook, so that all of them are covered. */
  fastifyPlugin: FastifyPluginCallback
  /** A span per batch of this group commit, in the trace of the batch's first request. */
  batchObserver: <T extends object>(writer: 'signals' | 'events') => BatchObserver<T>
  /** A span per delivery attempt. */
  attemptObserver: AttemptObserver
  /** Sends every span ended so far. */
  flush: () => Promise<void>
  /** Flushes and stops exporting (the app's close). */
  shutdown: () => Promise<void>
}

export interface TracingOptions {
  /** OTEL_EXPORTER_OTLP_ENDPOINT: the collector's base URL; spans go to <endpoint>/v1/traces. */
  endpoint: string
  /** The resource's service.name. */
  serviceName: string
  /** Paths whose requests are not traced (the probes and the scrape). */
  ignorePaths: ReadonlySet<string>
}

/** The tracing for one app, or null (and nothing loaded) when no endpoint is set. */
export async function startTracing (endpoint: string | undefined, options: Omit<TracingOptions, 'endpoint'>): Promise<Tracing | null> {
  if (endpoint === undefined) return null
  const { createTracing } = await import('./sdk.ts')
  return createTracing({ ...options, endpoint })
}

/** OTLP/HTTP's rule for the base endpoint variable: the signal's path is appended to it. */
export function tracesUrl (endpoint: string): string {
  return `${endpoint.replace(/\/+$/, '')}/v1/traces`
}

/**
 * The W3C traceparent of the span current here (a request, a group-commit batch), which fan-out
 * stores with each delivery so its attempts join that trace; null when there is none, and always
 * when tracing is off (the API's no-op propagator writes nothing).
 */
export function currentTraceParent (): string | null {
  const carrier: { traceparent?: string } = {}
  propagation.inject(context.active(), carrier)
  return carrier.traceparent ?? null
}
