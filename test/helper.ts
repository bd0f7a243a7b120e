// Builds the whole Loop app on its own fresh database for a test, and closes it afterwards.
import type { FastifyInstance } from 'fastify'
import { buildApp, type BuildOptions } from '../app.ts'
import type { DeliveryWorkerPluginOptions } from '../plugins/delivery-worker.ts'
import { loadConfig, type Config } from '../lib/config.ts'
import { createBrand, createKey } from '../lib/keys/key-service.ts'
import type { KeyEnv, KeyTier, Scope } from '../lib/keys/api-key.ts'
import { createTestDatabase } from './database.ts'

export interface TestContext {
  teardown: (fn: () => unknown) => void
}

export const testSecrets = {
  GITHUB_WEBHOOK_SECRET: 'test-github-secret',
  SENTRY_CLIENT_SECRET: 'test-sentry-secret',
  POSTHOG_WEBHOOK_SECRET: 'test-posthog-secret'
}

export interface TestApp {
  app: FastifyInstance
  config: Config
  databaseUrl: string
}

/** A Loop on a fresh database; `env` overrides the test defaults (LOG_LEVEL silent, test secrets). */
export async function build (t: TestContext, env: Record<string, string | undefined> = {}, extend?: (app: FastifyInstance) => void): Promise<FastifyInstance> {
  return (await buildWithDetails(t, env, extend)).app
}

export interface BuildTestOptions {
  /** Build on this (another test app's) database instead of a fresh one; its owner drops it. */
  databaseUrl?: string
  /**
   * The delivery worker: off unless a test asks for it (true, or options that tune it), so apps
   * that never deliver do not poll the queue. Production runs one in every instance.
   */
  deliveryWorker?: boolean | DeliveryWorkerPluginOptions
  /** The retention job's timer: off unless a test asks for it; `app.retention.runOnce()` works either way. */
  retention?: boolean
  /** The rate limits' clock (BuildOptions.now): a test steps it instead of waiting for refills. */
  now?: BuildOptions['now']
  /** Receives every log line (LOG_LEVEL still applies; set it in `env`). */
  logStream?: BuildOptions['logStream']
  /** Report contract violations here instead of the suite's directory (a test of the check itself). */
  contractViolations?: BuildOptions['contractViolations']
}

/**
 * Like build, and also returns the config and database URL; `extend` may add test-only routes
 * before ready; `options.databaseUrl` builds a second instance on the same database.
 */
export async function buildWithDetails (t: TestContext, env: Record<string, string | undefined> = {}, extend?: (app: FastifyInstance) => void, options: BuildTestOptions = {}): Promise<TestApp> {
  const database = options.databaseUrl === undefined ? await createTestDatabase() : { url: options.databaseUrl, drop: async () => {} }
  const config = loadConfig({ LOG_LEVEL: 'silent', ...testSecrets, ...env, DATABASE_URL: database.url })
  let app: FastifyInstance | undefined
  try {
    const deliveryWorker = options.deliveryWorker === true ? {} : options.deliveryWorker ?? false
    app = await buildApp(config, { logStream: options.logStream, deliveryWorker, retention: options.retention === true ? {} : { scheduled: false }, contractViolations: options.contractViolations, now: options.now })
    extend?.(app)
    await app.ready()
  } catch (error) {
    // A test of a failing start must not leave a pool or a database behind.
    await app?.close().catch(() => {})
    await database.drop()
    throw error
  }
  const built = app
  t.teardown(async () => {
    await built.close()
    await database.drop()
  })
  return { app: built, config, databaseUrl: database.url }
}

/** A tap `match` pattern for the SPEC error envelope with the given code. */
export function envelope (code: string): { ok: false, error: { code: string, message: StringConstructor } } {
  return { ok: false, error: { code, message: String } }
}

export type { KeyEnv, KeyTier }

/**
 * Headers that authenticate as a fresh API key with `scopes` (default env `live`, tier
 * `standard`: 100 requests/s, bursts of 200), made for a fresh brand through the key service
 * (with `admin`, a brandless operator key instead).
 * This is the one seam tests use to call protected routes.
 */
export async function authHeaders (app: FastifyInstance, scopes: string[], options: { env?: KeyEnv, tier?: KeyTier } = {}): Promise<Record<string, string>> {
  // `admin` exists only on brandless keys: asking for it asks for the operator.
  if (scopes.includes('admin')) return await operatorHeaders(app, scopes, options)
  const { key } = await createBrand(app.orm.em.fork(), {
    name: `test brand ${scopes.join(' ')}`,
    key: { name: 'test key', env: options.env ?? 'live', tier: options.tier ?? 'standard', scopes: scopes as Scope[] }
  })
  return { authorization: `Bearer ${key.secret}` }
}

/**
 * Headers of a fresh brandless key: the operator, who sees every brand's rows of its env and
 * owns the provider signals and their issues (docs/tenancy.md).
 */
export async function operatorHeaders (app: FastifyInstance, scopes: string[], options: { env?: KeyEnv, tier?: KeyTier } = {}): Promise<Record<string, string>> {
  const key = await createKey(app.orm.em.fork(), { name: 'test operator key', env: options.env ?? 'live', tier: options.tier ?? 'standard', scopes: scopes as Scope[] })
  return { authorization: `Bearer ${key.secret}` }
}
