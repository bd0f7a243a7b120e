// The OpenTelemetry side of lib/tracing, imported only when tracing is on. Each app gets its own
// tracer provider (tests build several apps in one process); the context manager, which carries
// the current span across awaits, and the W3C propagator, which reads an incoming `traceparent`,
// are the process's and are installed once.
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Link, type Span } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node'
import { FastifyOtelInstrumentation } from '@fastify/otel'
import type { FastifyPluginCallback } from 'fastify'
import { attemptOutcome } from '../outbound/attempt-observer.ts'
import { tracesUrl, type Tracing, type TracingOptions } from './index.ts'

let installed = false

function installGlobals (): void {
  if (installed) return
  installed = true
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  propagation.setGlobalPropagator(new W3CTraceContextPropagator())
}

/** The context a delivery was queued in (its stored traceparent), so each attempt is a child of that span; a fresh trace without one. */
function queuedIn (traceParent: string | null): Context {
  return traceParent === null ? ROOT_CONTEXT : propagation.extract(ROOT_CONTEXT, { traceparent: traceParent })
}

export function createTracing (options: TracingOptions): Tracing {
  installGlobals()
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: tracesUrl(options.endpoint) }))]
  })
  const tracer = provider.getTracer('loop')
  const instrumentation = new FastifyOtelInstrumentation({ ignorePaths: ({ url }) => options.ignorePaths.has(url.split('?')[0] ?? url) })
  instrumentation.setTracerProvider(provider)

  return {
    fastifyPlugin: instrumentation.plugin() as FastifyPluginCallback,
    batchObserver: <T extends object>(writer: 'signals' | 'events') => {
      // Each item's context as its request submitted it; an item is written once and then dropped.
      const submittedIn = new WeakMap<T, Context>()
      // Each batch's span, for its writer to run in (within), so the deliveries it queues carry it.
      const batchSpans = new WeakMap<readonly T[], Span>()
      return {
        submitted: (item: T) => { submittedIn.set(item, context.active()) },
        writing: (items: readonly T[], waitedMs: number) => {
          const parent = (items[0] === undefined ? undefined : submittedIn.get(items[0])) ?? ROOT_CONTEXT
          const links: Link[] = []
          for (const item of items.slice(1)) {
            const linked = trace.getSpanContext(submittedIn.get(item) ?? ROOT_CONTEXT)
            if (linked !== undefined) links.push({ context: linked })
          }
          const span = tracer.startSpan('ingest batch commit', {
            kind: SpanKind.INTERNAL,
            links,
            attributes: { 'loop.batch.writer': writer, 'loop.batch.size': items.length, 'loop.batch.wait_ms': waitedMs }
          }, parent)
          batchSpans.set(items, span)
          return (failed: boolean) => {
            if (failed) span.setStatus({ code: SpanStatusCode.ERROR, message: 'the batch could not be written' })
            span.end()
          }
        },
        within: async <X>(items: readonly T[], write: () => Promise<X>): Promise<X> => {
          const span = batchSpans.get(items)
          return span === undefined ? await write() : await context.with(trace.setSpan(context.active(), span), write)
        }
      }
    },
    attemptObserver: {
      attempted: (delivery, result, recorded, attemptedAt) => {
        const outcome = attemptOutcome(recorded)
        const span = tracer.startSpan('webhook delivery attempt', {
          kind: SpanKind.CLIENT,
          startTime: attemptedAt,
          // The URL is left out, as from the logs: a query string can carry the receiver's token.
          attributes: {
            'webhook.id': delivery.messageId,
            'webhook.event_type': delivery.eventType,
            'loop.delivery.attempt': delivery.attempt,
            'loop.delivery.outcome': outcome,
            'loop.delivery.latency_ms': result.latencyMs,
            ...(result.statusCode === null ? {} : { 'http.response.status_code': result.statusCode })
          }
        }, queuedIn(delivery.traceParent))
        if (outcome !== 'succeeded') span.setStatus({ code: SpanStatusCode.ERROR, message: result.error ?? `status ${String(result.statusCode)}` })
        span.end()
      }
    },
    flush: async () => { await provider.forceFlush() },
    shutdown: async () => { await provider.shutdown() }
  }
}
