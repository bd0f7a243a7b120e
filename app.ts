// Builds the Loop application: app-wide plugins first, then the HTTP surface (routes/).
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { randomUUID } from 'node:crypto'
import type { Config } from './lib/config.ts'
import { loggerOptions } from './lib/logging.ts'
import { routeCompilers } from './lib/validation/route-compilers.ts'
import { componentSchemas } from './generated/schemas.ts'
import configPlugin from './plugins/config.ts'
import tracingPlugin from './plugins/tracing.ts'
import metricsPlugin from './plugins/metrics.ts'
import errorsPlugin, { clientErrorHandler, frameworkErrors } from './plugins/errors.ts'
import jsonBodyPlugin from './plugins/json-body.ts'
import securityHeadersPlugin from './plugins/security-headers.ts'
import databasePlugin from './plugins/database.ts'
import notificationsPlugin from './plugins/notifications.ts'
import rateLimitPlugin from './plugins/rate-limit.ts'
import authPlugin from './plugins/auth.ts'
import idempotencyPlugin from './plugins/idempotency.ts'
import docsPlugin from './plugins/docs.ts'
import conditionalGetPlugin from './plugins/conditional-get.ts'
import responseContractPlugin from './plugins/response-contract.ts'
import eventTypesPlugin from './plugins/event-types.ts'
import inboundRoutesPlugin from './plugins/inbound-routes.ts'
import ingestPlugin from './plugins/ingest.ts'
import deliveryWorkerPlugin, { type DeliveryWorkerPluginOptions } from './plugins/delivery-worker.ts'
import retentionPlugin, { type RetentionPluginOptions } from './plugins/retention.ts'
import healthRoutes from './routes/health.ts'
import metricsRoutes from './routes/metrics.ts'
import eventRoutes from './routes/api/events/index.ts'
import eventSchemaRoutes from './routes/api/events/schemas.ts'
import eventTypeRoutes from './routes/api/events/types.ts'
import eventRejectionRoutes from './routes/api/events/rejections.ts'
import shopifyWebhooks from './routes/webhooks/shopify.ts'
import bigcommerceWebhooks from './routes/webhooks/bigcommerce.ts'
import typeformWebhooks from './routes/webhooks/typeform.ts'
import calendlyWebhooks from './routes/webhooks/calendly.ts'
import customWebhooks from './routes/webhooks/custom.ts'
import webhookRoutes from './routes/api/webhooks/index.ts'
import webhookDeliveryRoutes from './routes/api/webhooks/deliveries.ts'
import webhookRecoveryRoutes from './routes/api/webhooks/recover.ts'
import webhookStatsRoutes from './routes/api/webhooks/stats.ts'
import statsOverviewRoutes from './routes/api/stats/overview.ts'
import githubSignals from './routes/api/signals/github.ts'
import sentrySignals from './routes/api/signals/sentry.ts'
import posthogSignals from './routes/api/signals/posthog.ts'
import signalRoutes from './routes/api/signals/index.ts'
import issueRoutes from './routes/api/issues.ts'
import brandRoutes from './routes/api/brands.ts'
import keyRoutes from './routes/api/keys.ts'
import mcpRoutes from './routes/mcp.ts'
import adminRoutes from './routes/admin.ts'

export interface BuildOptions {
  logger?: FastifyServerOptions['logger']
  /** The outbound delivery worker: on by default; false leaves deliveries queued (tests, API-only instances). */
  deliveryWorker?: DeliveryWorkerPluginOptions | false
  /** The retention job (plugins/retention.ts): on by default; false leaves pruning to other instances (tests). */
  retention?: RetentionPluginOptions | false
  /** Where log lines go instead of stdout, with Loop's own log options (level, redaction); tests read it. */
  logStream?: { write: (line: string) => void }
  /**
   * Test mode: check every response against the contract and report departures as JSON lines in
   * this directory (plugins/response-contract.ts). Defaults to LOOP_CONTRACT_VIOLATIONS, which
   * test/run.ts sets for the whole suite, so every app a test builds is checked.
   */
  contractViolations?: string
  /** The clock the rate limits read, in ms since the epoch: Date.now unless a test steps its own. */
  now?: () => number
}

function trustHops (hops: number) {
  return (_address: string, hop: number) => hop < hops
}

export async function buildApp (config: Config, options: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? (options.logStream === undefined ? loggerOptions(config) : { ...loggerOptions(config), stream: options.logStream }),
    bodyLimit: config.bodyLimit,
    // No client holds a socket for ever (docs/operations.md#guarantees): a request must arrive whole within
    // requestTimeout (408 envelope, plugins/errors.ts), and a silent socket is closed.
    requestTimeout: config.timeouts.requestMs,
    connectionTimeout: config.timeouts.connectionMs,
    // Node checks request deadlines on a timer, every 30 s by default, which would let a request
    // outlive its timeout by that much: a tenth of the timeout, at most 1 s, instead. Node also
    // skips requestTimeout while headersTimeout (60 s unless told) is the longer one, which is what
    // Fastify leaves when it sets requestTimeout after creating the server: both are given here.
    http: {
      requestTimeout: config.timeouts.requestMs,
      headersTimeout: config.timeouts.requestMs,
      connectionsCheckingInterval: Math.min(1000, Math.ceil(config.timeouts.requestMs / 10))
    },
    // A hop count is "trust the nearest n proxies", which Fastify's typings only take as a function.
    trustProxy: typeof config.trustProxy === 'number' ? trustHops(config.trustProxy) : config.trustProxy,
    genReqId: () => randomUUID(),
    forceCloseConnections: 'idle',
    clientErrorHandler,
    frameworkErrors,
    routerOptions: { ignoreTrailingSlash: true },
    schemaController: { compilersFactory: routeCompilers }
  }).withTypeProvider<TypeBoxTypeProvider>()

  // JSON is the only body Loop accepts; anything else is 415 rather than a string handed to a route.
  app.removeContentTypeParser('text/plain')

  // Each component schema once, under its $id: the route schemas refer to them (`{ $ref: 'Name#' }`),
  // and the validators and serializers (routeCompilers) resolve those references against these.
  for (const schema of componentSchemas) app.addSchema(schema)

  try {
    await registerPlugins(app, config, options)
  } catch (error) {
    // A start that fails part-way (a migration, the admin key's bootstrap, …) still runs the
    // onClose hooks of what did start: the pool closes and an embedded PostgreSQL stops.
    await app.close().catch(() => {})
    throw error
  }
  return app
}

async function registerPlugins (app: FastifyInstance, config: Config, options: BuildOptions): Promise<void> {
  await app.register(configPlugin, { config })
  // First after the config: the request spans cover every hook and route registered after it.
  await app.register(tracingPlugin)
  await app.register(errorsPlugin)
  // Before the rate limits, ingestion and the delivery worker, which count into it.
  await app.register(metricsPlugin)
  // First of the hooks, so that every answer carries the headers, a 401 or a 404 as much as a page.
  await app.register(securityHeadersPlugin)
  // Before any route: every JSON body, the provider receivers' and /mcp's included, parses here.
  await app.register(jsonBodyPlugin)
  // Before the database: a REDIS_URL that cannot connect fails the start before anything runs.
  // Both this and auth come before any route: they read each route's security as it is added.
  await app.register(rateLimitPlugin, { now: options.now ?? Date.now })
  await app.register(databasePlugin)
  await app.register(notificationsPlugin)
  await app.register(authPlugin)
  await app.register(idempotencyPlugin)
  await app.register(docsPlugin)
  await app.register(conditionalGetPlugin)
  // After conditional-get (it sees the body as sent) and before any route (hooks reach routes
  // registered after them).
  const contractViolations = options.contractViolations ?? process.env.LOOP_CONTRACT_VIOLATIONS
  if (contractViolations !== undefined && contractViolations !== '') await app.register(responseContractPlugin, { directory: contractViolations })
  await app.register(eventTypesPlugin)
  await app.register(inboundRoutesPlugin)
  await app.register(ingestPlugin)
  await app.register(deliveryWorkerPlugin, options.deliveryWorker === false ? { enabled: false } : options.deliveryWorker ?? {})
  await app.register(retentionPlugin, options.retention === false ? { enabled: false } : options.retention ?? {})

  await app.register(healthRoutes)
  await app.register(metricsRoutes)
  await app.register(eventRoutes)
  await app.register(eventSchemaRoutes)
  await app.register(eventTypeRoutes)
  await app.register(eventRejectionRoutes)

  // Inbound webhook sources: one encapsulated plugin each (routes/webhooks/).
  await app.register(shopifyWebhooks)
  await app.register(bigcommerceWebhooks)
  await app.register(typeformWebhooks)
  await app.register(calendlyWebhooks)
  await app.register(customWebhooks)
  await app.register(webhookRoutes)
  await app.register(webhookDeliveryRoutes)
  await app.register(webhookRecoveryRoutes)
  await app.register(webhookStatsRoutes)
  await app.register(statsOverviewRoutes)
  await app.register(githubSignals)
  await app.register(sentrySignals)
  await app.register(posthogSignals)
  await app.register(signalRoutes)
  await app.register(issueRoutes)
  await app.register(brandRoutes)
  await app.register(keyRoutes)
  await app.register(mcpRoutes)
  // The admin console: static UI over the public API, like /docs not part of the API itself.
  await app.register(adminRoutes)
}
